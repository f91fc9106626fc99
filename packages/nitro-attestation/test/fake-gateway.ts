// Loopback fakes of a nitriding-fronted tee-gateway for verifyRemoteAttestation and `verify --url`:
// - `startFixtureGateway`: plain HTTP, serves a real (expired, fixed-nonce) AWS document. Like an honest
//   nitriding it can attest only the nonce it is asked for, so it serves the document only when the request
//   carries that document's nonce (the test drives the nonce through `createNonce`); `replay: true` makes it
//   a dishonest gateway that serves the stale document whatever nonce was asked.
// - `startSyntheticGateway`: HTTPS with a self-signed P-256 certificate, signing a fresh document for every
//   request with a synthetic Nitro-shaped chain under a test root (test/synthetic.ts): the requested nonce,
//   the PCRs of the test build, and nitriding's user_data binding SHA-256 of its TLS certificate and of its
//   RSA signing key's SPKI, served at /signing-key with tee_id = keccak256(SPKI) as tee-gateway does.
import { generateKeyPairSync } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { bytesToBase64, bytesToHex, hexToBytes } from '@confidential-ai/bytes';
import { sha256 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { encodeNitridingUserData } from '../src/index.js';
import {
  type Chain,
  defaultPcrs,
  HOUR,
  issue,
  makeDocument,
  nitroLikeChain,
  pemOf,
  T0,
} from './synthetic.js';

export interface RunningGateway {
  /** Base URL, e.g. `http://127.0.0.1:12345`. */
  url: string;
  /** Requests seen (path and query). */
  requests: string[];
  close(): Promise<void>;
}

type Handler = (request: IncomingMessage, url: URL, response: ServerResponse) => void | Promise<void>;

function listen(server: ReturnType<typeof createHttpServer>, scheme: string, requests: string[]) {
  return new Promise<RunningGateway>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `${scheme}://127.0.0.1:${port}`,
        requests,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

function handle(handler: Handler, requests: string[]) {
  return (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://gateway');
    requests.push(`${url.pathname}${url.search}`);
    Promise.resolve(handler(request, url, response)).catch(() => {
      response.statusCode = 500;
      response.end();
    });
  };
}

/** nitriding's nonce rule: exactly 40 hex digits (case-insensitive) → 20 bytes; otherwise 400. */
function nitridingNonce(url: URL, response: ServerResponse): Uint8Array | null {
  const text = url.searchParams.get('nonce');
  if (!text || !/^[0-9a-fA-F]{40}$/.test(text)) {
    response.statusCode = 400;
    response.end(text ? 'unexpected nonce format; must be 40-digit hex string\n' : 'could not find nonce\n');
    return null;
  }
  return hexToBytes(text.toLowerCase());
}

export async function startFixtureGateway(options: {
  document: Uint8Array;
  nonce: Uint8Array;
  replay?: boolean;
}) {
  const requests: string[] = [];
  const server = createHttpServer(
    handle((_request, url, response) => {
      if (url.pathname !== '/enclave/attestation') {
        response.statusCode = 404;
        response.end();
        return;
      }
      if (
        (url.searchParams.get('nonce') ?? '').toLowerCase() !== bytesToHex(options.nonce) &&
        !options.replay
      ) {
        response.statusCode = 500;
        response.end('failed to obtain attestation document from hypervisor\n');
        return;
      }
      response.end(`${bytesToBase64(options.document)}\n`);
    }, requests),
  );
  return listen(server, 'http', requests);
}

export interface SyntheticPlatform {
  chain: Chain;
  /** PEM of the test root, to pass as `root`. */
  rootPem: string;
  /** The TLS certificate (DER) and private key (PEM) of the gateway. */
  tls: { der: Uint8Array; certPem: string; keyPem: string };
  /** Another TLS identity, for a gateway that is not the attested one. */
  otherTls: { der: Uint8Array; certPem: string; keyPem: string };
  /** The gateway's RSA signing key. */
  signingKey: { spki: Uint8Array; pem: string };
  otherSigningKey: { spki: Uint8Array; pem: string };
  /** The PCRs of the test build (PCR0–2 = 0x11 bytes). */
  pcrs: Map<number, Uint8Array>;
  /** The verification time to use (the synthetic chain is valid around T0). */
  at: Date;
}

async function tlsIdentity() {
  const issued = await issue({
    subject: 'localhost',
    ca: false,
    curve: 'P-256',
    notBefore: new Date(Date.now() - HOUR),
    notAfter: new Date(Date.now() + 24 * HOUR),
  });
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', issued.keys.privateKey));
  return { der: issued.der, certPem: pemOf(issued.der), keyPem: pemOf(pkcs8, 'PRIVATE KEY') };
}

function rsaKey() {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  return { spki, pem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

export async function createSyntheticPlatform(): Promise<SyntheticPlatform> {
  const chain = await nitroLikeChain();
  return {
    chain,
    rootPem: pemOf(chain.root.der),
    tls: await tlsIdentity(),
    otherTls: await tlsIdentity(),
    signingKey: rsaKey(),
    otherSigningKey: rsaKey(),
    pcrs: defaultPcrs(0x11),
    at: T0,
  };
}

export interface SyntheticGatewayOptions {
  /** Serve with this TLS identity instead of the attested one (a gateway that is not the enclave). */
  serveTls?: SyntheticPlatform['tls'];
  /** Serve this key at /signing-key instead of the attested one. */
  serveSigningKey?: SyntheticPlatform['signingKey'];
  /** Serve this tee_id instead of keccak256 of the served key. */
  teeId?: string;
  /** Attest these PCRs instead of the test build's. */
  pcrs?: Map<number, Uint8Array>;
  /** Answer /enclave/attestation after this many milliseconds. */
  delay?: number;
  /** Answer /enclave/attestation with this status and body. */
  status?: number;
  /** Plain HTTP instead of HTTPS. */
  plain?: boolean;
}

export async function startSyntheticGateway(
  platform: SyntheticPlatform,
  options: SyntheticGatewayOptions = {},
): Promise<RunningGateway> {
  const requests: string[] = [];
  const userData = encodeNitridingUserData({
    tlsCertificateHash: sha256(platform.tls.der),
    applicationKeyHash: sha256(platform.signingKey.spki),
  });
  const served = options.serveSigningKey ?? platform.signingKey;
  const handler: Handler = async (_request, url, response) => {
    if (url.pathname === '/signing-key') {
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify({
          public_key: served.pem,
          tee_id: options.teeId ?? `0x${bytesToHex(keccak_256(served.spki))}`,
          wallet_address: '0x0000000000000000000000000000000000000000',
        }),
      );
      return;
    }
    if (url.pathname !== '/enclave/attestation') {
      response.statusCode = 404;
      response.end();
      return;
    }
    if (options.delay) await new Promise((resolve) => setTimeout(resolve, options.delay));
    if (options.status) {
      response.statusCode = options.status;
      response.end('nope\n');
      return;
    }
    const nonce = nitridingNonce(url, response);
    if (!nonce) return;
    const document = await makeDocument({
      chain: platform.chain,
      nonce,
      userData,
      publicKey: new TextEncoder().encode('dummy'),
      pcrs: options.pcrs ?? platform.pcrs,
    });
    response.end(`${bytesToBase64(document)}\n`);
  };
  if (options.plain) return listen(createHttpServer(handle(handler, requests)), 'http', requests);
  const tls = options.serveTls ?? platform.tls;
  const server = createHttpsServer({ key: tls.keyPem, cert: tls.certPem }, handle(handler, requests));
  return listen(server as unknown as ReturnType<typeof createHttpServer>, 'https', requests);
}

/** The test build's measurements in nitro-cli's layout (tee-gateway's measurements.txt). */
export function measurementsText(pcrs: Map<number, Uint8Array>): string {
  const measurements: Record<string, string> = { HashAlgorithm: 'Sha384 { ... }' };
  for (const index of [0, 1, 2]) measurements[`PCR${index}`] = bytesToHex(pcrs.get(index)!);
  return `${JSON.stringify({ Measurements: measurements }, null, 2)}\n`;
}
