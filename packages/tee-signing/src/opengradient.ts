import {
  assertBytes,
  type Bytes,
  base64ToBytes,
  bytesToBase64,
  bytesToHex,
  isBytes,
  toBytes,
} from '@confidential-ai/bytes';
import { TeeSigningError } from './errors.js';
import { computeTeeMessageHash, heartbeatMessageHash, keccak256, teeMessageHash } from './hashes.js';
import { responseContentForHash, StreamOutputAccumulator } from './opengradient-output.js';
import {
  buildChatCanonicalRequest,
  buildCompletionsCanonicalRequest,
  canonicalRequestBytes,
  type OpenGradientEndpoint,
} from './opengradient-request.js';
import { parsePythonJson } from './python-json.js';
import { dictGet, isDict } from './python-values.js';
import {
  encodePem,
  getSubtle,
  importRsaPrivateKey,
  importRsaPublicKey,
  PSS_SALT_LENGTH,
  type RsaPrivateKeyInput,
  type RsaPublicKeyInput,
  teeIdFromSpki,
} from './rsa-keys.js';
import { parseSseData } from './sse.js';

/**
 * Signs a 32-byte `msg_hash` with RSASSA-PSS (SHA-256, MGF1-SHA-256, salt 32), the message being the hash
 * itself (PSS hashes it once more). Returns standard base64 with padding (`tee_signature`).
 * @throws TeeSigningError `ERR_KEY_INVALID` when the key cannot be imported.
 */
export async function signTeeMessageHash(
  privateKey: RsaPrivateKeyInput,
  msgHash: Uint8Array,
): Promise<string> {
  assertBytes(msgHash, 'msgHash', 32);
  const key = await importRsaPrivateKey(privateKey);
  const signature = await getSubtle().sign(
    { name: 'RSA-PSS', saltLength: PSS_SALT_LENGTH },
    key,
    toBytes(msgHash),
  );
  return bytesToBase64(new Uint8Array(signature));
}

function decodeSignature(signature: string | Uint8Array): Bytes {
  if (isBytes(signature)) return toBytes(signature);
  if (typeof signature !== 'string')
    throw new TeeSigningError('ERR_SIGNATURE_MALFORMED', 'signature must be base64 text or bytes');
  try {
    return base64ToBytes(signature);
  } catch (cause) {
    throw new TeeSigningError('ERR_SIGNATURE_MALFORMED', 'signature is not valid standard base64', { cause });
  }
}

/**
 * Verifies an RSA-PSS (SHA-256, salt 32) signature over a 32-byte `msg_hash`. Returns false for a wrong
 * signature, including one of the wrong length.
 * @throws TeeSigningError `ERR_SIGNATURE_MALFORMED` for undecodable base64, `ERR_KEY_INVALID` for a bad key.
 */
export async function verifyTeeMessageHashSignature(
  publicKey: RsaPublicKeyInput,
  msgHash: Uint8Array,
  signature: string | Uint8Array,
): Promise<boolean> {
  assertBytes(msgHash, 'msgHash', 32);
  const signatureBytes = decodeSignature(signature);
  const key = await importRsaPublicKey(publicKey);
  const modulusBytes = Math.ceil((key.algorithm as RsaHashedKeyAlgorithm).modulusLength / 8);
  if (signatureBytes.length !== modulusBytes) return false;
  try {
    return await getSubtle().verify(
      { name: 'RSA-PSS', saltLength: PSS_SALT_LENGTH },
      key,
      signatureBytes,
      toBytes(msgHash),
    );
  } catch {
    return false;
  }
}

/** The proof fields the gateway adds to a response (top level, or the final SSE frame). */
export interface TeeSignatureFields {
  /** base64 RSA-PSS signature. */
  tee_signature: string;
  /** keccak256 of the canonical request bytes, lowercase hex without `0x`. */
  tee_request_hash: string;
  /** keccak256 of the output content, lowercase hex without `0x`. */
  tee_output_hash: string;
  /** Unix seconds at signing (also `created` in non-streaming responses). */
  tee_timestamp: number;
  /** `0x` + keccak256 of the signing key's SPKI DER. */
  tee_id: string;
}

/** What to sign with {@link OpenGradientSigner.signResponse}. */
export interface SignResponseInput {
  /** The canonical request dict (from the request builders). Exactly one of this and `requestBytes`. */
  canonicalRequest?: unknown;
  /** The exact request bytes (canonical JSON) to hash. */
  requestBytes?: Uint8Array | string;
  /** The output content (assistant text, or `toolCallsOutputContent(...)`). */
  responseContent: string;
  /** Unix seconds; default the signer's clock. */
  timestamp?: number;
}

