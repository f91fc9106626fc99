import {
  type Bytes,
  bytesToHex,
  bytesToUtf8,
  equalBytes,
  hexToBytes,
  isBytes,
  readStreamLimited,
  toBytes,
} from '@confidential-ai/bytes';
import { sha256 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { NitroAttestationError } from './errors.js';
import { MAX_DOCUMENT_BYTES, pemToDer } from './input.js';
import { type Measurements, parseMeasurements } from './measurements.js';
import { peerCertificate, pinnedFetch } from './tls-peer.js';
import {
  type CertificateInput,
  type PublicKeyInput,
  subjectPublicKeyInfo,
  tlsCertificateHash,
} from './user-data.js';
import {
  type AttestationVerificationResult,
  createNitroVerifier,
  type ExpectedPcrs,
  type NitroVerifier,
  type NitroVerifierOptions,
  type VerifyOptions,
} from './verify.js';

// "Is this gateway running the code I built?": fetch a fresh attestation document from a nitriding-fronted
// gateway (tee-gateway) and verify it end to end. nitriding serves `GET /enclave/attestation?nonce=<40 hex>`
// (20 bytes, case-insensitive hex; body = standard base64 of the document and a newline) and binds, in
// `user_data`, SHA-256 of its TLS certificate's DER and the 32 bytes the application registered (tee-gateway:
// SHA-256 of its signing key's SubjectPublicKeyInfo DER, whose keccak256 is the `tee_id` of `/signing-key`).

/** Bytes of a nitriding nonce. */
export const NITRIDING_NONCE_BYTES = 20;
/** Default time limit of each gateway request, in milliseconds. */
export const DEFAULT_GATEWAY_TIMEOUT = 10_000;

const ATTESTATION_PATH = '/enclave/attestation';
const SIGNING_KEY_PATH = '/signing-key';
const MAX_ATTESTATION_BODY = Math.ceil((MAX_DOCUMENT_BYTES * 4) / 3) + 1024;
const MAX_SIGNING_KEY_BODY = 64 * 1024;

/** Options of {@link verifyRemoteAttestation}. */
export interface RemoteAttestationOptions
  extends Omit<VerifyOptions, 'expectedNonce' | 'encoding' | 'signingKey' | 'tlsCertificate'>,
    Pick<NitroVerifierOptions, 'root' | 'rootFingerprint'> {
  /** The gateway's base URL (`https://host`) or its attestation URL (`https://host/enclave/attestation`). */
  url: string | URL;
  /**
   * Expected PCRs of the build: a {@link Measurements} from {@link parseMeasurements}, or the text / bytes of
   * a measurements file (nitro-cli's `{"Measurements": …}`, tee-gateway's `measurements.txt`, or
   * `{"pcrs": …}`). Checked together with `expectedPcrs`; at least one of the two is required.
   */
  measurements?: Measurements | string | Uint8Array;
  /**
   * The gateway's signing key, whose SPKI DER's SHA-256 must equal `user_data[36:68]`. `'gateway'` (default):
   * fetched from the gateway's `/signing-key` (tee-gateway's `{"public_key": PEM, "tee_id": "0x…"}`, where
   * `tee_id` must be keccak256 of the key's SPKI DER); a key (SPKI DER, PEM or `CryptoKey`): that key; `false`:
   * not checked.
   */
  signingKey?: PublicKeyInput | 'gateway' | false;
  /**
   * nitriding's TLS certificate, whose DER's SHA-256 must equal `user_data[2:34]`. `'peer'` (the default for
   * `https:` URLs): the certificate the gateway presents; without a custom `fetch`, every request then goes
   * only to a server presenting that certificate (no certificate authority is consulted: the attestation
   * vouches for it). A certificate (DER or PEM): that one, pinned the same way. `false` (the default for
   * `http:` URLs): not checked.
   */
  tlsCertificate?: CertificateInput | 'peer' | false;
  /** The `fetch` to use (default: `globalThis.fetch`, or the certificate-pinning one described above). */
  fetch?: typeof fetch;
  /** Time limit of each request (TLS handshake, attestation, signing key), in milliseconds. Default 10 000. */
  timeout?: number;
  /** Aborts the requests. */
  signal?: AbortSignal;
  /** A verifier to reuse (its cache and trust anchor); default: a new one with `root` / `rootFingerprint`. */
  verifier?: NitroVerifier;
  /**
   * Source of the nonce (default: 20 random bytes from `crypto.getRandomValues`, what nitriding requires).
   * Inject one only in tests; a nonce proves freshness only if it is random and used once.
   */
  createNonce?: () => Uint8Array;
}

/** What {@link verifyRemoteAttestation} verified. */
export interface RemoteAttestationResult {
  /** The attestation URL requested, nonce included. */
  readonly url: string;
  /** The nonce sent, hex. */
  readonly nonce: string;
  /** The document's verification (`checks.nonce` is always true here). */
  readonly attestation: AttestationVerificationResult;
  /** The PCRs the measurements and `expectedPcrs` asked for, index → hex, all matched. */
  readonly expectedPcrs: Readonly<Record<string, string>>;
  /** The signing key bound by `user_data`, or null when not checked. */
  readonly signingKey: {
    /** Where it came from: the gateway's `/signing-key`, or the caller. */
    readonly source: 'gateway' | 'given';
    /** The PEM as served by the gateway (null for a key given by the caller). */
    readonly publicKeyPem: string | null;
    /** SHA-256 of its SPKI DER, hex (= `user_data[36:68]`). */
    readonly sha256: string;
    /** `0x` + keccak256 of its SPKI DER: tee-gateway's `tee_id`. */
    readonly teeId: string;
  } | null;
  /** The TLS certificate bound by `user_data`, or null when not checked. */
  readonly tlsCertificate: {
    /** The certificate the gateway presented, or the caller's. */
    readonly source: 'peer' | 'given';
    /** SHA-256 of its DER, hex (= `user_data[2:34]`). */
    readonly sha256: string;
    /** Whether the requests were made only to a server presenting this certificate. */
    readonly pinned: boolean;
  } | null;
}

function failed(message: string, cause?: unknown): NitroAttestationError {
  return new NitroAttestationError('ERR_NITRO_FETCH_FAILED', message, { cause });
}

function badResponse(message: string, cause?: unknown): NitroAttestationError {
  return new NitroAttestationError('ERR_NITRO_GATEWAY_RESPONSE_INVALID', message, { cause });
}

function gatewayUrls(input: string | URL): { attestation: URL; signingKey: URL } {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch (cause) {
    throw new TypeError('url is not a valid URL', { cause });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new TypeError('url must be http: or https:');
  const prefix = url.pathname.replace(/\/+$/, '').replace(/\/enclave\/attestation$/, '');
  const at = (path: string) => new URL(`${url.protocol}//${url.host}${prefix}${path}`);
  const attestation = at(ATTESTATION_PATH);
  const signingKey = at(SIGNING_KEY_PATH);
  return { attestation, signingKey };
}

function defaultNonce(): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(NITRIDING_NONCE_BYTES));
}

