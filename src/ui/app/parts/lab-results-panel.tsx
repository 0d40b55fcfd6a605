import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { search } from '../api';
import { codeText, type DiagnosticReport, type Observation } from '../fhir-types';
import { Section, Shown, useLoad, when } from './ui';

interface Series {
  code: string;
  title: string;
  unit: string;
  points: { time: number; value: number; low?: number; high?: number }[];
}

/** Numeric results grouped by what was measured, oldest first. */
function seriesOf(observations: Observation[]): Series[] {
  const byCode = new Map<string, Series>();
  for (const o of observations) {
    const value = o.valueQuantity?.value;
    const time = Date.parse(o.effectiveDateTime ?? o.issued ?? '');
    if (typeof value !== 'number' || Number.isNaN(time)) continue;
    const code = o.code?.coding?.[0]?.code ?? codeText(o.code);
    const series = byCode.get(code) ?? {
      code,
      title: codeText(o.code),
      unit: o.valueQuantity?.unit ?? o.valueQuantity?.code ?? '',
      points: [],
    };
    const range = o.referenceRange?.[0];
    series.points.push({ time: time / 1000, value, low: range?.low?.value, high: range?.high?.value });
    byCode.set(code, series);
  }
  return [...byCode.values()]
    .map((s) => ({ ...s, points: s.points.sort((a, b) => a.time - b.time) }))
    .sort((a, b) => b.points.length - a.points.length);
}

/** A value over time with its reference range as a band (uPlot). */
function Plot({ series }: { series: Series }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    const p = series.points;
    const data: uPlot.AlignedData = [
      p.map((x) => x.time),
      p.map((x) => x.value),
      p.map((x) => x.low ?? null),
      p.map((x) => x.high ?? null),
    ];
    const plot = new uPlot(
      {
        width: Math.min(box.current.clientWidth || 640, 900),
        height: 260,
        title: `${series.title} (${series.unit})`,
        series: [
          {},
          {
            label: `${series.title} (${series.unit})`,
            stroke: '#1d4ed8',
            width: 2,
            points: { show: true, size: 8, fill: '#1d4ed8' },
          },
          { label: 'reference low', stroke: '#16a34a', dash: [6, 4], width: 1 },
          { label: 'reference high', stroke: '#16a34a', dash: [6, 4], width: 1 },
        ],
        bands: [{ series: [3, 2], fill: 'rgba(22, 163, 74, 0.12)' }],
        axes: [{}, { label: series.unit }],
      },
      data,
      box.current,
    );
    return () => plot.destroy();
  }, [series]);
  return (
    <div
      ref={box}
      class="plot"
      role="img"
      aria-label={`${series.title} over time: ${series.points.map((x) => `${new Date(x.time * 1000).toISOString().slice(0, 10)} ${x.value}`).join(', ')}`}
    />
  );
}

export function LabResultsPanel({ sandbox, nin }: { sandbox: string; nin: string }) {
  const results = useLoad(async () => {
    const [reports, observations] = await Promise.all([
      search<DiagnosticReport>(sandbox, `DiagnosticReport?patient:identifier=${nin}&_sort=-date&_count=100`),
      search<Observation>(sandbox, `Observation?patient:identifier=${nin}&_count=1000`),
    ]);
    return { reports, series: seriesOf(observations) };
  }, [sandbox, nin]);
  const [code, setCode] = useState<string>();
  return (
    <Section title="Lab results (PPS)">
      <Shown loaded={results}>
        {({ reports, series }) => {
          const shown = series.find((s) => s.code === code) ?? series[0];
          return (
            <>
              {reports.length === 0 ? (
                <p class="muted">No lab reports.</p>
              ) : (
                <table>
                  <thead>
                    <tr>
                      <th>Date</th>
                      <th>Report</th>
                      <th>Status</th>
                      <th>Results</th>
                      <th>Conclusion</th>
                    </tr>
                  </thead>
                  <tbody>
                    {reports.map((r) => (
                      <tr>
                        <td>{when(r.effectiveDateTime ?? r.issued)}</td>
                        <td>{codeText(r.code)}</td>
                        <td>{r.status}</td>
                        <td>{r.result?.length ?? 0}</td>
                        <td>{r.conclusion}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              {shown && (
                <>
                  <label>
                    Plot{' '}
                    <select value={shown.code} onChange={(e) => setCode(e.currentTarget.value)}>
                      {series.map((s) => (
                        <option value={s.code}>
                          {s.title} ({s.points.length})
                        </option>
                      ))}
                    </select>
                  </label>
                  <Plot series={shown} />
                </>
              )}
            </>
          );
        }}
      </Shown>
    </Section>
  );
}
