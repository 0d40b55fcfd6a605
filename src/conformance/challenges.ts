import type { NavetErrorCode } from '../codes/error-codes';
import express, { type Request, type Response } from 'express';
import { randomBytes, randomInt } from 'node:crypto';
import { operationOutcome } from '../fhir/operation-outcome';
import { sendFhir } from '../http/fhir-json';
import { REQUIREMENTS } from './requirement';

/**
 * Challenges: Navet behaves once as the real services sometimes do, and a grader looks at what the client
 * did next. Each names the requests it may be played on and how it is played: answered at once, or the
 * real answer with something changed.
 */
export interface ChallengeRequest {
  service: string;
  method: string;
  /** The path below the service. */
  path: string;
  scheme?: string;
  patientNin?: string;
}

export interface ChallengeDefinition {
  name: string;
  description: string;
  /** Plays on any API call (a nonce, an expired token, 503): a challenge for a particular request goes first. */
  generic?: true;
  matches(request: ChallengeRequest): boolean;
  /** Plays the challenge; returns what Navet sent, for the grader. `answered` means the request ends here. */
  play(req: Request, res: Response): Promise<{ answered: boolean; data: Record<string, unknown> }>;
}

/** A search the client wrote (a form POST to _search), not a next page it follows. */
const isSearch = (r: ChallengeRequest) =>
  r.method === 'POST' &&
  ((r.service === 'pjd' && r.path === '/R4/fhir/DocumentReference/_search') ||
    (r.service === 'pps' && /^\/(DiagnosticReport|Observation)\/_search$/.test(r.path)));
const isApi = (r: ChallengeRequest) => r.service !== 'helseid' && r.scheme !== undefined;

function answer(
  req: Request,
  res: Response,
  status: number,
  code: string,
  navetCode: NavetErrorCode,
  text: string,
  headers: Record<string, string>,
): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.locals.errorCode = navetCode;
  sendFhir(req, res, status, operationOutcome([{ severity: 'error', code, navetCode, text }]));
}

const parseJson = express.json({ limit: '10mb', type: ['application/fhir+json', 'application/json'] });
const parseForm = express.urlencoded({ extended: false, limit: '64kb' });
const parseBody = (req: Request, res: Response, parser: typeof parseJson) =>
  new Promise<void>((resolve, reject) => parser(req, res, (error?: unknown) => (error ? reject(error) : resolve())));

/** Changes a response header as the answer goes out (the service sets its own first). */
function overrideHeaders(res: Response, headers: Record<string, string>): void {
  const writeHead = res.writeHead.bind(res);
  res.writeHead = ((...args: Parameters<Response['writeHead']>) => {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    return writeHead(...args);
  }) as Response['writeHead'];
}

