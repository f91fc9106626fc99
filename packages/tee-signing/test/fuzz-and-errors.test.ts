import { readFileSync } from 'node:fs';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  importRsaPublicKey,
  parseSseData,
  recoverPersonalSignAddress,
  TEE_SIGNING_ERROR_CODES,
  TeeSigningError,
  verifyResponse,
} from '../src/index.js';
import { codeOf, codeOfSync, loadVector } from './helpers.js';

interface PythonVectors {
  publicKeyPem: string;
  cases: { name: string; requestText: string; responseText: string }[];
}
const py = loadVector<PythonVectors>('opengradient-responses.json');

describe('fuzzing: mutated signed responses fail typed, never crash', () => {
  const key = importRsaPublicKey(py.publicKeyPem);
  test.prop(
    [
      fc.integer({ min: 0, max: py.cases.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.string({ unit: 'binary', minLength: 0, maxLength: 3 })), {
        minLength: 1,
        maxLength: 4,
      }),
      fc.boolean(),
    ],
    { numRuns: 150 },
  )('random splices', async (index, edits, truncate) => {
    const vector = py.cases[index]!;
    let text = vector.responseText;
    for (const [position, insert] of edits) {
      const at = position % (text.length + 1);
      text = text.slice(0, at) + insert + text.slice(at + (insert.length > 0 ? 1 : 0));
    }
    if (truncate) text = text.slice(0, Math.floor(text.length / 2));
    const code = await codeOf(async () =>
      verifyResponse({ request: vector.requestText, response: text, signingKey: await key }),
    );
    if (code !== undefined) expect(TEE_SIGNING_ERROR_CODES).toContain(code);
  });

  test.prop([fc.string({ unit: 'binary', maxLength: 200 })], { numRuns: 200 })(
    'arbitrary SSE text',
    async (text) => {
      expect(Array.isArray(parseSseData(text))).toBe(true);
      const code = await codeOf(async () =>
        verifyResponse({
          request: py.cases[0]!.requestText,
          response: `data: ${text}`,
          signingKey: await key,
        }),
      );
      expect(code === undefined ? 'none' : code).not.toMatch(/^untyped|^none$/);
    },
  );

  test.prop([fc.uint8Array({ maxLength: 80 })], { numRuns: 200 })(
    'arbitrary ECDSA signature bytes',
    (bytes) => {
      const code = codeOfSync(() => recoverPersonalSignAddress('text', bytes));
      if (code !== undefined) expect(['ERR_SIGNATURE_MALFORMED', 'ERR_SIGNATURE_INVALID']).toContain(code);
    },
  );
});

describe('TeeSigningError', () => {
  it('has a marker, a code, a cause, and every code is documented in the README', () => {
    const cause = new Error('inner');
    const error = new TeeSigningError('ERR_SIGNATURE_INVALID', 'msg', { cause });
    expect(TeeSigningError.isInstance(error)).toBe(true);
    expect(TeeSigningError.isInstance(new Error('x'))).toBe(false);
    expect(TeeSigningError.isInstance({ [Symbol.for('confidential-ai.error.tee-signing')]: true })).toBe(
      true,
    );
    expect(error.cause).toBe(cause);
    expect(error.name).toBe('TeeSigningError');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const code of TEE_SIGNING_ERROR_CODES) expect(readme, code).toContain(`\`${code}\``);
  });

  it('messages never contain the private key', async () => {
    const vectors = loadVector<{ privateKeyPem: string }>('opengradient-responses.json');
    const broken = vectors.privateKeyPem.replace('MII', 'MIX');
    try {
      await importRsaPublicKey(broken);
      expect.unreachable();
    } catch (error) {
      expect(TeeSigningError.isInstance(error)).toBe(true);
      const body = broken.split('\n')[3]!;
      expect(String((error as Error).message)).not.toContain(body);
    }
  });
});
