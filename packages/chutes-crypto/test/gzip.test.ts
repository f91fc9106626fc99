import { deflateRawSync, gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';
import { hexToBytes, utf8ToBytes } from '@confidential-ai/bytes';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { type Backend, ChutesCryptoError, crc32, gunzip, gzip } from '../src/index.js';
import { codeOf, vector } from './helpers.js';

// gunzip must reach node:zlib's verdict (gunzipSync) on every input, on both backends: the same output when
// zlib accepts, ERR_DECOMPRESS_FAILED when it rejects. node:zlib is the independent reference here; the
// fixed containers in test/vectors/gzip-containers.json also carry the verdict recorded from it.

type Verdict = { ok: true; output: Uint8Array } | { ok: false };

const backends: Backend[] = ['js', 'native'];

function zlibVerdict(data: Uint8Array): Verdict {
  try {
    return { ok: true, output: new Uint8Array(gunzipSync(data)) };
  } catch {
    return { ok: false };
  }
}

function ourVerdict(data: Uint8Array, backend: Backend): Verdict | { ok: false; code: string } {
  try {
    return { ok: true, output: gunzip(data, { backend }) };
  } catch (error) {
    if (!ChutesCryptoError.isInstance(error)) throw error;
    if (error.code !== 'ERR_DECOMPRESS_FAILED') return { ok: false, code: error.code };
    return { ok: false };
  }
}

function sameVerdict(a: Verdict | { ok: false; code: string }, b: Verdict): boolean {
  if (!a.ok || !b.ok) return a.ok === b.ok && !('code' in a);
  return a.output.length === b.output.length && a.output.every((byte, i) => byte === b.output[i]);
}

/** Both backends reach node:zlib's verdict on `data` (compared cheaply; `expect` reports a difference). */
function expectZlibVerdict(data: Uint8Array): void {
  const expected = zlibVerdict(data);
  for (const backend of backends) {
    const actual = ourVerdict(data, backend);
    if (!sameVerdict(actual, expected)) expect([backend, actual]).toEqual([backend, expected]);
  }
}

function concat(...parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function littleEndian32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
}

describe('gzip: fixed containers (test/vectors/gzip-containers.json)', () => {
  const file = vector<{
    vectors: { name: string; gzip: string; ok: boolean; output?: string; zlibMessage?: string }[];
  }>('gzip-containers.json');

  it('issue 15: FNAME set on gzip(empty) is rejected by the pure backend, as by node:zlib', () => {
    const data = gzip(new Uint8Array(0));
    data[3] = 8;
    expect(() => gunzipSync(data)).toThrow();
    expect(codeOf(() => gunzip(data, { backend: 'js' }))).toBe('ERR_DECOMPRESS_FAILED');
    expect(codeOf(() => gunzip(data, { backend: 'native' }))).toBe('ERR_DECOMPRESS_FAILED');
  });

  it.each(file.vectors.map((entry) => [entry.name, entry] as const))('%s', (_name, entry) => {
    const data = hexToBytes(entry.gzip);
    const recorded: Verdict = entry.ok ? { ok: true, output: hexToBytes(entry.output ?? '') } : { ok: false };
    expect(zlibVerdict(data)).toEqual(recorded);
    for (const backend of backends) expect([backend, ourVerdict(data, backend)]).toEqual([backend, recorded]);
  });
});

describe('gzip: round trips and interop', () => {
  test.prop([fc.uint8Array({ maxLength: 5000 })], { numRuns: 100 })('gzip, gunzip and node:zlib', (data) => {
    for (const backend of backends) {
      const compressed = gzip(data, { backend });
      expect(new Uint8Array(gunzipSync(compressed))).toEqual(data);
      for (const opener of backends) expect(gunzip(compressed, { backend: opener })).toEqual(data);
      expect(gunzip(gzipSync(data), { backend })).toEqual(data);
    }
  });

  it.each(backends)('the size limit counts every member (backend %s)', (backend) => {
    const twoMembers = concat(gzip(utf8ToBytes('abc')), gzip(utf8ToBytes('def')));
    expect(gunzip(twoMembers, { backend, maxPlaintextBytes: 6 })).toEqual(utf8ToBytes('abcdef'));
    expect(codeOf(() => gunzip(twoMembers, { backend, maxPlaintextBytes: 5 }))).toBe('ERR_PAYLOAD_TOO_LARGE');
    expect(codeOf(() => gunzip(twoMembers, { backend, maxPlaintextBytes: 2 }))).toBe('ERR_PAYLOAD_TOO_LARGE');
    expect(gunzip(gzip(new Uint8Array(0)), { backend, maxPlaintextBytes: 0 })).toEqual(new Uint8Array(0));
  });

  it.each(backends)('any safe-integer limit is accepted (backend %s)', (backend) => {
    const data = utf8ToBytes('limit');
    expect(gunzip(gzip(data), { backend, maxPlaintextBytes: Number.MAX_SAFE_INTEGER })).toEqual(data);
  });
});

// `GZIP_PROPERTY_ROUNDS=<n>` repeats every property below n times, each round with a fresh seed (a soak run
// in one process); the default is one round.
const rounds = Math.max(1, Number.parseInt(process.env.GZIP_PROPERTY_ROUNDS ?? '1', 10) || 1);
const roundName = (name: string, round: number) => (rounds === 1 ? name : `${name} (round ${round + 1})`);

// Arbitraries that build gzip containers the way a corrupted or hostile sender would: header fields that
// disagree with the flags (the issue-15 class), every flag bit, FHCRC right or wrong, several members,
// padding and garbage after them, and byte edits anywhere, with extra weight on the header.

const payloadArbitrary = fc.oneof(
  { weight: 4, arbitrary: fc.constant(new Uint8Array(0)) },
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 60 }).map((text) => utf8ToBytes(text.repeat(3))) },
);

