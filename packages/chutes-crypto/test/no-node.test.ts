import { afterAll, beforeAll, expect, it } from 'vitest';

// Simulates a runtime without Node built-ins (a browser or edge runtime): with `process.getBuiltinModule`
// gone, the package must report no native support and still work on the pure path. Vitest gives every test
// file a fresh module graph, so the package's lazy detection starts from scratch here.
const processWithBuiltins = process as { getBuiltinModule?: unknown };
const original = processWithBuiltins.getBuiltinModule;

beforeAll(() => {
  processWithBuiltins.getBuiltinModule = undefined;
});
afterAll(() => {
  processWithBuiltins.getBuiltinModule = original;
});

it('works without node:crypto and node:zlib', async () => {
  const lib = await import('../src/index.js');
  expect(lib.nativeSupport()).toEqual({ mlKem768: false, chacha20Poly1305: false, hkdf: false, gzip: false });
  expect(() =>
    lib.chacha20Poly1305Seal(new Uint8Array(32), new Uint8Array(12), new Uint8Array(1), undefined, {
      backend: 'native',
    }),
  ).toThrow(/not available/);
  const instance = lib.generateKeyPair();
  const { blob, responseKeyPair } = lib.sealRequest(instance.publicKey, { model: 'm' });
  const opened = lib.openRequest(blob, instance.secretKey);
  expect(opened.payload).toEqual({ model: 'm' });
  const reply = lib.sealResponse('{"ok":true}', opened.responsePublicKey);
  expect(lib.openResponse(reply, responseKeyPair.secretKey)).toEqual({ ok: true });
  const key = new Uint8Array(32).fill(1);
  expect(lib.openStreamChunk(lib.sealStreamChunk('data: x\n', key), key)).toBe('data: x\n');
});
