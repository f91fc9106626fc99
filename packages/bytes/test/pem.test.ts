import { Buffer } from 'node:buffer';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { derToPem, pemCertificatesToDer } from '../src/index.js';

interface ChainVector {
  readonly text: string;
  readonly certificates: number;
  readonly nulBetweenOrAfterBlocks: boolean;
}
const vectors = JSON.parse(
  readFileSync(new URL('./vectors/pem-chains.json', import.meta.url), 'utf8'),
) as Record<string, ChainVector>;
const nitroRoot = vectors.awsNitroRootG1!.text;
const intelChain = vectors.tcbInfoIssuerChain!.text;

describe('pemCertificatesToDer on real chains (checked against node:crypto X509Certificate)', () => {
  for (const [name, vector] of Object.entries(vectors)) {
    it(`${name}: ${vector.certificates} certificates`, () => {
      const ders = pemCertificatesToDer(vector.text, { allowNul: true });
      expect(ders).toHaveLength(vector.certificates);
      // Node re-encodes each DER as PEM; the blocks are those of the source text, in order.
      const blocks = vector.text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g);
      expect(ders!.map((der) => new X509Certificate(der).toString())).toEqual(blocks);
      if (vector.nulBetweenOrAfterBlocks) expect(pemCertificatesToDer(vector.text)).toBeUndefined();
      else expect(pemCertificatesToDer(vector.text)).toEqual(ders);
    });
  }

  it('reads the AWS Nitro root with its published fingerprint', () => {
    const [der] = pemCertificatesToDer(nitroRoot)!;
    expect(new X509Certificate(der!).fingerprint256).toBe(
      '64:1A:03:21:A3:E2:44:EF:E4:56:46:31:95:D6:06:31:7E:D7:CD:CC:3C:17:56:E0:98:93:F3:C6:8F:79:BB:5B',
    );
  });
});

describe('pemCertificatesToDer: what may stand outside and inside the blocks', () => {
  const [first, second] = pemCertificatesToDer(intelChain)!;
  const one = derToPem(first!);
  const two = derToPem(second!);

  it('accepts whitespace around and between blocks, and CRLF, tabs and spaces inside them', () => {
    expect(pemCertificatesToDer(`\n \t${one}\r\n\n${two}  \n`)).toEqual([first, second]);
    expect(pemCertificatesToDer(one.replaceAll('\n', '\r\n').replace('MII', 'M I\tI'))).toEqual([first]);
  });

  it('accepts NUL outside the blocks only with allowNul', () => {
    for (const text of [`${one}\0${two}`, `${one}${two}\0\0`, `\0${one}`]) {
      expect(pemCertificatesToDer(text)).toBeUndefined();
      expect(pemCertificatesToDer(text, { allowNul: true })!.length).toBeGreaterThan(0);
    }
    expect(pemCertificatesToDer(`${one}\0${two}`, { allowNul: true })).toEqual([first, second]);
    // NUL inside a block is never whitespace.
    expect(pemCertificatesToDer(one.replace('MII', 'M\0II'), { allowNul: true })).toBeUndefined();
  });

  it('returns undefined for anything that is not a certificate chain', () => {
    const rejected = [
      '',
      ' \n',
      'hello',
      `${one}junk\n${two}`,
      `junk${one}`,
      `${one}junk`,
      one.replace('-----END CERTIFICATE-----', ''),
      '-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----\n',
      one.replace('MII', 'MI*'),
      one.replace(/.\n-----END/, '\n-----END'), // base64 one character short
      one.replaceAll('CERTIFICATE', 'X509 CRL'),
    ];
    for (const text of rejected) expect(pemCertificatesToDer(text), JSON.stringify(text)).toBeUndefined();
  });
});

describe('derToPem', () => {
  it('encodes as node:crypto does', () => {
    for (const der of pemCertificatesToDer(intelChain)!) {
      expect(derToPem(der)).toBe(new X509Certificate(der).toString());
    }
  });

  test.prop([fc.uint8Array({ minLength: 1, maxLength: 400 })])(
    '64-column base64 that reads back',
    (bytes) => {
      const pem = derToPem(bytes);
      const lines = pem.split('\n');
      expect(lines[0]).toBe('-----BEGIN CERTIFICATE-----');
      expect(lines.at(-2)).toBe('-----END CERTIFICATE-----');
      expect(lines.at(-1)).toBe('');
      const body = lines.slice(1, -2);
      expect(body.join('')).toBe(Buffer.from(bytes).toString('base64'));
      for (const line of body.slice(0, -1)) expect(line).toHaveLength(64);
      expect(pemCertificatesToDer(pem)).toEqual([new Uint8Array(bytes)]);
    },
  );
});
