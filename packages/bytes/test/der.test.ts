import { createSign, generateKeyPairSync, verify } from 'node:crypto';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { bytesToHex, ecdsaDerToRaw, hexToBytes } from '../src/index.js';

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