function mergedPcrs(measurements: Measurements | null, extra: ExpectedPcrs | undefined): Map<number, Bytes> {
  const merged = new Map<number, Bytes>(measurements?.pcrs ?? []);
  const entries: [number | string, Uint8Array | string][] =
    extra === undefined ? [] : extra instanceof Map ? [...extra.entries()] : Object.entries(extra);
  for (const [key, value] of entries) {
    const index = Number(key);
    if (!Number.isInteger(index) || index < 0 || index > 31)
      throw new RangeError(`expectedPcrs key ${key} is not 0..31`);
    let bytes: Bytes;
    try {
      bytes = isBytes(value) ? toBytes(value) : hexToBytes(String(value), { allowPrefix: true });
    } catch (cause) {
      throw new TypeError(`expectedPcrs[${index}] is not valid hex`, { cause });
    }
    const known = merged.get(index);
    if (known && !equalBytes(known, bytes))
      throw new RangeError(`expectedPcrs[${index}] contradicts the measurements`);
    merged.set(index, bytes);
  }
  return merged;
}

async function readBody(response: Response, limit: number, what: string): Promise<Bytes> {
  const declared = Number(response.headers.get('content-length'));
  const body = await readStreamLimited(response.body, {
    maxBytes: limit,
    ...(Number.isFinite(declared) ? { declaredLength: declared } : {}),
  });
  if (body === undefined) throw failed(`${what} response is too large`);
  return body;
}

