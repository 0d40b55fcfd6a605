import type { ConformanceReport, RequirementResult } from './grade';
import { PROFILES, type Profile } from './requirement';

/** The JUnit and HTML renderings of a report; both read the same result list as the JSON report. */
const xml = (value: string) =>
  value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
const html = xml;

function evidenceText(r: RequirementResult): string {
  const parts = [
    r.evidence.requests.length ? `requests: ${r.evidence.requests.join(', ')}` : '',
    r.evidence.expected ? `expected: ${r.evidence.expected}` : '',
    r.evidence.seen ? `seen: ${r.evidence.seen}` : '',
  ];
  return parts.filter(Boolean).join('\n');
}

/** JUnit XML: a testsuite per profile of the session, a testcase per requirement (omitted ones left out). */
export function junitReport(report: ConformanceReport): string {
  const suites = PROFILES.filter((p) => report.session.profiles.includes(p)).map((profile: Profile) => {
    const cases = report.results.filter((r) => r.profiles.includes(profile) && r.status !== 'omit');
    const count = (s: string[]) => cases.filter((r) => s.includes(r.status)).length;
    const body = cases
      .map((r) => {
        const properties = `<properties><property name="requirement" value="${xml(r.requirement)}"/><property name="level" value="${r.level}"/><property name="source" value="${xml(r.sourceUrl)}"/>${r.upstreamId ? `<property name="upstreamId" value="${xml(r.upstreamId)}"/>` : ''}<property name="status" value="${r.status}"/></properties>`;
        const outcome =
          r.status === 'fail'
            ? `<failure message="${xml(r.message)}" type="required">${xml(evidenceText(r))}</failure>`
            : r.status === 'error'
              ? `<error message="${xml(r.message)}">${xml(evidenceText(r))}</error>`
              : r.status === 'skip'
                ? `<skipped message="${xml(r.message)}"/>`
                : r.status === 'warning'
                  ? `<system-out>${xml(`warning (recommended): ${r.message}\n${evidenceText(r)}`)}</system-out>`
                  : '';
        return `    <testcase classname="navet.${profile}" name="${xml(`${r.requirement} ${r.title}`)}">${properties}${outcome}</testcase>`;
      })
      .join('\n');
    return `  <testsuite name="${profile}" tests="${cases.length}" failures="${count(['fail'])}" errors="${count(['error'])}" skipped="${count(['skip'])}" timestamp="${xml(report.session.finishedAt ?? report.session.createdAt)}">\n${body}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="Navet conformance ${xml(report.session.id)}" tests="${report.results.filter((r) => r.status !== 'omit').length}" failures="${report.counts.fail}" errors="${report.counts.error}">\n${suites.join('\n')}\n</testsuites>\n`;
}

const STATUS_COLOURS: Record<string, string> = {
  pass: '#1b7f3b',
  fail: '#b3261e',
  warning: '#9a6700',
  skip: '#57606a',
  omit: '#8c959f',
  error: '#8250df',
};

/** A page for a person: system, profiles, date, a verdict per requirement with its evidence, counts. */
export function htmlReport(report: ConformanceReport): string {
  const rows = report.results
    .filter((r) => r.status !== 'omit')
    .map(
      (r) =>
        `<tr><td><code>${html(r.requirement)}</code><br>${html(r.title)}</td><td>${r.level}</td><td style="color:${STATUS_COLOURS[r.status]};font-weight:bold">${r.status}</td><td>${html(r.message)}${evidenceText(r) ? `<pre>${html(evidenceText(r))}</pre>` : ''}</td><td><a href="${html(r.sourceUrl)}">${html(r.upstreamId ?? 'source')}</a></td></tr>`,
    )
    .join('\n');
  const counts = Object.entries(report.counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(' · ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Navet conformance report ${html(report.session.id)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:80rem}table{border-collapse:collapse;width:100%}td,th{border:1px solid #d0d7de;padding:.4rem;vertical-align:top;text-align:left}pre{white-space:pre-wrap;margin:.3rem 0 0;font-size:.85em}.notice{background:#fff8c5;border:1px solid #d4a72c;padding:.8rem}</style></head>
<body>
<h1>Navet conformance report</h1>
<p class="notice"><strong>Not an approval by Norsk helsenett.</strong> ${html(report.notice)}</p>
<dl><dt>System (client)</dt><dd>${html(report.session.clientId)}${report.session.label ? ` — ${html(report.session.label)}` : ''}</dd>
<dt>Sandbox</dt><dd>${html(report.session.sandbox)}</dd>
<dt>Profiles</dt><dd>${report.session.profiles.map(html).join(', ')}</dd>
<dt>Recorded</dt><dd>${html(report.session.createdAt)} – ${html(report.session.finishedAt ?? '')} (${report.session.requests} requests)</dd>
<dt>Verdict</dt><dd><strong>${report.verdict}</strong> (${counts})</dd></dl>
<table><thead><tr><th>Requirement</th><th>Level</th><th>Result</th><th>Evidence</th><th>Source</th></tr></thead><tbody>
${rows}
</tbody></table>
</body></html>
`;
}
