import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render } from 'preact';
import { useLayoutEffect, useState } from 'preact/hooks';
import { KEY_REJECTED } from './api';
import { keys } from './keys';
import { KeyForm } from './parts/key-form';
import { AccessLogPage } from './pages/access-log';
import { CitizenPage } from './pages/citizen';
import { ConformancePage } from './pages/conformance';
import { OverviewPage } from './pages/overview';
import { PatientPage, PatientsPage } from './pages/patients';
import { SandboxesPage } from './pages/sandboxes';
import { ScenariosPage } from './pages/scenarios';
import { SettingsPage } from './pages/settings';
import { href, type Route, useRoute } from './route';

const PAGES: { page: string; title: string }[] = [
  { page: 'overview', title: 'Overview' },
  { page: 'settings', title: 'Service settings' },
  { page: 'patients', title: 'Patients' },
  { page: 'access-log', title: 'Access log' },
  { page: 'citizen', title: 'Citizen' },
  { page: 'conformance', title: 'Conformance' },
  { page: 'scenarios', title: 'Scenarios' },
];

function SandboxPage({ route }: { route: Route & { sandbox: string } }) {
  const { sandbox, page, rest } = route;
  const [, setRound] = useState(0);
  useLayoutEffect(() => {
    const refused = () => setRound((r) => r + 1);
    window.addEventListener(KEY_REJECTED, refused);
    return () => window.removeEventListener(KEY_REJECTED, refused);
  }, [sandbox]);
  if (!keys.admin(sandbox)) {
    const label = `${keys.wasRefused(sandbox) ? 'That key was not accepted. ' : ''}Admin key of sandbox ${sandbox}`;
    return (
      <KeyForm
        label={label}
        onKey={(key) => {
          keys.setAdmin(sandbox, key);
          keys.accepted(sandbox);
          setRound((r) => r + 1);
        }}
      />
    );
  }
  switch (page) {
    case 'settings':
      return <SettingsPage sandbox={sandbox} />;
    case 'patients':
      return rest[0] ? <PatientPage sandbox={sandbox} nin={rest[0]} /> : <PatientsPage sandbox={sandbox} />;
    case 'access-log':
      return <AccessLogPage sandbox={sandbox} />;
    case 'citizen':
      return <CitizenPage sandbox={sandbox} nin={rest[0]} />;
    case 'conformance':
      return <ConformancePage sandbox={sandbox} sessionId={rest[0]} />;
    case 'scenarios':
      return <ScenariosPage sandbox={sandbox} />;
    default:
      return <OverviewPage sandbox={sandbox} />;
  }
}

function Dashboard() {
  const route = useRoute();
  const sandbox = route.sandbox;
  return (
    <>
      <header class="top">
        <a class="brand" href="#/">
          Navet
        </a>
        <span class="muted">sandbox of Norway's health-information sharing hub</span>
        {sandbox && (
          <span class="top-right">
            Sandbox <strong>{sandbox}</strong>{' '}
            <button
              type="button"
              class="small secondary"
              onClick={() => {
                keys.forgetAdmin(sandbox);
                location.hash = '#/';
              }}
            >
              Forget its key
            </button>
          </span>
        )}
      </header>
      {sandbox && (
        <nav class="tabs" aria-label="Sandbox pages">
          {PAGES.map((p) => (
            <a href={href(sandbox, p.page)} aria-current={route.page === p.page ? 'page' : undefined}>
              {p.title}
            </a>
          ))}
        </nav>
      )}
      <main>{sandbox ? <SandboxPage key={sandbox} route={{ ...route, sandbox }} /> : <SandboxesPage />}</main>
    </>
  );
}

const root = document.getElementById('app') as HTMLElement;
root.textContent = '';
render(<Dashboard />, root);
