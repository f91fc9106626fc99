import { type Bytes, bytesToHex, equalBytes, hexToBytes } from '@confidential-ai/bytes';
import { exceedsJsonDepth, JSON_TOO_DEEP, MAX_JSON_DEPTH } from '@confidential-ai/server-kit';
import {
  buildRequestAad,
  createFieldDecryptor,
  createFieldEncryptor,
  type FieldDecryptor,
  type FieldEncryptor,
  normalizeSecp256k1PublicKey,
  VeniceE2eeError,
} from '@confidential-ai/venice-e2ee';
import { ApiError } from './errors.js';
import type { ModelKeys } from './keys.js';

/** E2EE algorithm names of the `X-Signing-Algo` header. */
export type E2eeAlgo = 'ecdsa' | 'ed25519';

/** The request headers of the vllm-proxy E2EE protocol (lower-case). */
export const E2EE_HEADERS = [
  'x-signing-algo',
  'x-client-pub-key',
  'x-model-pub-key',
  'x-e2ee-version',
  'x-e2ee-nonce',
  'x-e2ee-timestamp',
] as const;

/** A parsed, validated E2EE request context (one per request). */
export interface E2eeContext {
  /** Algorithm from `X-Signing-Algo`, trimmed and lower-cased. */
  readonly algo: E2eeAlgo;
  /** Protocol version: 2 when `X-E2EE-Version: 2` or when nonce and timestamp are both present. */
  readonly version: 1 | 2;
  /** v2: the `X-E2EE-Nonce` value as sent. */
  readonly nonce: string | undefined;
  /** v2: the `X-E2EE-Timestamp` parsed as an integer (unix seconds). */
  readonly timestamp: number | undefined;
  /** One ephemeral key per request, bound to the client's key; fresh 12-byte nonce per field. */
  readonly encryptor: FieldEncryptor;
}

const HEX = /^[0-9a-fA-F]*$/;
const VISIBLE_ASCII = /^[\x21-\x7e]*$/;

/** Shortest `X-E2EE-Nonce` accepted (the reference's rule, §2.2). */
export const MIN_NONCE_LENGTH = 16;
/**
 * Longest `X-E2EE-Nonce` accepted. The reference sets no maximum; its clients send 16-64 characters (the
 * longest, a 32-byte random value in hex, is also the size of the attestation nonce, §5.2). Twice that leaves
 * room for other encodings (base64 of 64 bytes is 88) while bounding what one claim keeps in the replay store.
 */
export const MAX_NONCE_LENGTH = 128;

function isEvenHex(value: string): boolean {
  return value.length > 0 && value.length % 2 === 0 && HEX.test(value);
}

function e2eeError(type: string, message: string, cause?: unknown): ApiError {
  return new ApiError(400, type, message, cause === undefined ? {} : { cause });
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers.get(name);
  return value === null || value === '' ? undefined : value;
}

/** True when a request carries any of the six E2EE headers (used to reject E2EE on `/v1/completions`). */
export function hasAnyE2eeHeader(headers: Headers): boolean {
  return E2EE_HEADERS.some((name) => header(headers, name) !== undefined);
}

/**
 * Parses and validates the E2EE request headers exactly as the vllm-proxy reference (§2.2), plus an early
 * check that the client key is a usable public key (so response encryption can never fail open later).
 *
 * @returns `undefined` in plain mode (none of algo / client key / model key present).
 * @throws {ApiError} 400 with type `e2ee_header_missing`, `e2ee_invalid_signing_algo`, `e2ee_invalid_public_key`,
 *   `e2ee_model_key_mismatch`, `e2ee_invalid_version`, `e2ee_invalid_nonce`, `e2ee_invalid_timestamp` or
 *   `invalid_e2ee_request`.
 */