/** A flag byte: mostly the five defined bits (FTEXT, FHCRC, FEXTRA, FNAME, FCOMMENT), sometimes reserved ones. */
const flagsArbitrary = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 0x1f }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xff }) },
);

const deflateArbitrary = fc.oneof(
  fc.constant((payload: Uint8Array) => gzip(payload).subarray(10, -8)),
  fc.integer({ min: 0, max: 9 }).map((level) => (payload: Uint8Array) => deflateRawSync(payload, { level })),
);

const zeroFreeBytes = fc.uint8Array({ maxLength: 6 }).map((bytes) => bytes.map((byte) => byte || 0x61));

const memberArbitrary = fc
  .record({
    payload: payloadArbitrary,
    deflate: deflateArbitrary,
    // The fields actually written, and the flag byte sent (usually the matching one, often another).
    fields: fc.record({
      extra: fc.option(fc.uint8Array({ maxLength: 6 }), { nil: undefined }),
      name: fc.option(zeroFreeBytes, { nil: undefined }),
      comment: fc.option(zeroFreeBytes, { nil: undefined }),
      headerCrc: fc.option(fc.integer({ min: -1, max: 0xffff }), { nil: undefined }),
      text: fc.boolean(),
    }),
    flagOverride: fc.option(flagsArbitrary, { freq: 2, nil: undefined }),
    mtimeOs: fc.option(fc.uint8Array({ minLength: 6, maxLength: 6 }), { nil: undefined }),
  })
  .map(({ payload, deflate, fields, flagOverride, mtimeOs }) => {
    const matching =
      (fields.text ? 1 : 0) |
      (fields.headerCrc !== undefined ? 2 : 0) |
      (fields.extra ? 4 : 0) |
      (fields.name ? 8 : 0) |
      (fields.comment ? 16 : 0);
    const header = [0x1f, 0x8b, 8, flagOverride ?? matching, ...(mtimeOs ?? [0, 0, 0, 0, 0, 0xff])];
    if (fields.extra) header.push(fields.extra.length, 0, ...fields.extra);
    if (fields.name) header.push(...fields.name, 0);
    if (fields.comment) header.push(...fields.comment, 0);
    if (fields.headerCrc !== undefined) {
      // -1 stands for the correct header CRC; any other value is sent as it is.
      const value = fields.headerCrc === -1 ? crc32(Uint8Array.from(header)) & 0xffff : fields.headerCrc;
      header.push(value & 0xff, value >> 8);
    }
    return concat(header, deflate(payload), littleEndian32(crc32(payload)), littleEndian32(payload.length));
  });

