// The browser entry of the suite: loads the repository's vector files from the page's origin, runs every case and
// renders the outcomes as a table (the screenshot artefact); the orchestrator reads `window.__suite`.
import { type Outcome, runAllCases } from './cases/index.js';

interface SuiteResult {
  outcomes?: Outcome[];
  timings?: Record<string, number>;
  error?: string;
  userAgent: string;
}

declare global {
  interface Window {
    __suite?: SuiteResult;
  }
}

async function load(path: string): Promise<Uint8Array> {
  const response = await fetch(`/repo/${path}`);
  if (!response.ok) throw new Error(`cannot load ${path}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

function render(result: SuiteResult): void {
  const outcomes = result.outcomes ?? [];
  const failed = outcomes.filter((outcome) => !outcome.ok);
  const heading = document.createElement('h1');
  heading.textContent = result.error
    ? `Suite crashed: ${result.error}`
    : `${outcomes.length - failed.length}/${outcomes.length} verdicts as expected in ${navigator.userAgent.match(/Chrome\/\S+/)?.[0] ?? 'this browser'}`;
  document.body.append(heading);
  const timings = document.createElement('p');
  timings.textContent = Object.entries(result.timings ?? {})
    .map(([name, ms]) => `${name} ${ms} ms`)
    .join(' · ');
  document.body.append(timings);
  const table = document.createElement('table');
  // Failures first, then a sample of each group, so the screenshot shows what matters.
  const shown = [
    ...failed,
    ...outcomes.filter(
      (outcome) => outcome.ok && !outcome.id.includes('/acvp/') && !outcome.id.includes('wycheproof'),
    ),
  ];
  for (const outcome of shown) {
    const row = table.insertRow();
    row.className = outcome.ok ? 'ok' : 'bad';
    row.insertCell().textContent = outcome.ok ? 'pass' : 'FAIL';
    row.insertCell().textContent = outcome.id;
    row.insertCell().textContent = outcome.detail;
  }
  document.body.append(table);
}

const live = new URL(location.href).searchParams.get('live') === '1' ? location.origin : undefined;
runAllCases({ load, liveBaseUrl: live }).then(
  ({ outcomes, timings }) => {
    window.__suite = { outcomes, timings, userAgent: navigator.userAgent };
    render(window.__suite);
  },
  (error: unknown) => {
    window.__suite = { error: String((error as Error)?.stack ?? error), userAgent: navigator.userAgent };
    render(window.__suite);
  },
);