export function parseE2eeHeaders(headers: Headers, keys: ModelKeys): E2eeContext | undefined {
  const algoHeader = header(headers, 'x-signing-algo');
  const clientKey = header(headers, 'x-client-pub-key');
  const modelKey = header(headers, 'x-model-pub-key');
  if (algoHeader === undefined && clientKey === undefined && modelKey === undefined) return undefined;
  if (algoHeader === undefined || clientKey === undefined || modelKey === undefined) {
    throw e2eeError(
      'e2ee_header_missing',
      'E2EE requires X-Signing-Algo, X-Client-Pub-Key, and X-Model-Pub-Key headers',
    );
  }
  const algo = algoHeader.trim().toLowerCase();
  if (algo !== 'ecdsa' && algo !== 'ed25519') {
    throw e2eeError('e2ee_invalid_signing_algo', 'E2EE only supports X-Signing-Algo: ecdsa or ed25519');
  }
  if (!isEvenHex(clientKey))
    throw e2eeError('e2ee_invalid_public_key', 'X-Client-Pub-Key must be hex-encoded');
  if (!isEvenHex(modelKey)) throw e2eeError('e2ee_invalid_public_key', 'X-Model-Pub-Key must be hex-encoded');

  const modelBytes = hexToBytes(modelKey);
  if (algo === 'ecdsa') {
    let uncompressed: Uint8Array;
    if (modelBytes.length === 64) uncompressed = Uint8Array.of(4, ...modelBytes);
    else if (modelBytes.length === 65 && modelBytes[0] === 4) uncompressed = modelBytes;
    else
      throw e2eeError('invalid_e2ee_request', 'Public key must be 64-byte hex or uncompressed 65-byte hex');
    if (!equalBytes(uncompressed, keys.ecdsa.publicKey)) {
      throw e2eeError('e2ee_model_key_mismatch', 'X-Model-Pub-Key does not match this proxy instance');
    }
  } else if (!equalBytes(modelBytes, keys.ed25519.publicKey)) {
    throw e2eeError('e2ee_model_key_mismatch', 'X-Model-Pub-Key does not match this proxy instance');
  }

  const versionHeader = header(headers, 'x-e2ee-version')?.trim();
  if (versionHeader !== undefined && versionHeader !== '' && versionHeader !== '1' && versionHeader !== '2') {
    throw e2eeError('e2ee_invalid_version', 'Unsupported X-E2EE-Version; supported versions are 1 and 2');
  }
  const nonce = header(headers, 'x-e2ee-nonce');
  const timestampHeader = header(headers, 'x-e2ee-timestamp');
  if ((nonce === undefined) !== (timestampHeader === undefined)) {
    throw e2eeError('e2ee_header_missing', 'X-E2EE-Nonce and X-E2EE-Timestamp must be sent together');
  }
  const version: 1 | 2 =
    versionHeader === '2' || (nonce !== undefined && timestampHeader !== undefined) ? 2 : 1;
  let timestamp: number | undefined;
  if (version === 2) {
    if (nonce === undefined || timestampHeader === undefined) {
      throw e2eeError('e2ee_header_missing', 'E2EE v2 requires X-E2EE-Nonce and X-E2EE-Timestamp headers');
    }
    if (nonce.length < MIN_NONCE_LENGTH || nonce.length > MAX_NONCE_LENGTH || !VISIBLE_ASCII.test(nonce)) {
      throw e2eeError(
        'e2ee_invalid_nonce',
        `X-E2EE-Nonce must be ${MIN_NONCE_LENGTH} to ${MAX_NONCE_LENGTH} visible ASCII characters`,
      );
    }
    const trimmed = timestampHeader.trim();
    if (!/^[+-]?\d{1,15}$/.test(trimmed)) {
      throw e2eeError(
        'e2ee_invalid_timestamp',
        'X-E2EE-Timestamp must be an integer unix timestamp in seconds',
      );
    }
    timestamp = Number(trimmed);
  }

  let encryptor: FieldEncryptor;
  try {
    const clientBytes = hexToBytes(clientKey);
    if (algo === 'ecdsa') {
      encryptor = createFieldEncryptor(normalizeSecp256k1PublicKey(clientBytes), { suite: 'secp256k1' });
    } else {
      if (clientBytes.length !== 32) throw new RangeError('Ed25519 public key must be 32 bytes');
      encryptor = createFieldEncryptor(clientBytes, { suite: 'ed25519' });
    }
  } catch (cause) {
    throw e2eeError(
      'e2ee_invalid_public_key',
      'X-Client-Pub-Key is not a valid public key for the algorithm',
      cause,
    );
  }
  return { algo, version, nonce: version === 2 ? nonce : undefined, timestamp, encryptor };
}

