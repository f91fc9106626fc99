// One conversation with one face: the key attestation the browser's E2EE needs, the request (encrypted in the
// browser where the face takes E2EE ingress), the verified fetch below it (it sees the bytes on the wire, which are
// the bytes the service signs), the streamed answer decrypted chunk by chunk, and the verdict. No DOM here.
import {
  type AttestationResult,
  attestVllmProxy,
  createVerifiedFetch,
  type FetchFunction,
  type Verdict,
  type VerificationPolicy,
  type VerifiedFetch,
  VerifierError,
} from '@confidential-ai/verifier';
import { ChatPageError } from './errors.js';
import type { Face } from './faces.js';
import { createSseReader } from './sse.js';
import { createE2eeClient, type E2eeClient, type E2eeExchange } from './vllm-e2ee.js';

/** A chat message. */
export interface ChatMessage {
  /** `user`, `assistant` or `system`. */
  readonly role: 'user' | 'assistant' | 'system';
  /** Plain text (encrypted on the wire where the face takes E2EE ingress). */
  readonly content: string;
}

/** What the page learns while a turn runs. */
export interface TurnEvents {
  /** The key attestation that decides whether the browser may encrypt to the proxy key (E2EE faces only). */
  onKeyVerdict?(verdict: Verdict): void;
  /** Decrypted answer text as it arrives (provisional until the verdict). */
  onDelta?(text: string): void;
  /** A short progress note for the status line. */
  onProgress?(note: string): void;
}

/** How one turn ended. */
export interface TurnResult {
  /** Whether the prompt left the browser. */
  readonly sent: boolean;
  /** The answer text received (decrypted), possibly partial when something failed. */
  readonly text: string;
  /** The answer's verdict, when verification ran (passed or failed). */
  readonly verdict: Verdict | undefined;
  /** The key attestation of this turn (E2EE faces). */
  readonly keyVerdict: Verdict | undefined;
  /** The first failure: a `VerifierError` (verification) or a `ChatPageError` (E2EE, HTTP, malformed). */
  readonly error: VerifierError | ChatPageError | undefined;
  /** What protected the prompt. */
  readonly e2ee:
    | { readonly mode: 'browser'; readonly modelPublicKey: string; readonly clientPublicKey: string }
    | { readonly mode: 'proxy' | 'none' };
}

/** Options of {@link createChatSession}. */
export interface ChatSessionOptions {
  /** The server origin (the page's own). */
  readonly origin: string;
  /** The face. */
  readonly face: Face;
  /** The client token, sent as `Authorization: Bearer` to this origin only. */
  readonly token: string | undefined;
  /** The verification policy. */
  readonly policy: VerificationPolicy;
  /** The network fetch (tests); default `globalThis.fetch`. */
  readonly fetch?: FetchFunction;
}

/** A conversation with one face under one policy (attestations cached for the policy's validity). */
export interface ChatSession {
  /** Sends the conversation, streams the answer, verifies it. Never throws for failures: read the result. */
  send(
    messages: readonly ChatMessage[],
    options: { model: string; stream: boolean },
    events?: TurnEvents,
  ): Promise<TurnResult>;
  /** The model ids `GET {face}/models` lists (empty when the face lists none or the call fails). */
  listModels(): Promise<string[]>;
}

const DEFAULT_MAX_AGE_MS = 600_000;

function asFailure(error: unknown): VerifierError | ChatPageError {
  if (VerifierError.isInstance(error) || ChatPageError.isInstance(error)) return error;
  return new ChatPageError('ERR_CHAT_RESPONSE_MALFORMED', 'The answer could not be read.', { cause: error });
}

async function httpFailure(response: Response): Promise<ChatPageError> {
  let detail = '';
  try {
    const body = JSON.parse(await response.text()) as { error?: { message?: unknown } };
    if (typeof body.error?.message === 'string') detail = `: ${body.error.message.slice(0, 200)}`;
  } catch {
    // Not the OpenAI error envelope: the status alone.
  }
  return new ChatPageError('ERR_CHAT_HTTP', `The server answered HTTP ${response.status}${detail}`, {
    status: response.status,
  });
}

