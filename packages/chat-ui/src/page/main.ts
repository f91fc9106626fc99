// The page: wires the setup form, the conversation log and the composer to chat sessions. Plain DOM, no framework.
import type { Verdict, VerificationPolicy } from '@confidential-ai/verifier';
import { type ChatMessage, type ChatSession, createChatSession, type TurnResult } from './chat.js';
import { ChatPageError } from './errors.js';
import { FACES, type Face, faceById } from './faces.js';
import { acceptsSimulated, DEMO_POLICY, type PolicyChoice, parsePolicy, STRICT_POLICY } from './policy.js';
import { rememberedToken, storeToken } from './token-store.js';
import { renderFailure, renderVerdict, stateWord, verdictSentence } from './verdict-view.js';

/** What the page exposes for its tests and for curious users (no secrets: states and verdicts only). */
interface PageState {
  ready: boolean;
  busy: boolean;
  turns: { face: string; state: string; failedStep?: string | undefined }[];
}

declare global {
  interface Window {
    __chatUi?: PageState;
  }
}

function byId<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing #${id}`);
  return node as T;
}

const faceSelect = byId<HTMLSelectElement>('face');
const faceSummary = byId<HTMLParagraphElement>('face-summary');
const modelInput = byId<HTMLInputElement>('model');
const modelList = byId<HTMLDataListElement>('models');
const tokenInput = byId<HTMLInputElement>('token');
const rememberBox = byId<HTMLInputElement>('remember');
const customPolicy = byId<HTMLDivElement>('custom-policy');
const policyText = byId<HTMLTextAreaElement>('policy-json');
const policyError = byId<HTMLParagraphElement>('policy-error');
const demoBanner = byId<HTMLParagraphElement>('demo-banner');
const streamBox = byId<HTMLInputElement>('stream');
const log = byId<HTMLOListElement>('log');
const composer = byId<HTMLFormElement>('composer');
const prompt = byId<HTMLTextAreaElement>('prompt');
const sendButton = byId<HTMLButtonElement>('send');
const clearButton = byId<HTMLButtonElement>('clear');
const status = byId<HTMLParagraphElement>('status');
const alertRegion = byId<HTMLParagraphElement>('alert');

const state: PageState = { ready: false, busy: false, turns: [] };
window.__chatUi = state;

let history: ChatMessage[] = [];
let session: { key: string; chat: ChatSession } | undefined;

function currentFace(): Face {
  return faceById(faceSelect.value) ?? FACES[0]!;
}

function policyChoice(): PolicyChoice {
  const checked = document.querySelector<HTMLInputElement>('input[name="policy"]:checked');
  return (checked?.value as PolicyChoice | undefined) ?? 'demo';
}

/** The active policy, or undefined (with the reason shown) when the custom policy does not parse. */
function currentPolicy(): VerificationPolicy | undefined {
  const choice = policyChoice();
  if (choice === 'demo') return DEMO_POLICY;
  if (choice === 'strict') return STRICT_POLICY;
  try {
    const policy = parsePolicy(policyText.value);
    policyError.textContent = '';
    policyText.removeAttribute('aria-invalid');
    return policy;
  } catch (error) {
    policyError.textContent = ChatPageError.isInstance(error) ? error.message : 'The policy is invalid.';
    policyText.setAttribute('aria-invalid', 'true');
    return undefined;
  }
}

function refreshPolicyView(): void {
  const choice = policyChoice();
  customPolicy.hidden = choice !== 'custom';
  if (choice !== 'custom') policyError.textContent = '';
  const policy = choice === 'custom' ? currentPolicy() : choice === 'demo' ? DEMO_POLICY : STRICT_POLICY;
  demoBanner.hidden = !(policy && acceptsSimulated(policy));
}

function divider(text: string): void {
  const item = document.createElement('li');
  item.className = 'divider';
  item.textContent = text;
  log.append(item);
}