/** The heartbeat relay body fields (`POST {facilitator}/heartbeat`). */
export interface SignedHeartbeat {
  /** `0x` + tee_id hex. */
  teeId: string;
  /** Decimal string of the signed timestamp. */
  timestamp: string;
  /** base64 RSA-PSS signature over `keccak256(teeId ‖ uint256(timestamp))`. */
  signature: string;
}

/** A gateway-side signer for the OpenGradient scheme. */
export interface OpenGradientSigner {
  /** `0x` + keccak256(SPKI DER). */
  readonly teeId: string;
  /** SPKI PEM of the public key (as `/signing-key` serves it). */
  readonly publicKeyPem: string;
  /** SPKI DER of the public key. */
  readonly publicKeySpki: Bytes;
  /** The public key, ready for verification. */
  readonly publicKey: CryptoKey;
  /** Signs a 32-byte msg_hash; returns base64. */
  signMessageHash(msgHash: Uint8Array): Promise<string>;
  /** Hashes and signs a response; returns the `tee_*` fields to add to it. */
  signResponse(input: SignResponseInput): Promise<TeeSignatureFields>;
  /** Signs a heartbeat for `timestamp` (the gateway subtracts its clock-skew buffer first). */
  signHeartbeat(timestamp: number): Promise<SignedHeartbeat>;
}

/** Options for {@link createOpenGradientSigner}. */
export interface OpenGradientSignerOptions {
  /** The RSA private key. Omit to generate a fresh 2048-bit key in memory (as the gateway does). */
  privateKey?: RsaPrivateKeyInput;
  /** The public key, required when `privateKey` is a non-extractable CryptoKey. */
  publicKey?: RsaPublicKeyInput;
  /** Clock in milliseconds (default `Date.now`); timestamps are `floor(now() / 1000)`. */
  now?: () => number;
}

/**
 * Creates a gateway-side signer: holds the RSA key, exposes tee_id and the PEM public key, and signs
 * responses and heartbeats byte-compatibly with the reference gateway.
 *
 * @example
 * ```ts
 * const signer = await createOpenGradientSigner();
 * const canonicalRequest = buildChatCanonicalRequest(rawBody);
 * const fields = await signer.signResponse({ canonicalRequest, responseContent: 'Hello!' });
 * const response = { ...openAiResponse, created: fields.tee_timestamp, ...fields };
 * ```
 * @throws TeeSigningError `ERR_KEY_INVALID` for unusable keys.
 */
