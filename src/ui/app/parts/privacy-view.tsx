import type { PrivacyChoices } from './citizen-token';
import { when } from './ui';

function since(value: string | undefined): string {
  return value ? ` (since ${when(value)})` : '';
}

/** A citizen's privacy choices as a list. */
export function PrivacyView({ choices }: { choices: PrivacyChoices }) {
  return (
    <ul class="plain">
      <li>
        Reservation against Kjernejournal: <strong>{choices.kjernejournalReservation.reserved ? 'yes' : 'no'}</strong>
        {since(choices.kjernejournalReservation.since)}
      </li>
      <li>
        Kjernejournal restricted to emergency care:{' '}
        <strong>{choices.kjernejournalRestriction.restricted ? 'yes' : 'no'}</strong>
        {since(choices.kjernejournalRestriction.since)}
      </li>
      <li>
        Lab results blocked: <strong>{choices.labResults.blocked ? 'yes' : 'no'}</strong>
        {since(choices.labResults.since)}
      </li>
      <li>
        Blocked health workers:{' '}
        {choices.blockedPractitioners.length === 0
          ? 'none'
          : choices.blockedPractitioners.map((p) => `${p.name ?? ''} HPR ${p.hprNumber}`).join(', ')}
      </li>
      <li>
        Blocked documents:{' '}
        {choices.blockedDocuments.length === 0 ? 'none' : choices.blockedDocuments.map((d) => d.documentId).join(', ')}
      </li>
      <li>
        Proxies:{' '}
        {choices.proxies.length === 0
          ? 'none'
          : choices.proxies.map((p) => `${p.proxyName ?? p.proxyNin} (${p.relationship})`).join(', ')}
      </li>
    </ul>
  );
}