/** Creates a chat session with one face. */
export function createChatSession(options: ChatSessionOptions): ChatSession {
  const { face, policy, origin } = options;
  const network: FetchFunction = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const authorization: Record<string, string> = options.token
    ? { authorization: `Bearer ${options.token}` }
    : {};
  const verified: VerifiedFetch = createVerifiedFetch({ service: face.id, policy, fetch: network });
  const maxAge = policy.attestationMaxAgeMs ?? DEFAULT_MAX_AGE_MS;
  let keyAttestation:
    | { result: AttestationResult; client: E2eeClient | undefined; until: number }
    | undefined;

  async function attestKey(): Promise<{ result: AttestationResult; client: E2eeClient | undefined }> {
    if (keyAttestation && keyAttestation.until > Date.now()) return keyAttestation;
    // The E2EE ingress of /v1 and /v1/chutes decrypts with the proxy's own key: attest it with a fresh nonce.
    const result = await attestVllmProxy({
      baseUrl: `${origin}/v1`,
      apiKey: options.token,
      policy,
      fetch: network,
    });
    const client = result.key
      ? createE2eeClient({ modelPublicKeyHex: result.key.signingPublicKey })
      : undefined;
    keyAttestation = { result, client, until: result.key ? Date.now() + maxAge : 0 };
    return keyAttestation;
  }

  return {
    async listModels() {
      if (!face.listsModels) return [];
      try {
        const response = await network(`${origin}${face.path}/models`, { headers: authorization });
        if (response.status !== 200) {
          await response.body?.cancel();
          return [];
        }
        const body = (await response.json()) as { data?: { id?: unknown }[] };
        return (body.data ?? [])
          .map((model) => model.id)
          .filter((id): id is string => typeof id === 'string');
      } catch {
        return [];
      }
    },

    async send(messages, { model, stream }, events = {}) {
      let keyVerdict: Verdict | undefined;
      let exchange: E2eeExchange | undefined;
      let e2ee: TurnResult['e2ee'] = { mode: face.e2ee === 'proxy' ? 'proxy' : 'none' };
      const request = { model, stream, messages: messages.map(({ role, content }) => ({ role, content })) };
      let body: Record<string, unknown> = request;
      let headers: Record<string, string> = { 'content-type': 'application/json', ...authorization };
      if (face.e2ee === 'browser') {
        events.onProgress?.('Attesting the proxy key before encrypting to it…');
        const { result, client } = await attestKey();
        keyVerdict = result.verdict;
        events.onKeyVerdict?.(result.verdict);
        if (!client) {
          const failed = result.verdict.failedStep;
          return {
            sent: false,
            text: '',
            verdict: undefined,
            keyVerdict,
            error: new VerifierError(
              failed?.code ?? 'ERR_VERIFY_EVIDENCE_MALFORMED',
              `Not sent: the key to encrypt to did not verify (step "${failed?.name ?? 'unknown'}").`,
              { step: failed?.name, verdict: result.verdict },
            ),
            e2ee: { mode: 'none' },
          };
        }
        exchange = client.seal(request);
        body = exchange.body;
        headers = { ...headers, ...exchange.headers };
        e2ee = {
          mode: 'browser',
          modelPublicKey: client.modelPublicKeyHex,
          clientPublicKey: client.clientPublicKeyHex,
        };
      }

      let text = '';
      let error: VerifierError | ChatPageError | undefined;
      const before = verified.lastVerdict;
      const verdictNow = (): Verdict | undefined =>
        verified.lastVerdict === before ? undefined : verified.lastVerdict;
      events.onProgress?.(
        stream
          ? 'Sending; the answer streams in, then it is verified…'
          : 'Sending; the answer is verified before it is shown…',
      );
      let response: Response;
      try {
        response = await verified(`${origin}${face.path}/chat/completions`, {
          method: 'POST',
          headers,
          body: JSON.stringify(body),
        });
      } catch (cause) {
        return { sent: true, text, verdict: undefined, keyVerdict, error: asFailure(cause), e2ee };
      }
      if (response.status !== 200) {
        // The proxy key changed (restart, another replica): attest again next time.
        if (exchange) keyAttestation = undefined;
        return { sent: true, text, verdict: undefined, keyVerdict, error: await httpFailure(response), e2ee };
      }
      try {
        exchange?.checkApplied(response.headers);
      } catch (cause) {
        await response.body?.cancel().catch(() => {});
        return { sent: true, text, verdict: verdictNow(), keyVerdict, error: asFailure(cause), e2ee };
      }

      if (!stream) {
        try {
          const completion = JSON.parse(await response.text()) as Record<string, unknown>;
          exchange?.open(completion, 'message');
          const choice = (completion.choices as { message?: { content?: unknown } }[] | undefined)?.[0];
          text = typeof choice?.message?.content === 'string' ? choice.message.content : '';
          events.onDelta?.(text);
        } catch (cause) {
          error = asFailure(cause);
        }
        const verdict = VerifierError.isInstance(error) ? (error.verdict ?? verdictNow()) : verdictNow();
        return { sent: true, text, verdict, keyVerdict, error, e2ee };
      }

      // Streamed: show chunks as they arrive; keep reading after a chunk fails to decrypt, so that the verifier
      // still gets the whole answer and gives its verdict.
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      const sse = createSseReader();
      const handle = (data: string) => {
        if (data === '[DONE]') return;
        try {
          const chunk = JSON.parse(data) as Record<string, unknown>;
          exchange?.open(chunk, 'delta');
          const delta = (chunk.choices as { delta?: { content?: unknown } }[] | undefined)?.[0]?.delta;
          if (typeof delta?.content === 'string' && delta.content !== '') {
            text += delta.content;
            events.onDelta?.(delta.content);
          }
        } catch (cause) {
          error ??= asFailure(cause);
        }
      };
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          for (const data of sse.push(decoder.decode(value, { stream: true }))) handle(data);
        }
        for (const data of sse.end()) handle(data);
      } catch (cause) {
        // A verification failure errors the stream with the VerifierError: it outranks a decryption failure.
        const failure = asFailure(cause);
        error = VerifierError.isInstance(failure) ? failure : (error ?? failure);
      }
      const verdict = VerifierError.isInstance(error) ? (error.verdict ?? verdictNow()) : verdictNow();
      return { sent: true, text, verdict, keyVerdict, error, e2ee };
    },
  };
}
