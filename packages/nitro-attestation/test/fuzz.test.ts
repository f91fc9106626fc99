// Mutation fuzzing of real documents: only typed errors, never a crash; anything accepted carries exactly the
// originally signed payload.
import { createSign, generateKeyPairSync, verify as nodeVerify } from 'node:crypto';
import { base64ToBytes, ecdsaDerToRaw, equalBytes } from '@confidential-ai/bytes';
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { createNitroVerifier, NitroAttestationError, parseAttestationDocument } from '../src/index.js';
import { debugDoc, documentInput, prodDoc } from './helpers.js';
import { cborEncode } from './synthetic.js';

const documents = [debugDoc, prodDoc].map((doc) => {
  const input = documentInput(doc);
  const bytes = typeof input === 'string' ? base64ToBytes(input.trim()) : input;
  return { bytes, at: new Date(doc.verify_at), payload: parseAttestationDocument(bytes).cose.payload };
});

type Mutation =
  | { kind: 'flip'; position: number; mask: number }
  | { kind: 'set'; position: number; value: number }
  | { kind: 'delete'; position: number; length: number }
  | { kind: 'insert'; position: number; bytes: Uint8Array }
  | { kind: 'truncate'; position: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    position: fc.nat(),
    mask: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('set' as const),
    position: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    position: fc.nat(),
    length: fc.integer({ min: 1, max: 64 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    position: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), position: fc.nat() }),
);

function mutate(source: Uint8Array, mutations: Mutation[]): Uint8Array {
  let bytes = new Uint8Array(source);
  for (const change of mutations) {
    const position = bytes.length === 0 ? 0 : change.position % bytes.length;
    if (change.kind === 'flip') bytes[position]! ^= change.mask;
    else if (change.kind === 'set') bytes[position] = change.value;
    else if (change.kind === 'delete')
      bytes = new Uint8Array([...bytes.subarray(0, position), ...bytes.subarray(position + change.length)]);
    else if (change.kind === 'insert')
      bytes = new Uint8Array([...bytes.subarray(0, position), ...change.bytes, ...bytes.subarray(position)]);
    else bytes = bytes.slice(0, position);
  }
  return bytes;
}

// Bias positions towards the CBOR structure at the start and the certificates, and use few mutations.
const mutations = fc.array(mutation, { minLength: 1, maxLength: 3 });
const documentIndex = fc.integer({ min: 0, max: documents.length - 1 });
const verifier = createNitroVerifier();

describe('parser fuzzing', () => {
  test.prop([documentIndex, mutations], { numRuns: 300 })(
    'mutated documents: parse succeeds or throws a typed error',
    (which, changes) => {
      const bytes = mutate(documents[which]!.bytes, changes);
      try {
        parseAttestationDocument(bytes);
      } catch (error) {
        expect(NitroAttestationError.isInstance(error), String(error)).toBe(true);
      }
    },
  );

  test.prop([documentIndex, mutations], { numRuns: 150 })(
    'mutated documents: verification rejects with a typed error or keeps the signed payload',
    async (which, changes) => {
      const { bytes: original, at, payload } = documents[which]!;
      const bytes = mutate(original, changes);
      try {
        const result = await verifier.verify(bytes, { at, allowDebug: true });
        expect(equalBytes(result.cose.payload, payload)).toBe(true);
      } catch (error) {
        expect(NitroAttestationError.isInstance(error), String(error)).toBe(true);
      }
    },
  );

  test.prop([fc.uint8Array({ maxLength: 600 })], { numRuns: 300 })(
    'arbitrary bytes: typed errors only',
    (bytes) => {
      try {
        parseAttestationDocument(bytes);
      } catch (error) {
        expect(NitroAttestationError.isInstance(error), String(error)).toBe(true);
      }
    },
  );

  test.prop([fc.string({ maxLength: 300 })], { numRuns: 300 })(
    'arbitrary text: typed errors only',
    (text) => {
      expect(() => parseAttestationDocument(text)).toThrow(NitroAttestationError);
    },
  );

  test.prop([fc.anything({ maxDepth: 3, withMap: true, withNullPrototype: true })], { numRuns: 200 })(
    'an arbitrary CBOR payload inside a COSE_Sign1: typed errors only',
    (value) => {
      let payload: Uint8Array;
      try {
        payload = cborEncode(value);
      } catch {
        return; // not encodable by cbor-x
      }
      const envelope = cborEncode([
        new Uint8Array([0xa1, 0x01, 0x38, 0x22]),
        new Map(),
        payload,
        new Uint8Array(96),
      ]);
      try {
        parseAttestationDocument(envelope);
      } catch (error) {
        expect(NitroAttestationError.isInstance(error), String(error)).toBe(true);
        return;
      }
      throw new Error('an arbitrary payload was accepted');
    },
  );
});

describe('ECDSA DER to raw conversion', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
  test.prop([fc.uint8Array({ maxLength: 64 })], { numRuns: 100 })(
    'matches node:crypto for DER signatures',
    (message) => {
      const der = createSign('sha384').update(message).sign(privateKey);
      const raw = ecdsaDerToRaw(der, 48);
      expect(raw).not.toBeNull();
      expect(nodeVerify('sha384', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw!)).toBe(true);
    },
  );

  test.prop([fc.uint8Array({ maxLength: 120 })], { numRuns: 300 })(
    'never throws on arbitrary bytes',
    (bytes) => {
      const raw = ecdsaDerToRaw(bytes, 48);
      if (raw) expect(raw).toHaveLength(96);
    },
  );
});