export async function createOpenGradientSigner(
  options: OpenGradientSignerOptions = {},
): Promise<OpenGradientSigner> {
  const subtle = getSubtle();
  let privateKey: CryptoKey;
  let publicKey: CryptoKey;
  if (options.privateKey === undefined) {
    const pair = (await subtle.generateKey(
      { name: 'RSA-PSS', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
      false,
      ['sign', 'verify'],
    )) as CryptoKeyPair;
    privateKey = pair.privateKey;
    publicKey = pair.publicKey;
  } else {
    // The signing key stays non-extractable; the public half is derived from a temporary extractable import.
    privateKey = await importRsaPrivateKey(options.privateKey);
    publicKey =
      options.publicKey !== undefined
        ? await importRsaPublicKey(options.publicKey)
        : await importRsaPublicKey(
            typeof options.privateKey === 'object' &&
              'type' in options.privateKey &&
              'algorithm' in options.privateKey
              ? options.privateKey
              : await importRsaPrivateKey(options.privateKey, { extractable: true }),
          );
  }
  const publicKeySpki = new Uint8Array(await subtle.exportKey('spki', publicKey));
  if (options.publicKey !== undefined && options.privateKey !== undefined) {
    // Refuse a mismatched pair: sign a probe and verify it with the given public key.
    const probe = new Uint8Array(32);
    const probeSignature = await subtle.sign(
      { name: 'RSA-PSS', saltLength: PSS_SALT_LENGTH },
      privateKey,
      probe,
    );
    const ok = await subtle.verify(
      { name: 'RSA-PSS', saltLength: PSS_SALT_LENGTH },
      publicKey,
      probeSignature,
      probe,
    );
    if (!ok) throw new TeeSigningError('ERR_KEY_INVALID', 'publicKey does not belong to privateKey');
  }
  const teeId = teeIdFromSpki(publicKeySpki);
  const now = options.now ?? Date.now;
  const signMessageHash = async (msgHash: Uint8Array): Promise<string> => {
    assertBytes(msgHash, 'msgHash', 32);
    const signature = await subtle.sign(
      { name: 'RSA-PSS', saltLength: PSS_SALT_LENGTH },
      privateKey,
      toBytes(msgHash),
    );
    return bytesToBase64(new Uint8Array(signature));
  };
  const clockSeconds = (): number => Math.floor(now() / 1000);
  return Object.freeze({
    teeId,
    publicKeyPem: encodePem('PUBLIC KEY', publicKeySpki),
    publicKeySpki,
    publicKey,
    signMessageHash,
    async signResponse(input: SignResponseInput): Promise<TeeSignatureFields> {
      if ((input.canonicalRequest === undefined) === (input.requestBytes === undefined)) {
        throw new TypeError('signResponse needs exactly one of canonicalRequest and requestBytes');
      }
      const requestBytes = input.requestBytes ?? canonicalRequestBytes(input.canonicalRequest);
      const timestamp = input.timestamp ?? clockSeconds();
      if (!Number.isSafeInteger(timestamp) || timestamp < 0)
        throw new RangeError('timestamp must be a non-negative integer');
      const hashes = computeTeeMessageHash(requestBytes, input.responseContent, timestamp);
      return {
        tee_signature: await signMessageHash(hashes.msgHash),
        tee_request_hash: hashes.requestHash,
        tee_output_hash: hashes.outputHash,
        tee_timestamp: timestamp,
        tee_id: teeId,
      };
    },
    async signHeartbeat(timestamp: number): Promise<SignedHeartbeat> {
      if (!Number.isSafeInteger(timestamp) || timestamp < 0)
        throw new RangeError('timestamp must be a non-negative integer');
      return {
        teeId,
        timestamp: String(timestamp),
        signature: await signMessageHash(heartbeatMessageHash(teeId, timestamp)),
      };
    },
  });
}

/** The verified provenance of one response (the reference verifier's `TeeProof`). */
export interface TeeProof {
  /** tee_id as the response states it. */
  teeId: string;
  /** Recomputed request hash (lowercase hex, no `0x`). */
  requestHash: string;
  /** Recomputed output hash (lowercase hex, no `0x`). */
  outputHash: string;
  /** Enclave-asserted signing time, Unix seconds. */
  timestamp: bigint;
  /** The base64 signature that verified. */
  signature: string;
  /** The exact output content that was hashed. */
  responseContent: string;
  /** Whether the signed response was a JSON body or the final frame of an SSE stream. */
  source: 'json' | 'sse';
}

/** Options for {@link verifyResponse}. Give the request as exactly one of `request`, `canonicalRequest`, `requestBytes`. */
export interface VerifyResponseOptions {
  /**
   * The request as sent: an OpenAI chat or completions body (object, JSON text or bytes; text and bytes
   * are parsed like Python `json.loads`, which is exact). The canonical form is rebuilt from it.
   */
  request?: unknown;
  /** Which builder applies to `request`. Default: `completions` when the body has `prompt` and no `messages`. */
  endpoint?: OpenGradientEndpoint;
  /** Passed to the chat builder (see {@link buildChatCanonicalRequest}). */
  includeWebSearch?: boolean;
  /** An already canonical request dict. */
  canonicalRequest?: unknown;
  /** The exact request bytes the gateway hashed. */
  requestBytes?: Uint8Array | string;
  /**
   * The signed response: a parsed JSON body, JSON text, SSE text (the whole stream; the final frame
   * carries the proof) or the bytes of either.
   */
  response: unknown;
  /** The output content, when the caller already has it (otherwise derived from `response`). */
  responseContent?: string;
  /** The enclave's RSA public key (trust anchor, e.g. from the on-chain TEE registry). */
  signingKey: RsaPublicKeyInput;
  /** Require this tee_id too (`0x` optional, any case). */
  expectedTeeId?: string;
}

/** tee_id per imported public key, so repeated verifications with one CryptoKey export it once. */
const teeIdCache = new WeakMap<CryptoKey, string>();

function malformed(message: string, cause?: unknown): TeeSigningError {
  return new TeeSigningError('ERR_RESPONSE_MALFORMED', message, cause === undefined ? undefined : { cause });
}

function strip0x(value: string): string {
  return value.startsWith('0x') ? value.slice(2) : value;
}

function requireString(body: Record<string, unknown> | Map<string, unknown>, key: string): string {
  const value = dictGet(body, key);
  if (typeof value !== 'string') throw malformed(`response is missing a string '${key}'`);
  return value;
}

const PY_INT_TEXT = /^[+-]?\d(?:_?\d)*$/;

function requireTimestamp(body: Record<string, unknown> | Map<string, unknown>): bigint {
  const value = dictGet(body, 'tee_timestamp');
  let timestamp: bigint;
  if (typeof value === 'bigint') timestamp = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) timestamp = BigInt(value);
  else if (typeof value === 'string' && PY_INT_TEXT.test(value.trim()))
    timestamp = BigInt(value.trim().replaceAll('_', ''));
  else throw malformed("response is missing an integer 'tee_timestamp'");
  if (timestamp < 0n || timestamp >= 1n << 256n)
    throw malformed("'tee_timestamp' is out of the uint256 range");
  return timestamp;
}

