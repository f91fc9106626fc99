// Strict field checks of the payload map and the COSE envelope, on synthetic documents.
import { Encoder } from 'cbor-x';
import { beforeAll, describe, expect, test } from 'vitest';
import { NitroAttestationError, parseAttestationDocument } from '../src/index.js';
import { type Chain, cborEncode, makeDocument, nitroLikeChain } from './synthetic.js';

let chain: Chain;
beforeAll(async () => {
  chain = await nitroLikeChain();
});

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (NitroAttestationError.isInstance(error)) return error.code;
    throw error;
  }
  return 'ok';
}

const pcr = (length: number) => new Uint8Array(length);

describe('payload fields', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['module_id missing', { module_id: undefined }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['module_id empty', { module_id: '' }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['module_id a number', { module_id: 7 }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['digest SHA256', { digest: 'SHA256' }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['digest missing', { digest: undefined }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['timestamp 0', { timestamp: 0 }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['timestamp negative', { timestamp: -5 }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['timestamp text', { timestamp: '1700000000000' }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['timestamp float', { timestamp: 1.5 }, 'ERR_NITRO_CBOR_MALFORMED'],
    ['timestamp a whole float', { timestamp: 1_748_779_200_000 }, 'ERR_NITRO_CBOR_MALFORMED'],
    ['timestamp beyond 2^53', { timestamp: 2n ** 60n }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['pcrs empty', { pcrs: new Map() }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['pcrs an array', { pcrs: [pcr(48)] }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['pcr index 32', { pcrs: new Map([[32, pcr(48)]]) }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['pcr index -1', { pcrs: new Map([[-1, pcr(48)]]) }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['pcr index text', { pcrs: new Map([['0', pcr(48)]]) }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['pcr of 47 bytes', { pcrs: new Map([[0, pcr(47)]]) }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['pcr of text', { pcrs: new Map([[0, 'ab']]) }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['certificate missing', { certificate: undefined }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['certificate over 1024 bytes', { certificate: new Uint8Array(1025) }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['certificate empty', { certificate: new Uint8Array(0) }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['cabundle empty', { cabundle: [] }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['cabundle not an array', { cabundle: new Uint8Array(10) }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['cabundle entry text', { cabundle: ['x'] }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['public_key empty', { public_key: new Uint8Array(0) }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['public_key text', { public_key: 'dummy' }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['user_data 513 bytes', { user_data: new Uint8Array(513) }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['nonce 513 bytes', { nonce: new Uint8Array(513) }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['nonce a number', { nonce: 5 }, 'ERR_NITRO_PAYLOAD_INVALID'],
    ['an unknown field', { extra: 1 }, 'ERR_NITRO_PAYLOAD_INVALID'],
  ];
  test.each(cases)('%s → %s', async (_name, extra, code) => {
    const document = await makeDocument({ chain, extra });
    expect(codeOf(() => parseAttestationDocument(document))).toBe(code);
  });

  test('boundary sizes are accepted', async () => {
    const pcrs = new Map<number, Uint8Array>([
      [0, pcr(32)],
      [1, pcr(48)],
      [31, pcr(64)],
    ]);
    const document = await makeDocument({
      chain,
      pcrs,
      userData: new Uint8Array(512),
      nonce: new Uint8Array(0),
      publicKey: new Uint8Array(1024),
    });
    const parsed = parseAttestationDocument(document).document;
    expect([...parsed.pcrs.keys()]).toEqual([0, 1, 31]);
    expect(parsed.userData).toHaveLength(512);
    expect(parsed.nonce).toHaveLength(0);
    expect(parsed.publicKey).toHaveLength(1024);
  });

  test('a payload that is not a map, or not CBOR', () => {
    const header = new Uint8Array([0xa1, 0x01, 0x38, 0x22]);
    const sig = new Uint8Array(96);
    const array = cborEncode([header, new Map(), cborEncode([1, 2]), sig]);
    expect(codeOf(() => parseAttestationDocument(array))).toBe('ERR_NITRO_PAYLOAD_INVALID');
    const junk = cborEncode([header, new Map(), new Uint8Array([0xff, 0x00]), sig]);
    expect(codeOf(() => parseAttestationDocument(junk))).toBe('ERR_NITRO_CBOR_MALFORMED');
  });
});

describe('COSE envelope', () => {
  const payload = cborEncode(new Map([['module_id', 'x']]));
  const es384 = new Uint8Array([0xa1, 0x01, 0x38, 0x22]);
  const cases: [string, unknown, string][] = [
    [
      'ES256 protected header',
      [cborEncode(new Map([[1, -7]])), new Map(), payload, new Uint8Array(96)],
      'ERR_NITRO_COSE_MALFORMED',
    ],
    [
      'empty protected header',
      [new Uint8Array(0), new Map(), payload, new Uint8Array(96)],
      'ERR_NITRO_COSE_MALFORMED',
    ],
    [
      'extra protected header key',
      [
        cborEncode(
          new Map<number, unknown>([
            [1, -35],
            [4, 'kid'],
          ]),
        ),
        new Map(),
        payload,
        new Uint8Array(96),
      ],
      'ERR_NITRO_COSE_MALFORMED',
    ],
    [
      'protected header as a map',
      [new Map([[1, -35]]), new Map(), payload, new Uint8Array(96)],
      'ERR_NITRO_COSE_MALFORMED',
    ],
    [
      'unprotected header as bytes',
      [es384, new Uint8Array(0), payload, new Uint8Array(96)],
      'ERR_NITRO_COSE_MALFORMED',
    ],
    ['payload as text', [es384, new Map(), 'payload', new Uint8Array(96)], 'ERR_NITRO_COSE_MALFORMED'],
    ['95-byte signature', [es384, new Map(), payload, new Uint8Array(95)], 'ERR_NITRO_COSE_MALFORMED'],
    ['DER-length signature', [es384, new Map(), payload, new Uint8Array(104)], 'ERR_NITRO_COSE_MALFORMED'],
    ['array of 5', [es384, new Map(), payload, new Uint8Array(96), 0], 'ERR_NITRO_COSE_MALFORMED'],
  ];
  test.each(cases)('%s', (_name, value, code) => {
    expect(codeOf(() => parseAttestationDocument(cborEncode(value)))).toBe(code);
  });
});

describe('strict CBOR subset', () => {
  const es384 = new Uint8Array([0xa1, 0x01, 0x38, 0x22]);
  const envelope = (payload: Uint8Array, unprotected: unknown = new Map()) =>
    cborEncode([es384, unprotected, payload, new Uint8Array(96)]);

  test('a duplicated payload key is rejected (cbor-x alone would keep the last value)', async () => {
    const good = parseAttestationDocument(await makeDocument({ chain })).cose.payload;
    // turn `a9 <entries>` into `bf <entries> <module_id again> ff`
    const duplicate = cborEncode('module_id');
    const value = cborEncode('i-forged');
    const payload = new Uint8Array([0xbf, ...good.subarray(1), ...duplicate, ...value, 0xff]);
    expect(codeOf(() => parseAttestationDocument(envelope(payload)))).toBe('ERR_NITRO_CBOR_MALFORMED');
    // the same bytes without the duplicate are accepted
    const fine = new Uint8Array([0xbf, ...good.subarray(1), 0xff]);
    expect(codeOf(() => parseAttestationDocument(envelope(fine)))).toBe('ok');
  });

  test('tags inside the document (typed-array tag 64, date tag 1) are rejected', async () => {
    const tagging = new Encoder({ useRecords: false, mapsAsObjects: false, tagUint8Array: true } as never);
    const tagged = new Uint8Array(tagging.encode([es384, new Map(), new Uint8Array(4), new Uint8Array(96)]));
    expect(tagged.includes(0xd8)).toBe(true);
    expect(codeOf(() => parseAttestationDocument(tagged))).toBe('ERR_NITRO_CBOR_MALFORMED');
    const dated = envelope(cborEncode(new Map<string, unknown>([['timestamp', new Date(0)]])));
    expect(codeOf(() => parseAttestationDocument(dated))).toBe('ERR_NITRO_CBOR_MALFORMED');
  });

  test('indefinite-length byte strings, floats, undefined and nested tags are rejected', () => {
    const cases = [
      new Uint8Array([0x84, 0x5f, 0x41, 0x01, 0xff, 0xa0, 0x40, 0x40]),
      envelope(new Uint8Array([0xa0]), new Map([[1, 1.5]])),
      new Uint8Array([0x84, 0xf7, 0xa0, 0x40, 0x40]),
      new Uint8Array([0xd2, 0xd2, 0x80]),
      new Uint8Array([0x84, 0x40, 0xa2, 0x01, 0x00, 0x01, 0x00, 0x40, 0x40]),
      new Uint8Array([0x84, 0x40, 0xa1, 0x81, 0x00, 0x00, 0x40, 0x40]),
    ];
    for (const bytes of cases)
      expect(codeOf(() => parseAttestationDocument(bytes))).toBe('ERR_NITRO_CBOR_MALFORMED');
  });

  test('deep nesting is rejected without recursion trouble', () => {
    const deep = new Uint8Array(20_000).fill(0x81);
    expect(codeOf(() => parseAttestationDocument(deep))).toBe('ERR_NITRO_CBOR_MALFORMED');
  });
});
