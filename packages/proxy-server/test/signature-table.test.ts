import { ed25519VerifyText, recoverPersonalSignAddress } from '@confidential-ai/tee-signing';
import { fc, test as fcTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { createModelKeys } from '../src/keys.js';
import { SignatureTable } from '../src/signature-table.js';
import { createResponseSigner, signatureRecord } from '../src/signing.js';
import type { SignatureRecord } from '../src/stores.js';

const signerA = createResponseSigner(createModelKeys({ seed: '11'.repeat(32) }));
const signerB = createResponseSigner(createModelKeys({ seed: '22'.repeat(32) }));

/** A record text of the vllm-proxy form, distinct per `n`: `<64 hex>:<64 hex>`. */
const textOf = (n: number) =>
  `${n.toString(16).padStart(64, '0')}:${(n * 7 + 3).toString(16).padStart(64, 'f')}`;

/** The store as it was before the table (a Map in write order, entries with their expiry): the model. */
function modelStore(maxEntries: number, now: () => number) {
  const entries = new Map<string, { record: SignatureRecord; expiresAt: number }>();
  return {
    put(key: string, record: SignatureRecord, ttlSeconds: number) {
      entries.delete(key);
      while (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(key, { record, expiresAt: now() + ttlSeconds * 1000 });
    },
    get(key: string) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.expiresAt <= now()) {
        entries.delete(key);
        return undefined;
      }
      return entry.record;
    },
    get size() {
      return entries.size;
    },
  };
}

type Kind = 'a' | 'b' | 'object' | 'long' | 'non-ascii';
type Operation =
  | { op: 'put'; key: number; ttl: number; kind: Kind }
  | { op: 'get'; key: number }
  | { op: 'wait'; ms: number };

function recordOf(kind: Kind, n: number): SignatureRecord {
  switch (kind) {
    case 'a':
      return signatureRecord(signerA, textOf(n));
    case 'b':
      return signatureRecord(signerB, textOf(n));
    case 'long':
      return signatureRecord(signerA, `${textOf(n)}0`);
    case 'non-ascii':
      return signatureRecord(signerA, `${textOf(n).slice(0, -1)}é`);
    case 'object':
      return {
        text: textOf(n),
        signature_ecdsa: `ecdsa ${n}`,
        signing_address_ecdsa: 'address',
        signature_ed25519: `ed25519 ${n}`,
        signing_address_ed25519: 'public key',
      };
  }
}

/** What a read must give: the same text, and the same signer (its addresses) or the very object stored. */
function expectSameRecord(actual: SignatureRecord | undefined, expected: SignatureRecord | undefined): void {
  if (expected === undefined) {
    expect(actual).toBeUndefined();
    return;
  }
  expect(actual?.text).toBe(expected.text);
  expect(actual?.signing_address_ecdsa).toBe(expected.signing_address_ecdsa);
  expect(actual?.signing_address_ed25519).toBe(expected.signing_address_ed25519);
  if (
    !(
      expected.signing_address_ecdsa === signerA.ecdsaAddress ||
      expected.signing_address_ecdsa === signerB.ecdsaAddress
    )
  )
    expect(actual).toBe(expected);
}

const operation = (keys: number): fc.Arbitrary<Operation> =>
  fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        op: fc.constant('put' as const),
        key: fc.nat(keys - 1),
        ttl: fc.integer({ min: 1, max: 5 }),
        kind: fc.constantFrom<Kind>('a', 'a', 'a', 'b', 'object', 'long', 'non-ascii'),
      }),
    },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('get' as const), key: fc.nat(keys - 1) }) },
    {
      weight: 1,
      // Half seconds: a read often falls on the very millisecond a record expires.
      arbitrary: fc.record({
        op: fc.constant('wait' as const),
        ms: fc.integer({ min: 1, max: 6 }).map((half) => half * 500),
      }),
    },
  ) as fc.Arbitrary<Operation>;