interface SignedResponseParts {
  fields: Record<string, unknown> | Map<string, unknown>;
  content: string;
  source: 'json' | 'sse';
}

function parseJsonOrFail(text: string): unknown {
  try {
    return parsePythonJson(text);
  } catch (cause) {
    throw malformed('response is not valid JSON', cause);
  }
}

function fromSse(text: string): SignedResponseParts {
  const accumulator = new StreamOutputAccumulator();
  let final: Record<string, unknown> | Map<string, unknown> | undefined;
  for (const data of parseSseData(text)) {
    if (data === '[DONE]') break;
    if (final !== undefined) throw malformed('SSE stream has data after the signed final frame');
    const frame = parseJsonOrFail(data);
    if (!isDict(frame)) throw malformed('SSE frame is not a JSON object');
    if (dictGet(frame, 'error') !== undefined)
      throw malformed('SSE stream reports an error; it carries no signature');
    accumulator.add(frame);
    if (dictGet(frame, 'tee_signature') !== undefined) final = frame;
  }
  if (final === undefined) throw malformed('SSE stream has no frame carrying tee_signature');
  return { fields: final, content: accumulator.outputContent(), source: 'sse' };
}

function splitResponse(response: unknown): SignedResponseParts {
  let value = response;
  if (value instanceof Uint8Array) {
    try {
      value = new TextDecoder('utf-8', { fatal: true }).decode(value);
    } catch (cause) {
      throw malformed('response bytes are not valid UTF-8', cause);
    }
  }
  if (typeof value === 'string') {
    const trimmed = value.trimStart();
    if (trimmed.startsWith('{')) value = parseJsonOrFail(value);
    else return fromSse(value);
  }
  if (!isDict(value)) throw malformed('response must be a JSON object, JSON text or an SSE stream');
  return { fields: value, content: responseContentForHash(value), source: 'json' };
}

function resolveRequestBytes(options: VerifyResponseOptions): Uint8Array | string {
  const given = [options.request, options.canonicalRequest, options.requestBytes].filter(
    (x) => x !== undefined,
  ).length;
  if (given !== 1) throw new TypeError('give exactly one of request, canonicalRequest and requestBytes');
  if (options.requestBytes !== undefined) return options.requestBytes;
  if (options.canonicalRequest !== undefined) return canonicalRequestBytes(options.canonicalRequest);
  let body = options.request;
  if (typeof body === 'string' || body instanceof Uint8Array) body = parsePythonJson(body);
  let endpoint = options.endpoint;
  if (endpoint === undefined) {
    endpoint =
      isDict(body) && dictGet(body, 'messages') === undefined && dictGet(body, 'prompt') !== undefined
        ? 'completions'
        : 'chat';
  }
  const canonical =
    endpoint === 'completions'
      ? buildCompletionsCanonicalRequest(body)
      : buildChatCanonicalRequest(
          body,
          options.includeWebSearch === undefined ? {} : { includeWebSearch: options.includeWebSearch },
        );
  return canonicalRequestBytes(canonical);
}

/**
 * Verifies a whole signed gateway response the way the reference SDK verifier (`verify_response`) does:
 * 1. `tee_id` in the response equals `0x` + keccak256(SPKI DER of `signingKey`) (and `expectedTeeId`);
 * 2. the request hash recomputed from the canonical request equals `tee_request_hash`;
 * 3. the output hash recomputed from the content equals `tee_output_hash`;
 * 4. the RSA-PSS (salt 32) signature verifies over `keccak256(requestHash ‖ outputHash ‖ uint256(ts))`.
 *
 * Works on a JSON body or on a whole SSE stream (text deltas and tool-call deltas are accumulated; the
 * last frame with `tee_signature` is the proof). `tee_timestamp` may be an integer or a decimal string.
 *
 * @example
 * ```ts
 * const proof = await verifyResponse({ request: rawRequestText, response: await res.text(), signingKey: pem });
 * console.log(proof.teeId, proof.timestamp);
 * ```
 * @throws TeeSigningError `ERR_RESPONSE_MALFORMED`, `ERR_TEE_ID_MISMATCH`, `ERR_REQUEST_HASH_MISMATCH`,
 * `ERR_OUTPUT_HASH_MISMATCH`, `ERR_SIGNATURE_MALFORMED`, `ERR_SIGNATURE_INVALID`, `ERR_KEY_INVALID`,
 * `ERR_REQUEST_UNSUPPORTED`, `ERR_JSON_PARSE`.
 */
