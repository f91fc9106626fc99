// Renders a verdict as an accessible panel: a heading that says the state in words (never by colour alone), one
// list item per step with its status, message and the evidence as expandable JSON.
import type { Verdict, VerificationStep } from '@confidential-ai/verifier';

/** The panel's overall state, as shown: `verified` green, `simulated` amber, `failed` red. */
export type PanelState = 'verified' | 'simulated' | 'failed';

const STATUS_WORDS: Record<VerificationStep['status'], { word: string; mark: string }> = {
  passed: { word: 'passed', mark: '✓' },
  failed: { word: 'FAILED', mark: '✗' },
  simulated: { word: 'simulated', mark: '!' },
  skipped: { word: 'skipped', mark: '–' },
};

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * The roots a verdict's steps were verified against, of the given kinds (named in the headline): from each step's
 * evidence, and from the per-instance evidence of the Chutes instance steps.
 */
function namedRoots(verdict: Verdict, kinds: readonly string[]): string[] {
  const roots = new Set<string>();
  const visit = (evidence: Readonly<Record<string, unknown>>) => {
    const anchor = evidence.trustAnchor;
    const subject = evidence.rootSubject;
    if (typeof anchor === 'string' && kinds.includes(anchor) && typeof subject === 'string')
      roots.add(subject);
  };
  for (const step of verdict.steps) {
    visit(step.evidence);
    const instances = step.evidence.instances;
    if (Array.isArray(instances))
      for (const instance of instances)
        if (typeof instance === 'object' && instance !== null) visit(instance as Record<string, unknown>);
  }
  return [...roots];
}

/** One sentence that says what the verdict means. */
export function verdictSentence(verdict: Verdict): string {
  if (verdict.status === 'failed') {
    const step = verdict.failedStep;
    return step
      ? `Verification FAILED at step "${step.title}" (${step.name}, ${step.code ?? 'no code'}): ${step.message}`
      : 'Verification FAILED.';
  }
  if (verdict.status === 'simulated') {
    const test = namedRoots(verdict, ['test-root', 'embedded-test-root']);
    return test.length > 0
      ? `Simulated: no step failed, but evidence was verified against the TEST root ${test.map((root) => `"${root}"`).join(', ')}, not a vendor's; or it is simulated outright. This is not a verification of real hardware.`
      : 'Simulated: no step failed, but the evidence is simulated (a server outside a TEE). This is not a verification of real hardware.';
  }
  const pinned = namedRoots(verdict, ['policy-root']);
  return pinned.length > 0
    ? `Verified: every step that ran passed, against the root your policy pins as a trust anchor: ${pinned.map((root) => `"${root}"`).join(', ')}.`
    : 'Verified: every step that ran passed, against the vendors’ pinned roots.';
}

/** The badge word of a panel state. */
export function stateWord(state: PanelState): string {
  return state === 'verified' ? 'VERIFIED' : state === 'simulated' ? 'SIMULATED' : 'FAILED';
}

function stepItem(step: VerificationStep, index: number, idPrefix: string): HTMLLIElement {
  const item = element('li', { class: `step step-${step.status}` });
  const details = element('details');
  const summary = element('summary');
  const { word, mark } = STATUS_WORDS[step.status];
  const status = element('span', { class: 'step-status' });
  status.append(element('span', { 'aria-hidden': 'true' }, `${mark} `), word);
  summary.append(status, ' ', element('span', { class: 'step-title' }, step.title));
  if (step.code) summary.append(' ', element('code', { class: 'step-code' }, step.code));
  details.append(summary);
  details.append(element('p', { class: 'step-message' }, step.message));
  const evidenceId = `${idPrefix}-evidence-${index}`;
  details.append(
    element('p', { class: 'step-name', id: `${evidenceId}-label` }, `Evidence of step ${step.name}:`),
  );
  details.append(
    element(
      'pre',
      { class: 'evidence', tabindex: '0', 'aria-labelledby': `${evidenceId}-label` },
      JSON.stringify(step.evidence, null, 2),
    ),
  );
  item.append(details);
  return item;
}

let panels = 0;

/**
 * Builds the panel of one verdict. `heading` names what was verified (e.g. "Verification of this answer").
 * Failed panels open the failed step's evidence.
 */
export function renderVerdict(verdict: Verdict, heading: string): HTMLElement {
  panels += 1;
  const state: PanelState = verdict.status;
  const id = `verdict-${panels}`;
  const section = element('section', {
    class: `verdict verdict-${state}`,
    'aria-labelledby': `${id}-heading`,
  });
  const title = element('h4', { id: `${id}-heading` });
  title.append(element('span', { class: 'badge' }, stateWord(state)), ` ${heading} (${verdict.service})`);
  section.append(title);
  section.append(element('p', { class: 'verdict-sentence' }, verdictSentence(verdict)));
  const list = element('ol', { class: 'steps', 'aria-label': `Steps of ${heading.toLowerCase()}` });
  verdict.steps.forEach((step, index) => {
    const item = stepItem(step, index, id);
    if (step === verdict.failedStep) item.querySelector('details')?.setAttribute('open', '');
    list.append(item);
  });
  section.append(list);
  section.dataset.state = state;
  if (verdict.failedStep) section.dataset.failedStep = verdict.failedStep.name;
  return section;
}

/** A red panel for a failure that is not a verification verdict (E2EE, HTTP, malformed answer). */
export function renderFailure(heading: string, message: string, code: string): HTMLElement {
  panels += 1;
  const id = `verdict-${panels}`;
  const section = element('section', { class: 'verdict verdict-failed', 'aria-labelledby': `${id}-heading` });
  const title = element('h4', { id: `${id}-heading` });
  title.append(element('span', { class: 'badge' }, 'FAILED'), ` ${heading}`);
  section.append(
    title,
    element('p', { class: 'verdict-sentence' }, message),
    element('p', {}, `Code: ${code}`),
  );
  section.dataset.state = 'failed';
  section.dataset.code = code;
  return section;
}