async function get(
  doFetch: typeof fetch,
  url: URL,
  limit: number,
  what: string,
  timeout: number,
  signal: AbortSignal | undefined,
): Promise<Bytes> {
  const timer = AbortSignal.timeout(timeout);
  const combined = signal ? AbortSignal.any([signal, timer]) : timer;
  let response: Response;
  try {
    response = await doFetch(url, { method: 'GET', redirect: 'error', signal: combined });
  } catch (cause) {
    if (NitroAttestationError.isInstance(cause)) throw cause;
    if (timer.aborted) throw failed(`${what} request to ${url.host} timed out after ${timeout} ms`, cause);
    const code = (cause as { cause?: { code?: unknown } } | null)?.cause?.code;
    throw failed(
      `${what} request to ${url.host} failed${typeof code === 'string' ? ` (${code})` : ''}`,
      cause,
    );
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => {});
    throw failed(`${what} request to ${url.host} answered HTTP ${response.status}`);
  }
  try {
    return await readBody(response, limit, what);
  } catch (cause) {
    if (NitroAttestationError.isInstance(cause)) throw cause;
    if (timer.aborted) throw failed(`${what} response from ${url.host} timed out after ${timeout} ms`, cause);
    throw failed(`${what} response from ${url.host} was cut off`, cause);
  }
}

/** Parses tee-gateway's `/signing-key` answer and checks that `tee_id` is keccak256 of the key's SPKI DER. */
function gatewaySigningKey(body: Bytes): { pem: string; spki: Bytes; teeId: string } {
  let value: unknown;
  try {
    value = JSON.parse(bytesToUtf8(body));
  } catch (cause) {
    throw badResponse('/signing-key did not answer JSON', cause);
  }
  const pem = (value as { public_key?: unknown } | null)?.public_key;
  const teeId = (value as { tee_id?: unknown } | null)?.tee_id;
  if (typeof pem !== 'string' || typeof teeId !== 'string') {
    throw badResponse('/signing-key answer lacks the public_key and tee_id strings');
  }
  let spki: Bytes;
  try {
    spki = pemToDer(pem, 'PUBLIC KEY');
  } catch (cause) {
    throw badResponse('/signing-key public_key is not a PEM "PUBLIC KEY"', cause);
  }
  const expected = `0x${bytesToHex(keccak_256(spki))}`;
  if (teeId.toLowerCase() !== expected) {
    throw badResponse('/signing-key tee_id is not keccak256 of the public key (SubjectPublicKeyInfo DER)');
  }
  return { pem, spki, teeId: expected };
}

/**
 * Asks a nitriding-fronted gateway (OpenGradient tee-gateway) for an attestation document with a fresh random
 * nonce and verifies it: the nonce, the PCRs of your build (`measurements` / `expectedPcrs`), the
 * certificate chain to the pinned AWS root and the COSE signature, and nitriding's `user_data` binding of the
 * gateway's signing key (from its `/signing-key`, whose `tee_id` must match) and of the TLS certificate it
 * presents. One call answers "is this gateway running the code I built?".
 *
 * @throws NitroAttestationError `ERR_NITRO_FETCH_FAILED` (network, TLS, timeout, HTTP status, size),
 *   `ERR_NITRO_GATEWAY_RESPONSE_INVALID` (`/signing-key`), `ERR_NITRO_MEASUREMENTS_INVALID`, and every code of
 *   {@link verifyAttestationDocument} (`ERR_NITRO_NONCE_MISMATCH`, `ERR_NITRO_PCR_MISMATCH`, ...).
 * @throws TypeError when `url` is not http(s), or neither `measurements` nor `expectedPcrs` is given.
 * @example
 * ```ts
 * const result = await verifyRemoteAttestation({
 *   url: 'https://gateway.example/enclave/attestation',
 *   measurements: readFileSync('measurements.txt', 'utf8'),
 * });
 * result.signingKey?.teeId; // the tee_id whose signatures you can now trust
 * ```
 */