/** Starts a new conversation (the history goes; the log keeps what was shown). */
function newConversation(reason: string): void {
  if (history.length > 0) divider(reason);
  history = [];
  session = undefined;
}

/** Lists the face's models once a token is entered (some faces answer 401 without one). */
async function refreshModels(): Promise<void> {
  const face = currentFace();
  modelList.replaceChildren();
  if (tokenInput.value === '') return;
  const chat = createChatSession({
    origin: location.origin,
    face,
    token: tokenInput.value || undefined,
    policy: DEMO_POLICY,
  });
  const models = await chat.listModels();
  if (face !== currentFace()) return;
  for (const id of models) {
    const option = document.createElement('option');
    option.value = id;
    modelList.append(option);
  }
  if (models.length > 0 && !models.includes(modelInput.value)) modelInput.value = models[0]!;
}

function selectFace(): void {
  const face = currentFace();
  faceSummary.textContent = face.summary;
  modelInput.value = face.defaultModel;
  newConversation(`New conversation with ${face.label}`);
  void refreshModels();
}

function setBusy(busy: boolean): void {
  state.busy = busy;
  sendButton.disabled = busy;
  composer.setAttribute('aria-busy', String(busy));
}

function messageItem(
  kind: 'user' | 'answer',
  heading: string,
): { item: HTMLLIElement; body: HTMLElement; text: HTMLParagraphElement } {
  const item = document.createElement('li');
  const body = document.createElement('article');
  body.className = `message ${kind}`;
  const title = document.createElement('h3');
  title.textContent = heading;
  const text = document.createElement('p');
  text.className = 'text';
  body.append(title, text);
  item.append(body);
  return { item, body, text };
}

function e2eeNote(result: TurnResult, face: Face): string {
  if (result.e2ee.mode === 'browser')
    return `E2EE v2 in this browser: your message was encrypted to the attested proxy key ${result.e2ee.modelPublicKey.slice(0, 16)}…; the answer was decrypted here.`;
  if (face.e2ee === 'proxy')
    return 'E2EE by the proxy: it encrypted your message to the Venice model key this page checks below; the answer content is not signed.';
  return 'No E2EE on this face: the answer is signed by the enclave key checked below.';
}

function announce(verdict: Verdict | undefined, result: TurnResult): void {
  if (result.error && (!verdict || verdict.ok)) {
    alertRegion.textContent = `Failed: ${result.error.message}`;
    status.textContent = 'The answer failed.';
    return;
  }
  if (!verdict) {
    status.textContent = 'Done.';
    return;
  }
  const sentence = `${stateWord(verdict.status)}. ${verdictSentence(verdict)}`;
  if (verdict.status === 'failed') {
    alertRegion.textContent = sentence;
    status.textContent = 'Verification failed.';
  } else status.textContent = sentence;
}

