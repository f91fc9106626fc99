// The client side of the vllm-proxy E2EE v2 ingress (vllm-proxy.md §2, decisions D3, D6, D7), in the browser, with
// venice-e2ee's field cipher (secp256k1 ECDH, HKDF-SHA256 info "ecdsa_encryption", AES-256-GCM, AAD labels).
import { bytesToHex } from '@confidential-ai/bytes';
import {
  buildRequestAad,
  buildResponseAad,
  decryptField,
  encryptField,
  type FieldKeyPair,
  generateFieldKeyPair,
} from '@confidential-ai/venice-e2ee';
import { ChatPageError } from './errors.js';

/** The response fields the proxy encrypts (D3): string values in `message` (JSON) and `delta` (stream). */
export const ENCRYPTED_RESPONSE_FIELDS = ['content', 'reasoning_content', 'reasoning'] as const;

/** The signing algorithm (and so the curve) of this client: the proxy's ECDSA key. */
const ALGO = 'ecdsa';

type Json = Record<string, unknown>;

/** One E2EE v2 request: its headers, its encrypted body, and how to open the answer. */
export interface E2eeExchange {
  /** The request headers (`X-Signing-Algo`, `X-Client-Pub-Key`, `X-Model-Pub-Key`, `X-E2EE-Version/Nonce/Timestamp`). */
  readonly headers: Readonly<Record<string, string>>;
  /** The chat body with every message's content encrypted to the model key. */
  readonly body: Json;
  /**
   * Checks the answer's E2EE headers (`X-E2EE-Applied: true`, `X-E2EE-Version: 2`); a plaintext answer to an
   * encrypted request is a downgrade and fails.
   * @throws ChatPageError `ERR_CHAT_E2EE_NOT_APPLIED`.
   */
  checkApplied(headers: Headers): void;
  /**
   * Decrypts the encrypted fields of a chat completion (`choices[].message`) or of one stream chunk
   * (`choices[].delta`), in place, and returns it.
   * @throws ChatPageError `ERR_CHAT_E2EE_DECRYPT` for a field that does not decrypt under this exchange's AAD.
   */
  open(completion: Json, part: 'message' | 'delta'): Json;
}

/** A client key pair for E2EE requests to one proxy key. */
export interface E2eeClient {
  /** The client's public key as sent: 64-byte X‖Y, hex (no `04` prefix), as the reference clients send it. */
  readonly clientPublicKeyHex: string;
  /** The attested model key this client encrypts to (`signing_public_key`, X‖Y hex). */
  readonly modelPublicKeyHex: string;
  /** Starts one request: fresh nonce and timestamp, messages encrypted. */
  seal(body: Json): E2eeExchange;
}

/** Options of {@link createE2eeClient}. */
export interface E2eeClientOptions {
  /** The model key from an attestation the caller verified: `signing_public_key` (64- or 65-byte hex). */
  modelPublicKeyHex: string;
  /** Client key pair (tests); default a fresh one. */
  keyPair?: FieldKeyPair;
  /** Random bytes (tests); default WebCrypto. */
  random?: (length: number) => Uint8Array;
  /** Clock in ms (tests); default `Date.now`. */
  now?: () => number;
}

function sealContent(content: unknown, seal: (text: string, contentIndex: number | null) => string): unknown {
  if (typeof content === 'string') return seal(content, null);
  if (Array.isArray(content)) {
    return content.map((part, index) => {
      const item = part as Json;
      return item?.type === 'text' && typeof item.text === 'string'
        ? { ...item, text: seal(item.text, index) }
        : item;
    });
  }
  return content;
}

/**
 * Creates an E2EE v2 client for the vllm-proxy ingress (the `/v1` and `/v1/chutes` faces): one client key pair,
 * every request with a fresh nonce and timestamp, every message content encrypted with the request AAD, every
 * answer field decrypted with the response AAD (`choice` = `choices[].index`).
 * @throws ChatPageError `ERR_CHAT_E2EE_KEY` for a model key that is not a secp256k1 public key in hex.
 */
export function createE2eeClient(options: E2eeClientOptions): E2eeClient {
  const modelKey = options.modelPublicKeyHex.trim().toLowerCase().replace(/^0x/, '');
  if (!/^(?:04)?[0-9a-f]{128}$/.test(modelKey))
    throw new ChatPageError('ERR_CHAT_E2EE_KEY', 'The attested model key is not a secp256k1 public key.');
  const random =
    options.random ?? ((length: number) => globalThis.crypto.getRandomValues(new Uint8Array(length)));
  const now = options.now ?? Date.now;
  const pair = options.keyPair ?? generateFieldKeyPair('secp256k1', random);
  const clientPublicKeyHex = bytesToHex(pair.publicKey.subarray(pair.publicKey.length - 64));
  const modelPublicKeyHex = modelKey.length === 130 ? modelKey.slice(2) : modelKey;
  return {
    clientPublicKeyHex,
    modelPublicKeyHex,
    seal(body) {
      const nonce = bytesToHex(random(16));
      const timestamp = Math.floor(now() / 1000);
      const model = String(body.model ?? '');
      const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
      let sealed: Json;
      try {
        sealed = {
          ...body,
          messages: messages.map((message, messageIndex) => ({
            ...message,
            content: sealContent(message.content, (text, contentIndex) =>
              encryptField(text, modelPublicKeyHex, {
                suite: 'secp256k1',
                random,
                aad: buildRequestAad({ algo: ALGO, model, messageIndex, contentIndex, nonce, timestamp }),
              }),
            ),
          })),
        };
      } catch (cause) {
        throw new ChatPageError('ERR_CHAT_E2EE_KEY', 'The message could not be encrypted to the model key.', {
          cause,
        });
      }
      const headers = {
        'x-signing-algo': ALGO,
        'x-client-pub-key': clientPublicKeyHex,
        'x-model-pub-key': modelPublicKeyHex,
        'x-e2ee-version': '2',
        'x-e2ee-nonce': nonce,
        'x-e2ee-timestamp': String(timestamp),
      };
      return {
        headers,
        body: sealed,
        checkApplied(responseHeaders) {
          if (
            responseHeaders.get('x-e2ee-applied') !== 'true' ||
            responseHeaders.get('x-e2ee-version') !== '2'
          ) {
            throw new ChatPageError(
              'ERR_CHAT_E2EE_NOT_APPLIED',
              'The answer to an encrypted request is not marked as E2EE v2 (X-E2EE-Applied, X-E2EE-Version).',
            );
          }
        },
        open(completion, part) {
          const choices = Array.isArray(completion.choices) ? (completion.choices as Json[]) : [];
          for (const choice of choices) {
            const holder = choice?.[part] as Json | undefined;
            if (typeof holder !== 'object' || holder === null) continue;
            for (const field of ENCRYPTED_RESPONSE_FIELDS) {
              const value = holder[field];
              if (typeof value !== 'string') continue;
              const aad = buildResponseAad({
                algo: ALGO,
                model: String(completion.model ?? ''),
                id: String(completion.id ?? ''),
                choice: Number(choice.index ?? 0),
                field,
                nonce,
                timestamp,
              });
              try {
                holder[field] = decryptField(value, pair.privateKey, { suite: 'secp256k1', aad });
              } catch (cause) {
                throw new ChatPageError(
                  'ERR_CHAT_E2EE_DECRYPT',
                  `An encrypted "${field}" field of the answer does not decrypt for this request.`,
                  { cause },
                );
              }
            }
          }
          return completion;
        },
      };
    },
  };
}