function runAgainstModel(maxEntries: number, keys: number, operations: readonly Operation[]) {
  let now = 1_000_000;
  const clock = () => now;
  const table = new SignatureTable(maxEntries, clock);
  const model = modelStore(maxEntries, clock);
  let written = 0;
  for (const step of operations) {
    if (step.op === 'put') {
      const record = recordOf(step.kind, written++);
      table.put(`model:chat:${step.key}`, record, step.ttl);
      model.put(`model:chat:${step.key}`, record, step.ttl);
    } else if (step.op === 'get') {
      expectSameRecord(table.get(`model:chat:${step.key}`), model.get(`model:chat:${step.key}`));
    } else {
      now += step.ms;
    }
    expect(table.size).toBe(model.size);
  }
  for (let key = 0; key < keys; key++)
    expectSameRecord(table.get(`model:chat:${key}`), model.get(`model:chat:${key}`));
}

describe('SignatureTable (the memory signature store)', () => {
  // Small bounds and few keys: every bucket collides, every path (rewrite, eviction, expiry on read, backward
  // shift over wrapped runs) is taken many times.
  fcTest.prop([fc.integer({ min: 1, max: 8 }), fc.array(operation(12), { maxLength: 120 })], {
    numRuns: 400,
  })('behaves as the Map-based store it replaces (small bounds)', (maxEntries, operations) =>
    runAgainstModel(maxEntries, 12, operations),
  );

  // Past the first allocation (1,024 slots): the arrays grow and the index is rebuilt while entries are live.
  fcTest.prop(
    [fc.integer({ min: 1000, max: 3000 }), fc.array(operation(4000), { minLength: 3000, maxLength: 6000 })],
    {
      numRuns: 12,
      // Shrinking thousands of operations takes minutes; the failing run's seed and path are enough.
      endOnFailure: true,
    },
  )('behaves as the Map-based store it replaces (growth)', (maxEntries, operations) =>
    runAgainstModel(maxEntries, 4000, operations),
  );

  it('gives back records whose signatures verify with the signer that made them, byte for byte', () => {
    const table = new SignatureTable(10, () => 0);
    table.put('m:chat:a', signatureRecord(signerA, textOf(1)), 60);
    table.put('m:chat:b', signatureRecord(signerB, textOf(2)), 60);
    for (const [key, signer, text] of [
      ['m:chat:a', signerA, textOf(1)],
      ['m:chat:b', signerB, textOf(2)],
    ] as const) {
      const record = table.get(key)!;
      expect(JSON.parse(JSON.stringify(record))).toEqual(
        JSON.parse(JSON.stringify(signatureRecord(signer, text))),
      );
      expect(recoverPersonalSignAddress(text, record.signature_ecdsa)).toBe(signer.ecdsaAddress);
      expect(ed25519VerifyText(signer.ed25519Address, text, record.signature_ed25519)).toBe(true);
    }
  });

  it('signs a record read again once (the read record is kept) and a rewritten key anew', () => {
    const table = new SignatureTable(10, () => 0);
    table.put('k', signatureRecord(signerA, textOf(1)), 60);
    const first = table.get('k');
    expect(table.get('k')).toBe(first);
    table.put('k', signatureRecord(signerA, textOf(2)), 60);
    const second = table.get('k');
    expect(second).not.toBe(first);
    expect(second?.text).toBe(textOf(2));
  });

  it('keeps records it cannot hold as text as the objects given (other text lengths, non-ASCII, foreign records)', () => {
    const table = new SignatureTable(10, () => 0);
    for (const kind of ['object', 'long', 'non-ascii'] as const) {
      const record = recordOf(kind, 5);
      table.put(kind, record, 60);
      expect(table.get(kind)).toBe(record);
    }
  });

  it('tells keys apart by their whole digest, not by their bucket', () => {
    // 2,000 keys in a table of 4,096 buckets: many share a home bucket; each must give its own record.
    const table = new SignatureTable(2000, () => 0);
    for (let n = 0; n < 2000; n++) table.put(`m:chat:${n}`, signatureRecord(signerA, textOf(n)), 60);
    for (let n = 0; n < 2000; n++) expect(table.get(`m:chat:${n}`)?.text).toBe(textOf(n));
    expect(table.get('m:chat:2000')).toBeUndefined();
  });
});
