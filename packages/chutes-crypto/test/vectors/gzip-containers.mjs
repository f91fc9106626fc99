// Writes gzip-containers.json: hand-built gzip containers (header fields, member sequences, trailers, and
// DEFLATE streams that break one rule of RFC 1951 each) with the verdict of node:zlib's gunzipSync, the
// reference our gunzip must match. Run with `node test/vectors/gzip-containers.mjs` (no network).
import { writeFileSync } from 'node:fs';
import { crc32, gunzipSync, gzipSync } from 'node:zlib';

const text = (value) => new TextEncoder().encode(value);
const hex = (bytes) => Buffer.from(bytes).toString('hex');

/** LSB-first bit writer, as DEFLATE packs its fields. */
function bits() {
  const out = [];
  let current = 0;
  let used = 0;
  const writer = {
    /** Writes `count` bits of `value`, least significant first (header fields, extra bits). */
    put(value, count) {
      for (let i = 0; i < count; i++) {
        current |= ((value >>> i) & 1) << used;
        if (++used === 8) {
          out.push(current);
          current = 0;
          used = 0;
        }
      }
      return writer;
    },
    /** Writes a Huffman code of `length` bits, most significant first. */
    code(value, length) {
      for (let i = length - 1; i >= 0; i--) writer.put((value >>> i) & 1, 1);
      return writer;
    },
    bytes() {
      return Uint8Array.from(used ? [...out, current] : out);
    },
  };
  return writer;
}

/** Fixed-Huffman literal/length code (RFC 1951 section 3.2.6). */
function fixedLiteral(writer, symbol) {
  if (symbol < 144) return writer.code(0x30 + symbol, 8);
  if (symbol < 256) return writer.code(0x190 + symbol - 144, 9);
  if (symbol < 280) return writer.code(symbol - 256, 7);
  return writer.code(0xc0 + symbol - 280, 8);
}

/** One gzip member around raw DEFLATE bytes, with the trailer of `claimed` (what a lenient decoder gives). */
function member(deflated, claimed, { flags = 0, fields = [] } = {}) {
  const header = [0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 0xff, ...fields];
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(claimed), 0);
  trailer.writeUInt32LE(claimed.length, 4);
  return Uint8Array.from([...header, ...deflated, ...trailer]);
}

/** Code lengths of a canonical Huffman code to codes (RFC 1951 section 3.2.2). */
function canonical(lengths) {
  const max = Math.max(...lengths);
  const count = new Array(max + 1).fill(0);
  for (const length of lengths) if (length) count[length]++;
  const next = [0];
  for (let length = 1, code = 0; length <= max; length++) {
    code = (code + count[length - 1]) << 1;
    next[length] = code;
  }
  return lengths.map((length) => (length ? next[length]++ : -1));
}

const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/**
 * A final dynamic-Huffman block that emits `symbols` (literal/length symbols, no matches) with the given
 * code lengths, written exactly as a lenient decoder would read it: codes are assigned canonically even
 * when the lengths break the completeness rules zlib enforces.
 */
function dynamicBlock({ literalLengths, distanceLengths, codeLengthLengths, symbols, hlit, firstRepeat }) {
  const writer = bits().put(1, 1).put(2, 2);
  const lengths = [...literalLengths, ...distanceLengths];
  writer.put(hlit ?? literalLengths.length - 257, 5).put(distanceLengths.length - 1, 5);
  const ordered = CODE_LENGTH_ORDER.map((symbol) => codeLengthLengths[symbol] ?? 0);
  let hclen = ordered.length;
  while (hclen > 4 && ordered[hclen - 1] === 0) hclen--;
  writer.put(hclen - 4, 4);
  for (let i = 0; i < hclen; i++) writer.put(ordered[i], 3);
  const clCodes = canonical(Array.from({ length: 19 }, (_, symbol) => codeLengthLengths[symbol] ?? 0));
  const emit = (symbol) => writer.code(clCodes[symbol], codeLengthLengths[symbol]);
  if (firstRepeat) emit(16).put(0, 2);
  for (let i = 0; i < lengths.length; ) {
    let run = 0;
    while (lengths[i + run] === 0 && i + run < lengths.length) run++;
    if (run >= 11) {
      const take = Math.min(run, 138);
      emit(18).put(take - 11, 7);
      i += take;
    } else if (run >= 3) {
      emit(17).put(run - 3, 3);
      i += run;
    } else {
      emit(lengths[i]);
      i++;
    }
  }
  const literalCodes = canonical(literalLengths);
  for (const symbol of symbols) writer.code(literalCodes[symbol], literalLengths[symbol]);
  return writer.bytes();
}

/** Literal/length code lengths: `a` (97), `b` (98) and end-of-block (256) as given, all others unused. */
function literalLengths({ a = 0, b = 0, end = 0 }) {
  const lengths = new Array(257).fill(0);
  lengths[97] = a;
  lengths[98] = b;
  lengths[256] = end;
  return lengths;
}