export const CHALLENGES: readonly ChallengeDefinition[] = [
  {
    name: 'dpop-nonce',
    generic: true,
    description: 'The next API call with a DPoP proof gets 401 use_dpop_nonce and a DPoP-Nonce header (RFC 9449 §9).',
    matches: (r) => isApi(r) && r.scheme === 'DPoP',
    play: async (req, res) => {
      const nonce = randomBytes(16).toString('base64url');
      answer(
        req,
        res,
        401,
        'login',
        'NAVET-CHALLENGE-DPOP-NONCE',
        "This API requires a DPoP nonce: retry with the DPoP-Nonce value in the proof's nonce claim",
        {
          'WWW-Authenticate':
            'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"',
          'DPoP-Nonce': nonce,
        },
      );
      return { answered: true, data: { nonce } };
    },
  },
  {
    name: 'expired-token',
    generic: true,
    description: 'The next API call gets 401 invalid_token: the access token has expired.',
    matches: isApi,
    play: async (req, res) => {
      const scheme = /^dpop/i.test(req.headers.authorization ?? '') ? 'DPoP' : 'Bearer';
      answer(
        req,
        res,
        401,
        'login',
        'NAVET-TOKEN-EXPIRED',
        'The access token has expired (by the sandbox clock); get a new one',
        { 'WWW-Authenticate': `${scheme} error="invalid_token", error_description="The access token has expired"` },
      );
      return { answered: true, data: {} };
    },
  },
  {
    name: 'pll-conflict',
    description: 'The next $sendMedication is refused with 409: someone else reconciled the list meanwhile.',
    matches: (r) => r.service === 'sfm' && r.method === 'POST' && r.path === '/Patient/$sendMedication',
    play: async (req, res) => {
      await parseBody(req, res, parseJson); // the recording keeps the refused Bundle's hash
      answer(
        req,
        res,
        409,
        'conflict',
        'NAVET-SFM-PLL-CONFLICT',
        'The medication list changed after your $getMedication (another system reconciled it): read it again with $getMedication and build the send from that',
        {},
      );
      return { answered: true, data: {} };
    },
  },
  {
    name: 'service-unavailable',
    generic: true,
    description: 'The next API call gets 503 with Retry-After: 2.',
    matches: isApi,
    play: async (req, res) => {
      const seconds = 2;
      answer(
        req,
        res,
        503,
        'transient',
        'NAVET-CHALLENGE-UNAVAILABLE',
        `The service is unavailable for a moment: retry after ${seconds} seconds`,
        { 'Retry-After': String(seconds) },
      );
      return { answered: true, data: { retryAfterSeconds: seconds } };
    },
  },
  {
    name: 'kj-blocked',
    description: 'The next Kjernejournal read is refused with 403: the patient has blocked this health worker.',
    matches: (r) => r.service === 'critical-information' && r.method === 'GET' && r.patientNin !== undefined,
    play: async (req, res) => {
      answer(
        req,
        res,
        403,
        'forbidden',
        'NAVET-KJ-HPR-BLOCKED',
        'The patient has blocked this health worker from their Kjernejournal: nothing is shown, under any access basis',
        {},
      );
      return { answered: true, data: {} };
    },
  },
  {
    name: 'nors-hidden',
    description: 'The next PJD search says some documents are hidden by the patient (NHN-SecurityLabel-Nors-Count).',
    matches: (r) => r.service === 'pjd' && isSearch(r),
    play: async (_req, res) => {
      const count = randomInt(2, 10);
      overrideHeaders(res, {
        'NHN-SecurityLabel-Nors-Count': String(count),
        'Hit-SecurityLabel-Nors-Count': String(count),
      });
      return { answered: false, data: { norsCount: count } };
    },
  },
  {
    name: 'paging',
    description: 'The next PJD or PPS search answers one result per page, so that the client must follow next.',
    matches: isSearch,
    play: async (req, res) => {
      if (req.method === 'POST') {
        await parseBody(req, res, parseForm);
        if (req.body && typeof req.body === 'object') (req.body as Record<string, string>)._count = '1';
      }
      const url = new URL(req.url, 'http://navet.invalid');
      url.searchParams.set('_count', '1');
      req.url = `${url.pathname}${url.search}`;
      return { answered: false, data: { pageSize: 1 } };
    },
  },
];

export const challengeByName = (name: string): ChallengeDefinition | undefined =>
  CHALLENGES.find((c) => c.name === name);

/** The challenges that grade a requirement of one of the profiles (the others would only be omitted). */
export const challengesFor = (profiles: readonly string[]): ChallengeDefinition[] =>
  CHALLENGES.filter((c) =>
    REQUIREMENTS.some((r) => r.challenge?.name === c.name && r.profiles.some((p) => profiles.includes(p))),
  );

/** Every challenge is graded by requirements of the catalogue. */
for (const challenge of CHALLENGES) {
  if (!REQUIREMENTS.some((r) => r.challenge?.name === challenge.name))
    throw new Error(`challenge ${challenge.name} has no requirement`);
}