function decryptError(cause: unknown): ApiError {
  if (VeniceE2eeError.isInstance(cause)) {
    const reason = (cause as { details?: { reason?: string } }).details?.reason;
    if (
      cause.code === 'ERR_FIELD_DECRYPT_FAILED' ||
      (cause.code === 'ERR_FIELD_MALFORMED' && reason === 'length')
    ) {
      return e2eeError('e2ee_decryption_failed', 'Failed to decrypt request content', cause);
    }
  }
  return e2eeError('invalid_e2ee_request', 'Encrypted request content is malformed', cause);
}

function decryptOne(value: string, decryptor: FieldDecryptor, aad: string | undefined): string {
  if (!isEvenHex(value))
    throw e2eeError('invalid_e2ee_request', 'Encrypted message content must be hex-encoded');
  try {
    return decryptor.decrypt(value, aad);
  } catch (cause) {
    throw decryptError(cause);
  }
}

function aadModel(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return '';
}

/**
 * Content-part types that pass through a request in the clear, as in the reference (§2.6: "other items, e.g.
 * `image_url`, pass through"): media references and data, not text. Every other part type is refused, so a part
 * that carries text can never reach the upstream unencrypted.
 */
export const CLEAR_CONTENT_PART_TYPES = [
  'image_url',
  'input_audio',
  'file',
  'video_url',
  'audio_url',
] as const;

function notEncrypted(messageIndex: number, what: string, contentIndex?: number): ApiError {
  const param = `messages[${messageIndex}].content${contentIndex === undefined ? '' : `[${contentIndex}]`}`;
  return new ApiError(400, 'e2ee_content_not_encrypted', `In E2EE mode ${param} ${what}`, { param });
}

/**
 * Decrypts `messages[].content` of a chat request (strings and `type: "text"` parts) with the instance key and
 * the v2 request AAD. Returns a new body; the input is not mutated. A decrypted string whose plaintext is a
 * JSON array is restored as a multimodal content array.
 *
 * Every message must be an object whose `content` is absent, null, an encrypted string, or an array of parts
 * that are `type: "text"` with an encrypted string `text`, or one of {@link CLEAR_CONTENT_PART_TYPES}: anything
 * else (a number, an object, a bare string part, a text part of another type) is refused, never forwarded.
 *
 * @throws {ApiError} 400 `e2ee_content_not_encrypted` (content that is not encrypted), `e2ee_decryption_failed`
 *   (too short, tag failure), `invalid_e2ee_request` (non-hex, bad point, non-UTF-8) or `json_too_deep` (a
 *   decrypted JSON array nested deeper than the ingress limit).
 */