const AAB = text('aab');
const validDynamic = {
  literalLengths: literalLengths({ a: 1, b: 2, end: 2 }),
  distanceLengths: [1],
  codeLengthLengths: { 0: 3, 1: 2, 2: 2, 3: 3, 17: 3, 18: 3 },
  symbols: [97, 97, 98, 256],
};

const hello = gzipSync(text('hello'));
const empty = gzipSync(new Uint8Array(0));
const withFlags = (base, flags) => Uint8Array.from(base, (byte, i) => (i === 3 ? flags : byte));
const withByte = (base, index, value) => Uint8Array.from(base, (byte, i) => (i === index ? value : byte));
const storedHello = [0x01, 0x05, 0x00, 0xfa, 0xff, ...text('hello')];
const headerCrc = (header) => {
  const value = crc32(Uint8Array.from(header)) & 0xffff;
  return [value & 0xff, value >> 8];
};
const hcrcHeader = [0x1f, 0x8b, 8, 0x02, 0, 0, 0, 0, 0, 0xff];
const helloDeflate = hello.subarray(10, hello.length - 8);

const cases = [
  // Issue 15: FNAME (or FCOMMENT) swallows the whole DEFLATE stream of an empty payload. The pure backend
  // used to read the last eight bytes as the trailer and inflate an empty stream to an empty output.
  ['issue 15: FNAME set on gzip(empty)', withFlags(empty, 0x08)],
  ['FCOMMENT set on gzip(empty)', withFlags(empty, 0x10)],
  ['FNAME and FCOMMENT set on gzip(empty)', withFlags(empty, 0x18)],
  ['FEXTRA set on gzip(empty) (XLEN from the DEFLATE bytes)', withFlags(empty, 0x04)],
  ['FNAME set on gzip("hello")', withFlags(hello, 0x08)],
  // Header fields.
  ['FTEXT is only a hint', withFlags(hello, 0x01)],
  ['MTIME, XFL and OS are informative', Uint8Array.from(hello, (b, i) => (i >= 4 && i < 10 ? 0xa5 : b))],
  ['reserved flag 0x20', withFlags(hello, 0x20)],
  ['reserved flag 0x40', withFlags(hello, 0x40)],
  ['reserved flag 0x80', withFlags(hello, 0x80)],
  ['compression method 7', withByte(hello, 2, 7)],
  ['bad magic (first byte)', withByte(hello, 0, 0x1e)],
  ['bad magic (second byte)', withByte(hello, 1, 0x8a)],
  [
    'FEXTRA, FNAME and FCOMMENT present',
    member(helloDeflate, text('hello'), { flags: 0x1c, fields: [2, 0, 0xaa, 0xbb, 0x61, 0, 0x62, 0] }),
  ],
  ['FEXTRA longer than the input', member(helloDeflate, text('hello'), { flags: 0x04, fields: [0xff, 0x7f] })],
  ['FNAME without its terminating zero', Uint8Array.from([0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 0xff, 0x61])],
  ['FHCRC correct', Uint8Array.from([...hcrcHeader, ...headerCrc(hcrcHeader), ...hello.subarray(10)])],
  [
    'FHCRC wrong',
    Uint8Array.from([...hcrcHeader, headerCrc(hcrcHeader)[0] ^ 1, headerCrc(hcrcHeader)[1], ...hello.subarray(10)]),
  ],
  ['header only', hello.subarray(0, 10)],
  ['nine header bytes', hello.subarray(0, 9)],
  ['empty input', new Uint8Array(0)],
  // Trailer.
  ['CRC-32 wrong', withByte(hello, hello.length - 8, hello[hello.length - 8] ^ 1)],
  ['ISIZE wrong', withByte(hello, hello.length - 1, hello[hello.length - 1] ^ 1)],
  ['trailer one byte short', hello.subarray(0, hello.length - 1)],
  ['no trailer', hello.subarray(0, hello.length - 8)],
  // What follows a member.
  ['two members (outputs concatenated)', Uint8Array.from([...hello, ...gzipSync(text(' world'))])],
  ['a member and an empty member', Uint8Array.from([...hello, ...empty])],
  ['zero padding after the member', Uint8Array.from([...hello, 0, 0, 0, 0])],
  ['a zero byte, then anything (node:zlib stops at the zero)', Uint8Array.from([...hello, 0, 0x41, 0x42])],
  ['a zero byte, then a second member (ignored)', Uint8Array.from([...hello, 0, ...hello])],
  ['one non-zero byte after the member', Uint8Array.from([...hello, 0x41])],
  ['non-zero garbage after the member', Uint8Array.from([...hello, 0x41, 0x42, 0x43, 0x44])],
  ['a truncated second member', Uint8Array.from([...hello, ...hello.subarray(0, hello.length - 1)])],
  ['a second member with a bad CRC-32', Uint8Array.from([...hello, ...withByte(hello, hello.length - 8, 0)])],
  ['magic bytes alone after the member', Uint8Array.from([...hello, 0x1f, 0x8b])],
  // DEFLATE streams that break one rule each, sealed with the CRC-32 and ISIZE of what a lenient decoder
  // outputs, so only the DEFLATE checks can reject them.
  ['stored block with a wrong NLEN', member([0x01, 0x05, 0x00, 0xfb, 0xff, ...text('hello')], text('hello'))],
  ['stored block, correct NLEN', member(storedHello, text('hello'))],
  ['stored block longer than the input', member([0x01, 0x10, 0x00, 0xef, 0xff, ...text('hello')], text('hello'))],
  ['reserved block type 3', member(bits().put(1, 1).put(3, 2).put(0, 8).bytes(), new Uint8Array(0))],
  [
    'fixed block: literal/length code 286',
    member(fixedLiteral(fixedLiteral(bits().put(1, 1).put(1, 2), 97), 286).code(0, 7).bytes(), text('a')),
  ],
  [
    'fixed block: distance code 30',
    member(
      fixedLiteral(fixedLiteral(bits().put(1, 1).put(1, 2), 97), 257).code(30, 5).code(0, 7).bytes(),
      text('a'),
    ),
  ],
  [
    'fixed block: distance too far back',
    member(
      fixedLiteral(fixedLiteral(bits().put(1, 1).put(1, 2), 97), 257).code(1, 5).code(0, 7).bytes(),
      Uint8Array.from([0x61, 0, 0, 0]),
    ),
  ],
  [
    'fixed block: match within the output',
    member(
      fixedLiteral(fixedLiteral(bits().put(1, 1).put(1, 2), 97), 257).code(0, 5).code(0, 7).bytes(),
      text('aaaa'),
    ),
  ],
  ['fixed block without end-of-block', member(fixedLiteral(bits().put(1, 1).put(1, 2), 97).bytes(), text('a'))],
  ['dynamic block, valid (one distance code of length 1)', member(dynamicBlock(validDynamic), AAB)],
  [
    'dynamic block: code-length code over-subscribed',
    member(dynamicBlock({ ...validDynamic, codeLengthLengths: { 0: 2, 1: 2, 2: 2, 3: 3, 17: 3, 18: 3 } }), AAB),
  ],
  [
    'dynamic block: code-length code incomplete',
    member(dynamicBlock({ ...validDynamic, codeLengthLengths: { 0: 3, 1: 2, 2: 2, 3: 3, 18: 3 } }), AAB),
  ],
  [
    'dynamic block: literal/length code incomplete',
    member(dynamicBlock({ ...validDynamic, literalLengths: literalLengths({ a: 1, b: 2, end: 3 }) }), AAB),
  ],
  [
    'dynamic block: literal/length code over-subscribed',
    member(dynamicBlock({ ...validDynamic, literalLengths: literalLengths({ a: 1, b: 1, end: 1 }) }), AAB),
  ],
  [
    'dynamic block: no end-of-block code',
    member(
      dynamicBlock({ ...validDynamic, literalLengths: literalLengths({ a: 1, b: 1 }), symbols: [97, 97, 98] }),
      AAB,
    ),
  ],
  [
    'dynamic block: two distance codes, incomplete',
    member(dynamicBlock({ ...validDynamic, distanceLengths: [2, 2] }), AAB),
  ],
  ['dynamic block: no distance code at all (allowed)', member(dynamicBlock({ ...validDynamic, distanceLengths: [0] }), AAB)],
  [
    'dynamic block: 287 literal/length codes (HLIT too large)',
    member(
      dynamicBlock({ ...validDynamic, literalLengths: [...validDynamic.literalLengths, ...new Array(30).fill(0)] }),
      AAB,
    ),
  ],
  [
    'dynamic block: repeat code 16 with no previous length',
    member(dynamicBlock({ ...validDynamic, codeLengthLengths: { 0: 3, 1: 2, 2: 2, 3: 3, 16: 3, 18: 3 }, firstRepeat: true }), AAB),
  ],
];

const vectors = cases.map(([name, bytes]) => {
  try {
    const output = gunzipSync(bytes);
    return { name, gzip: hex(bytes), ok: true, output: hex(output) };
  } catch (error) {
    return { name, gzip: hex(bytes), ok: false, zlibMessage: error.message };
  }
});
const file = {
  description:
    'gzip containers with the verdict of node:zlib gunzipSync (ok and output, or the zlib message). Built by gzip-containers.mjs.',
  generatedWith: `node ${process.version}, zlib ${process.versions.zlib}`,
  vectors,
};
writeFileSync(new URL('./gzip-containers.json', import.meta.url), `${JSON.stringify(file, null, 2)}\n`);
for (const vector of vectors) console.log(vector.ok ? 'ok    ' : 'reject', vector.name, vector.zlibMessage ?? '');