const suffixArbitrary = fc.oneof(
  { weight: 4, arbitrary: fc.constant(new Uint8Array(0)) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 4 }).map((bytes) => bytes.fill(0)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 4 }).map((bytes) => concat([0], bytes)) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 4 }) },
  { weight: 1, arbitrary: fc.constant(Uint8Array.from([0x1f, 0x8b])) },
);

type Edit =
  | { kind: 'header'; position: number; value: number }
  | { kind: 'set'; position: number; value: number }
  | { kind: 'flip'; position: number; bit: number }
  | { kind: 'insert'; position: number; value: number }
  | { kind: 'truncate'; position: number };

const editArbitrary: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('header'), position: fc.integer({ min: 0, max: 13 }), value: fc.nat(255) }),
  fc.record({ kind: fc.constant('set'), position: fc.nat(), value: fc.nat(255) }),
  fc.record({ kind: fc.constant('flip'), position: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('insert'), position: fc.nat(), value: fc.nat(255) }),
  fc.record({ kind: fc.constant('truncate'), position: fc.nat() }),
);

function applyEdit(data: Uint8Array, edit: Edit): Uint8Array {
  if (data.length === 0) return data;
  const position = edit.position % data.length;
  const copy = data.slice();
  switch (edit.kind) {
    case 'header':
    case 'set':
      copy[position] = edit.value;
      return copy;
    case 'flip':
      copy[position]! ^= 1 << edit.bit;
      return copy;
    case 'insert':
      return concat(data.subarray(0, position), [edit.value], data.subarray(position));
    case 'truncate':
      return data.subarray(0, position);
  }
}

const headerEdits = fc.array(
  editArbitrary.filter((edit) => edit.kind === 'header'),
  { maxLength: 2 },
);
const anyEdits = fc.array(editArbitrary, { maxLength: 2 });

describe('gzip: every container gets the node:zlib verdict on both backends', () => {
  for (let round = 0; round < rounds; round++) {
    // The issue-15 class: flags that announce FNAME / FCOMMENT / FEXTRA / FHCRC on a member that has none,
    // so the header parser reads into the DEFLATE data (mostly of an empty payload, the shortest member).
    test.prop([payloadArbitrary, flagsArbitrary, headerEdits], { numRuns: 1000 })(
      roundName('a plain member with any flag byte and edited header bytes', round),
      (payload, flags, edits) => {
        const member = gzip(payload);
        member[3] = flags;
        expectZlibVerdict(edits.reduce(applyEdit, member));
      },
    );

    test.prop([memberArbitrary, headerEdits], { numRuns: 1000 })(
      roundName('one member with any header fields and flags, and edited header bytes', round),
      (member, edits) => {
        expectZlibVerdict(edits.reduce(applyEdit, member));
      },
    );

    test.prop([fc.array(memberArbitrary, { minLength: 1, maxLength: 3 }), suffixArbitrary, anyEdits], {
      numRuns: 1000,
    })(
      roundName('members in a row, padding, garbage and edits anywhere', round),
      (members, suffix, edits) => {
        expectZlibVerdict(edits.reduce(applyEdit, concat(...members, suffix)));
      },
    );

    test.prop([payloadArbitrary, deflateArbitrary, fc.array(editArbitrary, { minLength: 1, maxLength: 3 })], {
      numRuns: 1000,
    })(
      roundName('edited DEFLATE data, resealed with what zlib inflates it to', round),
      (payload, deflate, edits) => {
        // The trailer matches zlib's own output of the edited stream whenever zlib accepts that stream, so the
        // DEFLATE checks decide, not only the CRC-32.
        const body = edits.reduce(applyEdit, deflate(payload));
        let output = payload;
        try {
          output = new Uint8Array(inflateRawSync(body));
        } catch {}
        const header = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        expectZlibVerdict(concat(header, body, littleEndian32(crc32(output)), littleEndian32(output.length)));
      },
    );
  }
});
