import { base64ToBytes, bytesToHex, hexToBytes, utf8ToBytes } from '@confidential-ai/bytes';
import { describe, expect, test } from 'vitest';
import {
  AWS_NITRO_ROOT_G1_PEM,
  createNitroVerifier,
  NitroAttestationError,
  parseAttestationDocument,
  pemToDer,
  verifyAttestationDocument,
} from '../src/index.js';
import { debugDoc, documentInput, type ExpectedDocument, prodDoc } from './helpers.js';
import { cborEncode, flipped, indexOfBytes, pemOf, rekeyedSelfSigned } from './synthetic.js';

/** Offsets of content bytes whose change keeps the DER well-formed. */
function contentOffsets(der: Uint8Array): number[] {
  const subjectText = Buffer.from(der).lastIndexOf(Buffer.from('aws'));
  expect(subjectText).toBeGreaterThan(0);
  return [16, subjectText + 1, der.length - 200, der.length - 5];
}

function bytesOf(doc: ExpectedDocument): Uint8Array {
  const input = documentInput(doc);
  return typeof input === 'string' ? base64ToBytes(input.trim()) : input;
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<NitroAttestationError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected ${code}, but verification succeeded`);
    },
    (caught: unknown) => caught,
  );
  expect(NitroAttestationError.isInstance(error), String(error)).toBe(true);
  expect((error as NitroAttestationError).code).toBe(code);
  return error as NitroAttestationError;
}

describe.each([debugDoc, prodDoc])('negative cases on $file', (doc) => {
  const at = new Date(doc.verify_at);
  const bytes = bytesOf(doc);
  const { document } = parseAttestationDocument(bytes);
  const verify = (input: Uint8Array | string, options = {}) =>
    verifyAttestationDocument(input, { at, allowDebug: true, ...options });

  test("today's date (2026-11-30) and the default clock: expired", async () => {
    const error = await expectCode(
      verifyAttestationDocument(bytes, { at: new Date('2026-11-30T00:00:00Z'), allowDebug: true }),
      'ERR_NITRO_CERTIFICATE_EXPIRED',
    );
    expect(error.reason).toBe('expired');
    await expectCode(verifyAttestationDocument(bytes, { allowDebug: true }), 'ERR_NITRO_CERTIFICATE_EXPIRED');
  });

  test('before the leaf was issued: not yet valid', async () => {
    const before = new Date(new Date(doc.chain_valid_window_utc[0]).getTime() - 60_000);
    await expectCode(verify(bytes, { at: before }), 'ERR_NITRO_CERTIFICATE_EXPIRED');
  });

  test('one flipped byte in the payload (module_id): signature', async () => {
    const index = indexOfBytes(bytes, utf8ToBytes(doc.module_id)) + 3;
    const error = await expectCode(verify(flipped(bytes, index)), 'ERR_NITRO_SIGNATURE_INVALID');
    expect(error.reason).toBe('signature');
  });

  test('one flipped byte in a PCR value and in the nonce: signature', async () => {
    await expectCode(
      verify(flipped(bytes, indexOfBytes(bytes, document.pcrs.get(3)!) + 10)),
      'ERR_NITRO_SIGNATURE_INVALID',
    );
    await expectCode(
      verify(flipped(bytes, indexOfBytes(bytes, document.nonce!) + 100)),
      'ERR_NITRO_SIGNATURE_INVALID',
    );
  });

  test('one flipped byte in the signature (first, middle and last): signature', async () => {
    const start = bytes.length - 96;
    for (const index of [start, start + 47, start + 48, bytes.length - 1]) {
      await expectCode(verify(flipped(bytes, index)), 'ERR_NITRO_SIGNATURE_INVALID');
    }
  });

  test.each([1, 2, 3])('one flipped byte in cabundle[%i]: chain', async (position) => {
    const der = document.cabundle[position]!;
    const base = indexOfBytes(bytes, der);
    // serial number contents, a byte of the subject CN, the public key, and the certificate's own signature
    for (const offset of contentOffsets(der)) {
      const error = await expectCode(verify(flipped(bytes, base + offset)), 'ERR_NITRO_CHAIN_INVALID');
      expect(error.reason).toBe('chain');
    }
  });

  test('one flipped byte in the leaf certificate: chain', async () => {
    const base = indexOfBytes(bytes, document.certificate);
    for (const offset of contentOffsets(document.certificate)) {
      await expectCode(verify(flipped(bytes, base + offset)), 'ERR_NITRO_CHAIN_INVALID');
    }
  });

  test('a flipped DER structure byte in a certificate: malformed certificate', async () => {
    for (const der of [document.cabundle[2]!, document.certificate]) {
      const base = indexOfBytes(bytes, der);
      // byte 0 is the outer SEQUENCE tag; offset 4 is the TBSCertificate SEQUENCE tag
      for (const offset of [0, 4]) {
        const error = await expectCode(
          verify(flipped(bytes, base + offset, 0x10)),
          'ERR_NITRO_CERTIFICATE_MALFORMED',
        );
        expect(error.reason).toBe('malformed');
      }
    }
  });

  test('one flipped byte in cabundle[0] (never trusted, but signed): signature', async () => {
    const base = indexOfBytes(bytes, document.cabundle[0]!);
    await expectCode(verify(flipped(bytes, base + 16)), 'ERR_NITRO_SIGNATURE_INVALID');
  });

  test('a foreign root (same names, another P-384 key): chain', async () => {
    const foreign = await rekeyedSelfSigned(pemToDer(AWS_NITRO_ROOT_G1_PEM, 'CERTIFICATE'));
    await expectCode(verify(bytes, { root: foreign }), 'ERR_NITRO_CHAIN_INVALID');
    await expectCode(verify(bytes, { root: pemOf(foreign) }), 'ERR_NITRO_CHAIN_INVALID');
  });

  test('a foreign root with different names: chain', async () => {
    // The leaf certificate of the other fixture is not a CA; use the other document's instance CA instead.
    const other = parseAttestationDocument(bytesOf(doc === debugDoc ? prodDoc : debugDoc)).document;
    const foreign = await rekeyedSelfSigned(other.cabundle[3]!);
    await expectCode(verify(bytes, { root: foreign }), 'ERR_NITRO_CHAIN_INVALID');
  });

  test('a root that does not match the pinned fingerprint: root untrusted', async () => {
    const foreign = await rekeyedSelfSigned(pemToDer(AWS_NITRO_ROOT_G1_PEM, 'CERTIFICATE'));
    const pinned = `${'64:1A:03:21:A3:E2:44:EF:E4:56:46:31:95:D6:06:31:7E:D7:CD:CC:3C:17:56:E0:98:93:F3:C6:8F:79:BB:5B'}`;
    await expectCode(verify(bytes, { root: foreign, rootFingerprint: pinned }), 'ERR_NITRO_ROOT_UNTRUSTED');
    await expectCode(verify(bytes, { rootFingerprint: '00'.repeat(32) }), 'ERR_NITRO_ROOT_UNTRUSTED');
    expect(() => createNitroVerifier({ root: foreign, rootFingerprint: pinned })).toThrow(
      NitroAttestationError,
    );
    // The correct pin in colon notation is accepted.
    await expect(verify(bytes, { rootFingerprint: pinned })).resolves.toBeTruthy();
  });

  test('wrong PCR values and missing PCR indices: pcr', async () => {
    for (const index of [0, 1, 2, 3, 4, 8, 15]) {
      const wrong = hexToBytes(doc.pcrs_all[String(index)]!);
      wrong[47]! ^= 0x80;
      const error = await expectCode(
        verify(bytes, { expectedPcrs: { [index]: wrong } }),
        'ERR_NITRO_PCR_MISMATCH',
      );
      expect(error.pcrIndex).toBe(index);
      expect(error.reason).toBe('pcr');
    }
    await expectCode(verify(bytes, { expectedPcrs: { 20: '00'.repeat(48) } }), 'ERR_NITRO_PCR_MISMATCH');
    await expectCode(verify(bytes, { expectedPcrs: { 0: '00'.repeat(32) } }), 'ERR_NITRO_PCR_MISMATCH');
  });

  test('a wrong nonce: nonce', async () => {
    const wrong = hexToBytes(doc.nonce_hex!);
    wrong[0]! ^= 1;
    await expectCode(verify(bytes, { expectedNonce: wrong }), 'ERR_NITRO_NONCE_MISMATCH');
    await expectCode(
      verify(bytes, { expectedNonce: doc.nonce_hex!.slice(0, 40) }),
      'ERR_NITRO_NONCE_MISMATCH',
    );
    await expectCode(verify(bytes, { expectedNonce: '' }), 'ERR_NITRO_NONCE_MISMATCH');
  });

  test('a wrong user_data / public_key expectation: user-data', async () => {
    await expectCode(verify(bytes, { expectedUserData: new Uint8Array(68) }), 'ERR_NITRO_USER_DATA_MISMATCH');
    await expectCode(
      verify(bytes, { expectedPublicKey: utf8ToBytes('dummy') }),
      'ERR_NITRO_USER_DATA_MISMATCH',
    );
    await expectCode(verify(bytes, { requireNitridingUserData: true }), 'ERR_NITRO_USER_DATA_INVALID');
  });

  test('a stale document (maxAge) and a future one: timestamp', async () => {
    await expectCode(
      verify(bytes, { at: doc.timestamp_ms + 301_000, maxAge: 300_000 }),
      'ERR_NITRO_TIMESTAMP_INVALID',
    );
    await expectCode(
      verify(bytes, { at: doc.timestamp_ms - 2_000, maxAge: 300_000, maxFutureSkew: 1_000 }),
      'ERR_NITRO_TIMESTAMP_INVALID',
    );
    const fresh = await verify(bytes, { at: doc.timestamp_ms + 299_000, maxAge: 300_000 });
    expect(fresh.checks.freshness).toBe(true);
  });

  test('every truncation is a typed decoding error', () => {
    for (let length = 0; length < bytes.length; length++) {
      let caught: unknown;
      try {
        parseAttestationDocument(bytes.subarray(0, length));
      } catch (error) {
        caught = error;
      }
      expect(NitroAttestationError.isInstance(caught), `length ${length}`).toBe(true);
      expect((caught as NitroAttestationError).reason).toBe('malformed');
    }
  });

  test('truncated base64 and hex text are typed errors', async () => {
    const base64 = Buffer.from(bytes).toString('base64');
    for (const cut of [1, 2, 3, 4, 5, 100, 1000]) {
      await expect(verify(base64.slice(0, base64.length - cut))).rejects.toSatisfy(
        NitroAttestationError.isInstance,
      );
    }
    const hex = bytesToHex(bytes);
    await expectCode(verify(hex.slice(0, -1)), 'ERR_NITRO_INPUT_ENCODING');
    await expect(verify(hex.slice(0, -2))).rejects.toSatisfy(NitroAttestationError.isInstance);
  });
});

describe('debug mode', () => {
  test('the debug fixture is refused unless debug is allowed', async () => {
    const at = new Date(debugDoc.verify_at);
    const error = await expectCode(
      verifyAttestationDocument(documentInput(debugDoc), { at }),
      'ERR_NITRO_DEBUG_MODE',
    );
    expect(error.reason).toBe('debug');
    const allowed = await verifyAttestationDocument(documentInput(debugDoc), { at, allowDebug: true });
    expect(allowed.debug).toBe(true);
  });

  test('the production fixture passes with debug denied', async () => {
    const result = await verifyAttestationDocument(documentInput(prodDoc), {
      at: new Date(prodDoc.verify_at),
    });
    expect(result.debug).toBe(false);
  });
});

describe('garbage input', () => {
  const cases: [string, Uint8Array | string, string][] = [
    ['empty bytes', new Uint8Array(0), 'ERR_NITRO_INPUT_ENCODING'],
    ['empty string', '', 'ERR_NITRO_INPUT_ENCODING'],
    ['whitespace', ' \n\t', 'ERR_NITRO_INPUT_ENCODING'],
    ['not base64', 'hello world!', 'ERR_NITRO_INPUT_ENCODING'],
    ['JSON text', '{"module_id":"x"}', 'ERR_NITRO_INPUT_ENCODING'],
    ['oversized', new Uint8Array(70_000), 'ERR_NITRO_INPUT_ENCODING'],
    ['a lone zero byte', new Uint8Array([0]), 'ERR_NITRO_COSE_MALFORMED'],
    ['CBOR break byte', new Uint8Array([0xff]), 'ERR_NITRO_CBOR_MALFORMED'],
    ['trailing bytes', new Uint8Array([0x80, 0x00]), 'ERR_NITRO_CBOR_MALFORMED'],
    ['a CBOR map', cborEncode(new Map([[1, 2]])), 'ERR_NITRO_COSE_MALFORMED'],
    [
      'an array of 3',
      cborEncode([new Uint8Array(1), new Map(), new Uint8Array(1)]),
      'ERR_NITRO_COSE_MALFORMED',
    ],
    ['tag 17 (COSE_Mac0)', new Uint8Array([0xd1, 0x80]), 'ERR_NITRO_COSE_MALFORMED'],
    ['a huge declared array', new Uint8Array([0x9b, 0, 0, 0, 1, 0, 0, 0, 0]), 'ERR_NITRO_CBOR_MALFORMED'],
    [
      'a huge declared byte string',
      new Uint8Array([0x5a, 0xff, 0xff, 0xff, 0xff, 0]),
      'ERR_NITRO_CBOR_MALFORMED',
    ],
  ];
  test.each(cases)('%s → %s', async (_name, input, code) => {
    await expectCode(verifyAttestationDocument(input), code);
    expect(() => parseAttestationDocument(input)).toThrow(NitroAttestationError);
  });

  test('random bytes are typed errors', () => {
    for (let round = 0; round < 200; round++) {
      const random = crypto.getRandomValues(new Uint8Array(1 + (round % 97)));
      expect(() => parseAttestationDocument(random)).toThrow(NitroAttestationError);
    }
  });

  test('non-string, non-bytes input is a TypeError', async () => {
    await expect(verifyAttestationDocument(42 as never)).rejects.toThrow(TypeError);
    await expect(verifyAttestationDocument(null as never)).rejects.toThrow(TypeError);
    const input = documentInput(prodDoc);
    const at = new Date(prodDoc.verify_at);
    await expect(verifyAttestationDocument(input, { at, expectedPcrs: { 0: 'zz' } })).rejects.toThrow(
      TypeError,
    );
    await expect(verifyAttestationDocument(input, { at, expectedNonce: 'xyz' })).rejects.toThrow(TypeError);
    await expect(verifyAttestationDocument(input, { at, expectedPcrs: { 32: '00' } })).rejects.toThrow(
      RangeError,
    );
    await expect(verifyAttestationDocument(input, { at: new Date('nope') })).rejects.toThrow(TypeError);
    expect(() => createNitroVerifier({ cache: 0 })).toThrow(RangeError);
    expect(() => createNitroVerifier({ root: 'not a pem' })).toThrow(TypeError);
  });
});
