// An E2EE v2 client session built only on the independent node:crypto cipher (not venice-e2ee), for tests that
// talk to a running proxy over HTTP with the real openai SDK.
import { randomBytes } from 'node:crypto';
import { independentClientKeys, independentDecrypt, independentEncrypt } from './independent-cipher.js';

/** One v2 request's keys, nonce and timestamp, and the means to seal the prompt and open the reply. */
export interface IndependentSession {
  algo: 'ecdsa' | 'ed25519';
  nonce: string;
  timestamp: number;
  /** The six E2EE request headers. */
  headers: Record<string, string>;
  /** Encrypts `content` of every message with the v2 request AAD (string content only). */
  sealMessages(
    model: string,
    messages: Array<{ role: string; content: string }>,
  ): Array<{ role: string; content: string }>;
  /** Decrypts one response field with the v2 response AAD. */
  open(hex: string, aad: { model: string; id: string; choice: number; field: string }): string;
}

/** Reads the instance key of `algo` from the proxy's attestation report. */
export async function fetchModelKey(
  baseUrl: string,
  token: string,
  algo: 'ecdsa' | 'ed25519',
): Promise<string> {
  const response = await fetch(`${baseUrl}/v1/attestation/report?signing_algo=${algo}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return ((await response.json()) as { signing_public_key: string }).signing_public_key;
}

/** Starts a v2 session for one request (fresh nonce, current or given timestamp). */
export function createIndependentSession(
  algo: 'ecdsa' | 'ed25519',
  modelKeyHex: string,
  options: { timestamp?: number } = {},
): IndependentSession {
  const keys = independentClientKeys(algo);
  const nonce = randomBytes(16).toString('hex');
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    algo,
    nonce,
    timestamp,
    headers: {
      'x-signing-algo': algo,
      'x-client-pub-key': keys.publicKeyHex,
      'x-model-pub-key': modelKeyHex,
      'x-e2ee-version': '2',
      'x-e2ee-nonce': nonce,
      'x-e2ee-timestamp': String(timestamp),
    },
    sealMessages(model, messages) {
      return messages.map((message, index) => ({
        ...message,
        content: independentEncrypt(
          message.content,
          algo,
          modelKeyHex,
          `v2|req|algo=${algo}|model=${model}|m=${index}|c=-|n=${nonce}|ts=${timestamp}`,
        ),
      }));
    },
    open(hex, aad) {
      return independentDecrypt(
        hex,
        algo,
        keys.privateKey,
        `v2|resp|algo=${algo}|model=${aad.model}|id=${aad.id}|choice=${aad.choice}|field=${aad.field}|n=${nonce}|ts=${timestamp}`,
      );
    },
  };
}