export async function verifyResponse(options: VerifyResponseOptions): Promise<TeeProof> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const parts = splitResponse(options.response);
  const fields = parts.fields;
  const signature = requireString(fields, 'tee_signature');
  const reportedRequestHash = requireString(fields, 'tee_request_hash');
  const reportedOutputHash = requireString(fields, 'tee_output_hash');
  const timestamp = requireTimestamp(fields);
  const reportedTeeId = requireString(fields, 'tee_id');

  const publicKey = await importRsaPublicKey(options.signingKey);
  let keyTeeId = teeIdCache.get(publicKey);
  if (keyTeeId === undefined) {
    keyTeeId = teeIdFromSpki(new Uint8Array(await getSubtle().exportKey('spki', publicKey)));
    teeIdCache.set(publicKey, keyTeeId);
  }
  if (strip0x(reportedTeeId).toLowerCase() !== strip0x(keyTeeId)) {
    throw new TeeSigningError(
      'ERR_TEE_ID_MISMATCH',
      `tee_id mismatch: the response's tee_id is not the signing key's (${keyTeeId})`,
    );
  }
  if (
    options.expectedTeeId !== undefined &&
    strip0x(reportedTeeId).toLowerCase() !== strip0x(options.expectedTeeId).toLowerCase()
  ) {
    throw new TeeSigningError(
      'ERR_TEE_ID_MISMATCH',
      'tee_id mismatch: the response is not from the expected TEE',
    );
  }

  const responseContent = options.responseContent ?? parts.content;
  const requestHashBytes = keccak256(resolveRequestBytes(options));
  const outputHashBytes = keccak256(responseContent);
  const hashes = { requestHash: bytesToHex(requestHashBytes), outputHash: bytesToHex(outputHashBytes) };
  if (hashes.requestHash !== strip0x(reportedRequestHash).toLowerCase()) {
    throw new TeeSigningError(
      'ERR_REQUEST_HASH_MISMATCH',
      `request hash mismatch: the gateway signed a different request (computed ${hashes.requestHash})`,
    );
  }
  if (hashes.outputHash !== strip0x(reportedOutputHash).toLowerCase()) {
    throw new TeeSigningError(
      'ERR_OUTPUT_HASH_MISMATCH',
      `output hash mismatch: the content does not match the signed output (computed ${hashes.outputHash})`,
    );
  }
  const msgHash = teeMessageHash(requestHashBytes, outputHashBytes, timestamp);
  const ok = await verifyTeeMessageHashSignature(publicKey, msgHash, signature);
  if (!ok) throw new TeeSigningError('ERR_SIGNATURE_INVALID', 'RSA-PSS signature verification failed');
  return {
    teeId: reportedTeeId,
    requestHash: hashes.requestHash,
    outputHash: hashes.outputHash,
    timestamp,
    signature,
    responseContent,
    source: parts.source,
  };
}

/**
 * The `X-TEE-*` response headers the og-x402 middleware adds on buffered responses (tee-gateway.md §3.4):
 * `X-TEE-Signature`, `X-TEE-ID` (`0x` form, only when it is 32 bytes of hex), `X-TEE-Timestamp`,
 * `X-TEE-Request-Hash` and `X-TEE-Output-Hash`.
 * @example
 * ```ts
 * for (const [name, value] of Object.entries(teeSignatureHeaders(fields))) response.headers.set(name, value);
 * ```
 */
export function teeSignatureHeaders(fields: TeeSignatureFields): Record<string, string> {
  const headers: Record<string, string> = {
    'X-TEE-Signature': fields.tee_signature,
    'X-TEE-Timestamp': String(fields.tee_timestamp),
    'X-TEE-Request-Hash': fields.tee_request_hash,
    'X-TEE-Output-Hash': fields.tee_output_hash,
  };
  const id = strip0x(fields.tee_id);
  if (/^[0-9a-fA-F]{64}$/.test(id)) headers['X-TEE-ID'] = `0x${id}`;
  return headers;
}