export function decryptChatRequest(
  body: Record<string, unknown>,
  keys: ModelKeys,
  context: E2eeContext,
): Record<string, unknown> {
  if (body.messages === undefined || body.messages === null) return body;
  if (!Array.isArray(body.messages)) {
    throw new ApiError(
      400,
      'e2ee_content_not_encrypted',
      'In E2EE mode messages must be an array of messages',
      {
        param: 'messages',
      },
    );
  }
  const model = aadModel(body.model);
  // One decryptor per request: the model key's key agreement is shared, derived keys die with the request.
  const decryptor =
    context.algo === 'ecdsa'
      ? createFieldDecryptor(keys.ecdsa.privateKey, { suite: 'secp256k1' })
      : createFieldDecryptor(keys.ed25519.privateKey, { suite: 'ed25519' });
  const aadFor = (messageIndex: number, contentIndex: number | null) =>
    context.version === 2
      ? buildRequestAad({
          algo: context.algo,
          model,
          messageIndex,
          contentIndex,
          nonce: context.nonce!,
          timestamp: context.timestamp!,
        })
      : undefined;
  const messages = (body.messages as unknown[]).map((message, messageIndex) => {
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      throw new ApiError(
        400,
        'e2ee_content_not_encrypted',
        `In E2EE mode messages[${messageIndex}] must be an object`,
        {
          param: `messages[${messageIndex}]`,
        },
      );
    }
    const record = message as Record<string, unknown>;
    const content = record.content;
    if (content === undefined || content === null) return record;
    if (typeof content === 'string') {
      const plaintext = decryptOne(content, decryptor, aadFor(messageIndex, null));
      return { ...record, content: restoreContent(plaintext) };
    }
    if (!Array.isArray(content))
      throw notEncrypted(messageIndex, 'must be an encrypted string or an array of parts');
    return {
      ...record,
      content: content.map((item, contentIndex) => {
        if (typeof item !== 'object' || item === null || Array.isArray(item)) {
          throw notEncrypted(messageIndex, 'must be an object', contentIndex);
        }
        const part = item as Record<string, unknown>;
        if (part.type === 'text') {
          if (typeof part.text !== 'string')
            throw notEncrypted(messageIndex, 'must have an encrypted string text', contentIndex);
          return { ...part, text: decryptOne(part.text, decryptor, aadFor(messageIndex, contentIndex)) };
        }
        if (
          typeof part.type === 'string' &&
          (CLEAR_CONTENT_PART_TYPES as readonly string[]).includes(part.type)
        ) {
          return { ...part };
        }
        throw notEncrypted(
          messageIndex,
          `has a part type that E2EE cannot carry (text parts are "text", else one of ${CLEAR_CONTENT_PART_TYPES.join(', ')})`,
          contentIndex,
        );
      }),
    };
  });
  return { ...body, messages };
}

/** Levels above a message's content in a chat body: the body object, `messages`, the message object. */
const CONTENT_DEPTH_OFFSET = 3;

/** A decrypted string content: a JSON array is restored as content parts (reference "vision" support). */
function restoreContent(plaintext: string): unknown {
  if (!plaintext.trimStart().startsWith('[')) return plaintext;
  let parsed: unknown;
  try {
    parsed = JSON.parse(plaintext);
  } catch {
    return plaintext;
  }
  if (!Array.isArray(parsed)) return plaintext;
  // V8 parses any depth; what comes after (serializing the upstream body) recurses, so bound it as at ingress.
  if (exceedsJsonDepth(plaintext, MAX_JSON_DEPTH - CONTENT_DEPTH_OFFSET)) {
    throw new ApiError(
      400,
      JSON_TOO_DEEP,
      `Decrypted message content makes the request nest deeper than ${MAX_JSON_DEPTH} levels`,
    );
  }
  return parsed;
}

/** The E2EE response headers (§2.9, D6). */
export function e2eeResponseHeaders(context: E2eeContext | undefined): Record<string, string> {
  if (!context) return { 'X-E2EE-Applied': 'false' };
  return { 'X-E2EE-Applied': 'true', 'X-E2EE-Version': String(context.version), 'X-E2EE-Algo': context.algo };
}

/** The hex public keys as published in `signing_public_key` (ECDSA: 64-byte X‖Y; Ed25519: 32 bytes). */
export function publicKeyHex(keys: ModelKeys, algo: E2eeAlgo): string {
  return algo === 'ecdsa' ? bytesToHex(keys.ecdsa.publicKey.subarray(1)) : bytesToHex(keys.ed25519.publicKey);
}

export type { Bytes };
