// A TEST Nitro enclave for the tee-gateway tests: a Nitro-shaped certificate chain under a test root and
// attestation documents signed by its leaf, built with the nitro-attestation package's own synthetic-document
// helpers (one implementation), plus a minimal nitriding stand-in on loopback that serves
// `GET /enclave/attestation?nonce=` (base64 + "\n", nitro-attestation.md §6.1) and takes the application's key hash
// through nitriding's internal API (`POST /enclave/hash`, `GET /enclave/ready`), as the gateway registers it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeNitridingUserData } from '@confidential-ai/nitro-attestation';
import {
  type Chain,
  defaultPcrs,
  HOUR,
  makeDocument,
  nitroLikeChain,
  pemOf,
} from '../../nitro-attestation/test/synthetic.js';

/** A test enclave: its root (PEM) and a document factory. */
export interface TestNitroEnclave {
  /** The test root, PEM. */
  readonly rootPem: string;
  /** PCR0..2 of its documents (hex). */
  readonly pcrs: Readonly<Record<number, string>>;
  /** A document for a nonce and a registered application key hash. */
  document(nonce: Uint8Array, applicationKeyHash: Uint8Array): Promise<Uint8Array>;
}

/** Creates a test enclave whose chain is valid around the current time. */
export async function createTestNitroEnclave(): Promise<TestNitroEnclave> {
  const now = Date.now();
  const window = { notBefore: new Date(now - HOUR), notAfter: new Date(now + 3 * HOUR) };
  const chain: Chain = await nitroLikeChain({
    root: { notBefore: new Date(now - 100 * HOUR), notAfter: new Date(now + 100 * HOUR) },
    intermediate: [window, window, window],
    leaf: window,
  });
  const pcrs = defaultPcrs(0x42);
  return {
    rootPem: pemOf(chain.root.der),
    pcrs: { 0: '42'.repeat(48), 1: '42'.repeat(48), 2: '42'.repeat(48) },
    document: (nonce, applicationKeyHash) =>
      makeDocument({
        chain,
        timestamp: Date.now(),
        pcrs,
        nonce,
        publicKey: new TextEncoder().encode('dummy'),
        userData: encodeNitridingUserData({
          tlsCertificateHash: new Uint8Array(32),
          applicationKeyHash: new Uint8Array(applicationKeyHash),
        }),
      }),
  };
}

/** A running nitriding stand-in. */
export interface FakeNitriding {
  /** Public base URL (`/enclave/attestation`). */
  readonly url: string;
  /** Internal API base URL (`/enclave/hash`, `/enclave/ready`). */
  readonly internalUrl: string;
  /** Stops both listeners. */
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Starts the nitriding stand-in for `enclave`. */
export async function startFakeNitriding(enclave: TestNitroEnclave): Promise<FakeNitriding> {
  let keyHash = new Uint8Array(32);
  const internal = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method === 'POST' && request.url === '/enclave/hash') {
        const decoded = Buffer.from(Buffer.concat(chunks).toString('utf8').trim(), 'base64');
        if (decoded.length !== 32) {
          response.writeHead(400).end('bad hash');
          return;
        }
        keyHash = new Uint8Array(decoded);
        response.writeHead(200).end();
        return;
      }
      response.writeHead(request.url === '/enclave/ready' ? 200 : 404).end();
    });
  });
  const external = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const nonce = url.searchParams.get('nonce') ?? '';
    if (url.pathname !== '/enclave/attestation' || !/^[0-9a-fA-F]{40}$/.test(nonce)) {
      response.writeHead(400).end('could not find nonce in URL query parameters');
      return;
    }
    enclave.document(new Uint8Array(Buffer.from(nonce, 'hex')), keyHash).then(
      (document) => response.writeHead(200).end(`${Buffer.from(document).toString('base64')}\n`),
      () => response.writeHead(500).end(),
    );
  });
  const [url, internalUrl] = await Promise.all([listen(external), listen(internal)]);
  return {
    url,
    internalUrl,
    close: async () => {
      external.closeAllConnections();
      internal.closeAllConnections();
      await Promise.all([
        new Promise<void>((resolve) => external.close(() => resolve())),
        new Promise<void>((resolve) => internal.close(() => resolve())),
      ]);
    },
  };
}