export async function verifyRemoteAttestation(
  options: RemoteAttestationOptions,
): Promise<RemoteAttestationResult> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const {
    url,
    measurements: measurementsInput,
    signingKey: signingKeyOption = 'gateway',
    tlsCertificate: tlsInput,
    fetch: customFetch,
    timeout = DEFAULT_GATEWAY_TIMEOUT,
    signal,
    verifier: givenVerifier,
    createNonce = defaultNonce,
    root,
    rootFingerprint,
    ...verifyOptions
  } = options;
  const urls = gatewayUrls(url);
  const https = urls.attestation.protocol === 'https:';
  const tlsOption = tlsInput ?? (https ? 'peer' : false);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new RangeError('timeout must be a positive number');
  if (customFetch !== undefined && typeof customFetch !== 'function')
    throw new TypeError('fetch must be a function');
  if (tlsOption === 'peer' && !https) throw new TypeError("tlsCertificate 'peer' needs an https: url");
  const measurements =
    measurementsInput === undefined
      ? null
      : typeof measurementsInput === 'string' || isBytes(measurementsInput)
        ? parseMeasurements(measurementsInput)
        : measurementsInput;
  const expectedPcrs = mergedPcrs(measurements, verifyOptions.expectedPcrs);
  if (expectedPcrs.size === 0) {
    throw new TypeError(
      'measurements or expectedPcrs is required: without them nothing ties the gateway to a build',
    );
  }
  const nonce = createNonce();
  if (!isBytes(nonce) || nonce.length === 0 || nonce.length > 512) {
    throw new TypeError('createNonce must return 1 to 512 bytes');
  }
  const verifier =
    givenVerifier ??
    createNitroVerifier({
      cache: false,
      ...(root !== undefined ? { root } : {}),
      ...(rootFingerprint !== undefined ? { rootFingerprint } : {}),
    });

  // The TLS certificate to bind, and the fetch that talks only to the server holding it.
  let certificate: Bytes | null = null;
  let source: 'peer' | 'given' = 'given';
  if (tlsOption === 'peer') {
    certificate = await peerCertificate(urls.attestation, timeout, signal);
    source = 'peer';
  } else if (tlsOption !== false) {
    certificate = toBytes(isBytes(tlsOption) ? tlsOption : pemToDer(tlsOption, 'CERTIFICATE'));
  }
  const pinned = customFetch === undefined && https && certificate !== null;
  const doFetch: typeof fetch =
    customFetch ??
    (pinned ? pinnedFetch(certificate as Bytes, MAX_ATTESTATION_BODY) : globalThis.fetch.bind(globalThis));

  const attestationUrl = new URL(urls.attestation);
  attestationUrl.searchParams.set('nonce', bytesToHex(nonce));
  const body = await get(doFetch, attestationUrl, MAX_ATTESTATION_BODY, 'attestation', timeout, signal);

  let signingKey: RemoteAttestationResult['signingKey'] = null;
  let signingKeyDer: Bytes | null = null;
  if (signingKeyOption === 'gateway') {
    const served = gatewaySigningKey(
      await get(doFetch, urls.signingKey, MAX_SIGNING_KEY_BODY, 'signing-key', timeout, signal),
    );
    signingKeyDer = served.spki;
    signingKey = {
      source: 'gateway',
      publicKeyPem: served.pem,
      sha256: bytesToHex(sha256(served.spki)),
      teeId: served.teeId,
    };
  } else if (signingKeyOption !== false) {
    signingKeyDer = await subjectPublicKeyInfo(signingKeyOption);
    signingKey = {
      source: 'given',
      publicKeyPem: null,
      sha256: bytesToHex(sha256(signingKeyDer)),
      teeId: `0x${bytesToHex(keccak_256(signingKeyDer))}`,
    };
  }

  let text: string;
  try {
    text = bytesToUtf8(body);
  } catch (cause) {
    throw new NitroAttestationError('ERR_NITRO_INPUT_ENCODING', 'attestation response is not text', {
      cause,
    });
  }
  const attestation = await verifier.verify(text, {
    ...verifyOptions,
    encoding: 'base64',
    expectedNonce: nonce,
    expectedPcrs,
    ...(signingKeyDer !== null ? { signingKey: signingKeyDer } : {}),
    ...(certificate !== null ? { tlsCertificate: certificate } : {}),
  });
  return {
    url: attestationUrl.toString(),
    nonce: bytesToHex(nonce),
    attestation,
    expectedPcrs: Object.fromEntries(
      [...expectedPcrs].map(([index, value]) => [String(index), bytesToHex(value)]),
    ),
    signingKey,
    tlsCertificate:
      certificate === null ? null : { source, sha256: bytesToHex(tlsCertificateHash(certificate)), pinned },
  };
}
