/**
 * The analyses the seed (and the examples) use: NLK-like codes (Norsk laboratoriekodeverk, Volven 7280,
 * NPU codes) with UCUM units and reference ranges, grouped in panels by discipline (Volven 8202). The
 * codes and displays are plausible, not checked against the current NLK release (unverified).
 */
export interface Analysis {
  code: string;
  display: string;
  unit: string;
  low?: number;
  high?: number;
  /** Typical value and spread for the generator. */
  mean: number;
  spread: number;
  decimals: number;
}

export interface Panel {
  /** Volven 8202 code of the discipline: the report's category and code. */
  discipline: 'LAB' | 'MBI' | 'PAT' | 'RAD';
  name: string;
  /** Volven 8351 specimen type (none for radiology). */
  specimen?: { code: string; display: string };
  analyses: Analysis[];
  /** Microbiology, pathology and radiology: a coded finding instead of quantities. */
  findings?: { code: string; display: string; results: string[] };
}

export const DISCIPLINES: Record<Panel['discipline'], string> = {
  LAB: 'Medisinsk biokjemi',
  MBI: 'Medisinsk mikrobiologi',
  PAT: 'Patologi',
  RAD: 'Radiologi',
};

const a = (
  code: string,
  display: string,
  unit: string,
  low: number | undefined,
  high: number | undefined,
  mean: number,
  spread: number,
  decimals = 1,
): Analysis => ({ code, display, unit, low, high, mean, spread, decimals });

export const PANELS: Panel[] = [
  {
    discipline: 'LAB',
    name: 'Blodstatus',
    specimen: { code: 'B', display: 'Blod' },
    analyses: [
      a('NPU02319', 'B—Hemoglobin; massekonsentrasjon', 'g/dL', 11.7, 17.0, 14, 1.8),
      a('NPU02593', 'B—Leukocytter; antallkonsentrasjon', '10*9/L', 3.5, 10.0, 7, 2.5),
      a('NPU03568', 'B—Trombocytter; antallkonsentrasjon', '10*9/L', 145, 390, 260, 70, 0),
    ],
  },
  {
    discipline: 'LAB',
    name: 'Nyrefunksjon og elektrolytter',
    specimen: { code: 'P', display: 'Plasma' },
    analyses: [
      a('NPU18016', 'P—Kreatinin; stoffkonsentrasjon', 'umol/L', 45, 105, 80, 18, 0),
      a('NPU03429', 'P—Natrium; stoffkonsentrasjon', 'mmol/L', 137, 145, 140, 3, 0),
      a('NPU03230', 'P—Kalium; stoffkonsentrasjon', 'mmol/L', 3.5, 4.4, 4, 0.4),
      a('NPU27994', 'Pt—Glomerulær filtrasjonsrate, estimert', 'mL/min/{1.73_m2}', 60, undefined, 85, 20, 0),
    ],
  },
  {
    discipline: 'LAB',
    name: 'Inflammasjon',
    specimen: { code: 'P', display: 'Plasma' },
    analyses: [a('NPU19748', 'P—C-reaktivt protein; massekonsentrasjon', 'mg/L', undefined, 5, 6, 8, 0)],
  },
  {
    discipline: 'LAB',
    name: 'Diabetes',
    specimen: { code: 'B', display: 'Blod' },
    analyses: [
      a('NPU27300', 'B—Hemoglobin A1c; stoffmengdefraksjon', 'mmol/mol', 20, 42, 42, 9, 0),
      a('NPU02192', 'P—Glukose; stoffkonsentrasjon', 'mmol/L', 4.0, 6.0, 5.6, 1.2),
    ],
  },
  {
    discipline: 'LAB',
    name: 'Lipider',
    specimen: { code: 'S', display: 'Serum' },
    analyses: [
      a('NPU01566', 'P—Kolesterol; stoffkonsentrasjon', 'mmol/L', 3.3, 6.9, 5.2, 1.1),
      a('NPU01568', 'P—LDL-kolesterol; stoffkonsentrasjon', 'mmol/L', 1.2, 4.3, 3.1, 0.9),
    ],
  },
  {
    discipline: 'LAB',
    name: 'Thyreoidea',
    specimen: { code: 'S', display: 'Serum' },
    analyses: [
      a('NPU03577', 'P—Thyrotropin; arb. stoffkonsentrasjon', 'm[IU]/L', 0.5, 4.1, 2, 1.2),
      a('NPU03579', 'P—Tyroksin, fritt; stoffkonsentrasjon', 'pmol/L', 12, 22, 16, 3, 0),
    ],
  },
  {
    discipline: 'MBI',
    name: 'Urindyrkning',
    specimen: { code: 'U', display: 'Urin' },
    analyses: [],
    findings: {
      code: 'NPU04052',
      display: 'U—Bakterie; dyrkning',
      results: ['Ingen vekst', 'Escherichia coli >10^5 CFU/mL', 'Blandingsflora, sannsynlig kontaminasjon'],
    },
  },
  {
    discipline: 'MBI',
    name: 'Luftveis-PCR',
    specimen: { code: 'NPS', display: 'Nasofarynkssekret' },
    analyses: [],
    findings: {
      code: 'NPU59123',
      display: 'Nph—SARS-CoV-2 og influensa; nukleinsyre',
      results: ['Ikke påvist', 'Influensa A påvist', 'SARS-CoV-2 påvist'],
    },
  },
  {
    discipline: 'PAT',
    name: 'Histologisk undersøkelse',
    specimen: { code: 'V', display: 'Vev' },
    analyses: [],
    findings: {
      code: 'PAT-HIST',
      display: 'Histologisk diagnose',
      results: ['Benign naevus, fritt fjernet', 'Seboreisk keratose', 'Kronisk gastritt uten atypi'],
    },
  },
  {
    discipline: 'RAD',
    name: 'Røntgen thorax',
    analyses: [],
    findings: {
      code: 'RAD-THX',
      display: 'Røntgen thorax, beskrivelse',
      results: ['Normale forhold', 'Lett fortetning basalt høyre, forenlig med pneumoni'],
    },
  },
];