async function send(): Promise<void> {
  if (state.busy) return;
  const content = prompt.value.trim();
  if (content === '') {
    status.textContent = 'Type a message first.';
    prompt.focus();
    return;
  }
  const policy = currentPolicy();
  if (!policy) {
    status.textContent = 'Fix the custom policy first.';
    policyText.focus();
    return;
  }
  const face = currentFace();
  const token = tokenInput.value;
  storeToken(token, rememberBox.checked);
  const key = `${face.id}\n${policyChoice()}\n${policyText.value}\n${token}`;
  if (!session || session.key !== key) {
    session = {
      key,
      chat: createChatSession({ origin: location.origin, face, token: token || undefined, policy }),
    };
  }
  setBusy(true);
  alertRegion.textContent = '';
  const user = messageItem('user', 'You');
  user.text.textContent = content;
  log.append(user.item);
  const answer = messageItem('answer', `Answer from ${face.label}`);
  answer.body.setAttribute('aria-busy', 'true');
  answer.text.classList.add('provisional');
  const note = document.createElement('p');
  note.className = 'e2ee-note';
  answer.body.insertBefore(note, answer.text);
  log.append(answer.item);
  prompt.value = '';
  const messages: ChatMessage[] = [...history, { role: 'user', content }];
  let result: TurnResult;
  try {
    result = await session.chat.send(
      messages,
      { model: modelInput.value.trim() || face.defaultModel, stream: streamBox.checked },
      {
        onProgress: (text) => {
          status.textContent = text;
        },
        onKeyVerdict: (verdict) => {
          answer.body.append(renderVerdict(verdict, 'Attestation of the key this browser encrypts to'));
        },
        onDelta: (text) => {
          answer.text.textContent += text;
        },
      },
    );
  } catch (error) {
    result = {
      sent: false,
      text: '',
      verdict: undefined,
      keyVerdict: undefined,
      error: new ChatPageError('ERR_CHAT_RESPONSE_MALFORMED', 'The chat failed unexpectedly.', {
        cause: error,
      }),
      e2ee: { mode: 'none' },
    };
  }
  answer.text.textContent = result.text;
  answer.text.classList.remove('provisional');
  if (result.sent && (result.error || result.verdict?.ok === false)) {
    // Fail closed: text that failed verification (or decryption) is not shown as the answer; it stays inspectable.
    const held = document.createElement('details');
    held.className = 'held';
    const summary = document.createElement('summary');
    summary.textContent = 'This answer failed: show the text received anyway (do not rely on it)';
    held.append(summary, answer.text);
    answer.body.insertBefore(held, note.nextSibling);
  }
  note.textContent = result.sent ? e2eeNote(result, face) : 'Not sent.';
  let panelState = 'none';
  if (result.verdict) {
    answer.body.append(renderVerdict(result.verdict, 'Verification of this answer'));
    panelState = result.verdict.status;
  }
  if (result.error && (!result.verdict || result.verdict.ok)) {
    // Not a verification verdict: the E2EE layer, the HTTP status or the answer's shape failed (or nothing was sent).
    answer.body.append(
      renderFailure(result.sent ? 'This answer' : 'Not sent', result.error.message, result.error.code),
    );
    panelState = 'failed';
  }
  answer.body.setAttribute('aria-busy', 'false');
  const failed =
    result.verdict?.failedStep?.name ??
    (result.error && 'step' in result.error ? result.error.step : undefined);
  state.turns.push({ face: face.id, state: panelState, failedStep: failed });
  announce(result.verdict, result);
  if (!result.error && result.verdict?.ok)
    history = [...messages, { role: 'assistant', content: result.text }];
  setBusy(false);
  prompt.focus();
}

for (const face of FACES) {
  const option = document.createElement('option');
  option.value = face.id;
  option.textContent = face.label;
  faceSelect.append(option);
}
faceSelect.addEventListener('change', selectFace);
tokenInput.addEventListener('change', () => {
  storeToken(tokenInput.value, rememberBox.checked);
  newConversation('New conversation (token changed)');
  void refreshModels();
});
rememberBox.addEventListener('change', () => storeToken(tokenInput.value, rememberBox.checked));
for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="policy"]')) {
  radio.addEventListener('change', () => {
    refreshPolicyView();
    newConversation('New conversation (policy changed)');
  });
}
policyText.addEventListener('input', () => {
  refreshPolicyView();
  session = undefined;
});
composer.addEventListener('submit', (event) => {
  event.preventDefault();
  void send();
});
prompt.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    void send();
  }
});
clearButton.addEventListener('click', () => {
  log.replaceChildren();
  history = [];
  session = undefined;
  status.textContent = 'New conversation.';
  prompt.focus();
});
byId<HTMLFormElement>('setup').addEventListener('submit', (event) => event.preventDefault());

const remembered = rememberedToken();
if (remembered) {
  tokenInput.value = remembered;
  rememberBox.checked = true;
}
selectFace();
refreshPolicyView();
state.ready = true;
