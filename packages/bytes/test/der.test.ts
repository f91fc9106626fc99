import { createSign, generateKeyPairSync, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { bytesToHex, ecdsaDerToRaw, hexToBytes, pemCertificatesToDer, readDerHeader } from '../src/index.js';

// The P-256 cases of tdx-attestation's DER reader (which now calls this one) and a check against node:crypto,
// which converts between its DER and IEEE P1363 (raw r ‖ s) signature encodings independently.
describe('ecdsaDerToRaw for P-256 (32-byte integers)', () => {
  it('converts and rejects as strict DER requires', () => {
    expect(bytesToHex(ecdsaDerToRaw(hexToBytes('3007020101020200ff'), 32)!)).toBe(
      `${'00'.repeat(31)}01${'00'.repeat(31)}ff`,
    );
    expect(ecdsaDerToRaw(hexToBytes('3006020181020101'), 32)).toBeNull(); // negative r
    expect(ecdsaDerToRaw(hexToBytes('300702020001020101'), 32)).toBeNull(); // non-minimal
    expect(ecdsaDerToRaw(hexToBytes(`3026022100${'91'.repeat(32)}020101`), 32)).not.toBeNull();
    expect(ecdsaDerToRaw(hexToBytes(`3026022101${'11'.repeat(32)}020101`), 32)).toBeNull(); // 33 bytes
    expect(ecdsaDerToRaw(hexToBytes('30060201010201'), 32)).toBeNull(); // truncated
    expect(ecdsaDerToRaw(hexToBytes('300602010102010100'), 32)).toBeNull(); // trailing byte
    expect(ecdsaDerToRaw(hexToBytes('3009020101020101020101'), 32)).toBeNull(); // three integers
    expect(ecdsaDerToRaw(hexToBytes('30800201010201010000'), 32)).toBeNull(); // indefinite length
  });

  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  test.prop([fc.uint8Array({ maxLength: 64 })], { numRuns: 50 })(
    'gives the raw form node:crypto verifies as ieee-p1363',
    (message) => {
      const der = createSign('sha256').update(message).sign(privateKey);
      const raw = ecdsaDerToRaw(der, 32)!;
      expect(raw).toHaveLength(64);
      expect(verify('sha256', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw)).toBe(true);
      expect(verify('sha256', message, publicKey, der)).toBe(true);
    },
  );
});

// The header cases of tdx-attestation's DER reader (which now reads headers through this one), each fault by name.
describe('readDerHeader', () => {
  it('reads short and long definite lengths and where the contents end', () => {
    expect(readDerHeader(Uint8Array.of(0x04, 0x00), 0)).toEqual({
      tag: 4,
      contentStart: 2,
      contentLength: 0,
      end: 2,
    });
    const long = Uint8Array.of(0x04, 0x81, 0x80, ...new Uint8Array(128));
    expect(readDerHeader(long, 0)).toEqual({ tag: 4, contentStart: 3, contentLength: 128, end: 131 });
    const nested = Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x05);
    expect(readDerHeader(nested, 2, 5)).toEqual({ tag: 2, contentStart: 4, contentLength: 1, end: 5 });
    expect(readDerHeader(Uint8Array.of(0x1f, 0x01, 0x00), 0)).toMatchObject({ tag: 0x1f }); // caller's check
  });

  it('names each fault', () => {
    const cases: [string, number, number | undefined, string][] = [
      ['04', 0, undefined, 'truncated-header'],
      ['3080000000', 0, undefined, 'indefinite-length'],
      ['048400000080', 0, undefined, 'length-too-long'],
      ['0482', 0, undefined, 'truncated-length'],
      ['048200', 0, undefined, 'truncated-length'],
      ['04810100', 0, undefined, 'non-minimal-length'],
      [`04820080${'00'.repeat(128)}`, 0, undefined, 'non-minimal-length'],
      ['040500', 0, undefined, 'exceeds-limit'],
      ['30030201050000', 2, 4, 'exceeds-limit'],
    ];
    for (const [hex, offset, limit, fault] of cases) {
      expect(readDerHeader(hexToBytes(hex), offset, limit), hex).toBe(fault);
    }
  });

  it('spans each real certificate exactly (certificates node:crypto parses)', () => {
    const vectors = JSON.parse(readFileSync(new URL('./vectors/pem-chains.json', import.meta.url), 'utf8'));
    for (const { text } of Object.values(vectors) as { text: string }[]) {
      for (const der of pemCertificatesToDer(text, { allowNul: true })!) {
        const header = readDerHeader(der, 0);
        expect(header).toMatchObject({ tag: 0x30, end: der.length });
      }
    }
  });

  test.prop([fc.integer({ min: 0, max: 0xffffff }), fc.integer({ min: 0, max: 3 })])(
    'reads every minimal length encoding and rejects the same length with a needless extra octet',
    (length, extra) => {
      const octets: number[] = [];
      for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
      const header = length < 0x80 ? [0x04, length] : [0x04, 0x80 | octets.length, ...octets];
      // Only the header is materialised; `limit` stands for the contents (and `extra` bytes after them).
      const source = Uint8Array.from(header);
      const limit = header.length + length + extra;
      expect(readDerHeader(source, 0, limit)).toEqual({
        tag: 4,
        contentStart: header.length,
        contentLength: length,
        end: header.length + length,
      });
      if (length > 0) expect(readDerHeader(source, 0, limit - extra - 1)).toBe('exceeds-limit');
      if (octets.length < 3) {
        const padded = Uint8Array.of(0x04, 0x80 | (octets.length + 1), 0, ...octets);
        expect(readDerHeader(padded, 0, Number.MAX_SAFE_INTEGER)).toBe('non-minimal-length');
      }
    },
  );
});
