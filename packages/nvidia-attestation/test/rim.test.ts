import { utf8ToBytes } from '@confidential-ai/bytes';
import { describe, expect, it } from 'vitest';
import { verifyRim } from '../src/rim.js';
import { resolveAnchor } from '../src/trust.js';
import { codeOf } from './code-of.js';
import { hopper545, rimSamples } from './vectors.js';

const anchor = resolveAnchor(undefined, 'rim', 'rim root');
const at = new Date(rimSamples.at);

function verify(text: string | Uint8Array, when = at) {
  return verifyRim(text, { anchor, at: when, what: 'RIM', memo: new Map() });
}

describe('every real NVIDIA RIM verifies (as it does with xmlsec1) and reads as NVIDIA publishes it', () => {
  for (const [file, text] of Object.entries(rimSamples.rims)) {
    it(file, async () => {
      const rim = await verify(text);
      expect(rim.name).toBe('GH100');
      expect(rim.product).toBe('GH100');
      expect(rim.firmwareManufacturerId).toBe('5703');
      expect(rim.measurements).toHaveLength(64);
      expect(rim.signerChain.map((certificate) => certificate.label)).toEqual([
        'HCC RIM L4 Signer',
        'NVIDIA Reference Value L3 GH100 001',
        'NVIDIA Reference Value GH100 CA',
        'NVIDIA CoRIM signing Root CA',
      ]);
      // The file name carries the VBIOS version without dots (driver RIMs are named otherwise).
      const fromName = /_([0-9A-F]{10})_/.exec(file)?.[1];
      if (fromName) expect(rim.version.replaceAll('.', '')).toBe(fromName);
    });
  }
  it('reads the reference values of the driver RIM', async () => {
    const rim = await verify(hopper545.driverRim);
    expect(rim.version).toBe('545.00');
    const active = rim.measurements.filter((entry) => entry.active).map((entry) => entry.index);
    expect(active).toEqual([7, ...Array.from({ length: 20 }, (_, offset) => 21 + offset)]);
    expect(rim.measurements.find((entry) => entry.index === 35)!.alternatives).toHaveLength(2);
  });
  it('their signer certificates have expired by now', async () => {
    expect(await codeOf(() => verify(hopper545.driverRim, new Date('2026-12-01T00:00:00Z')))).toBe(
      'ERR_NVIDIA_CERT_EXPIRED',
    );
  });
  it('accepts UTF-8 bytes and refuses other types', async () => {
    expect((await verify(utf8ToBytes(hopper545.vbiosRim))).version).toBe('96.00.5E.00.01');
    await expect(verify(5 as never)).rejects.toThrow(TypeError);
    expect(await codeOf(() => verify(Uint8Array.of(0xc3, 0x28)))).toBe('ERR_NVIDIA_RIM_MALFORMED');
  });
});

describe('XML signature shape: anything but the one NVIDIA signs is refused', () => {
  const rim = hopper545.driverRim;
  const signatureStart = rim.indexOf('<ds:Signature ');
  const signatureEnd = rim.indexOf('</ds:Signature>') + '</ds:Signature>'.length;
  const signature = rim.slice(signatureStart, signatureEnd);
  const withoutSignature = rim.slice(0, signatureStart) + rim.slice(signatureEnd);
  // One text replaced (its first occurrence) by another, each refused as ERR_NVIDIA_RIM_SIGNATURE.
  const edits: Array<[string, string, string]> = [
    ['a Reference to a fragment', '<ds:Reference URI="">', '<ds:Reference URI="#x">'],
    ['a second Reference', '</ds:Reference>', '</ds:Reference><ds:Reference URI=""/>'],
    [
      'no enveloped-signature transform',
      '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>',
      '',
    ],
    ['an Object in the signature', '</ds:KeyInfo>', '</ds:KeyInfo><ds:Object>x</ds:Object>'],
    ['SHA-256 digest', 'xmldsig-more#sha384"', 'xmldsig-more#sha256"'],
    ['RSA signature method', 'ecdsa-sha384', 'rsa-sha384'],
    ['text inside SignedInfo', '<ds:SignedInfo>', '<ds:SignedInfo>x'],
    ['a changed reference value', 'active="True" alternatives="2"', 'active="False" alternatives="2"'],
    ['an added resource', '</ns0:Payload>', '<ns0:Resource type="Measurement" index="64"/></ns0:Payload>'],
    ['white space added inside SignedInfo', '<ds:SignatureMethod', '\n<ds:SignatureMethod'],
  ];
  const cases: Array<[string, string, string]> = [
    ['no signature', withoutSignature, 'ERR_NVIDIA_RIM_SIGNATURE'],
    [
      'two signatures',
      rim.replace('</SoftwareIdentity>', `${signature}</SoftwareIdentity>`),
      'ERR_NVIDIA_RIM_SIGNATURE',
    ],
    [
      'the signature moved into the payload (wrapping)',
      withoutSignature.replace('</ns0:Payload>', `${signature}</ns0:Payload>`),
      'ERR_NVIDIA_RIM_SIGNATURE',
    ],
    [
      'exclusive canonicalization',
      rim.replaceAll('http://www.w3.org/2006/12/xml-c14n11', 'http://www.w3.org/2001/10/xml-exc-c14n#'),
      'ERR_NVIDIA_RIM_SIGNATURE',
    ],
    ['no KeyInfo', rim.replace(/<ds:KeyInfo>[\s\S]*<\/ds:KeyInfo>/, ''), 'ERR_NVIDIA_RIM_SIGNATURE'],
    [
      'the signer chain in another order',
      rim.replace(
        /<ds:X509Data>(<ds:X509Certificate>[\s\S]*?<\/ds:X509Certificate>)([\s\S]*)<\/ds:X509Data>/,
        '<ds:X509Data>$2$1</ds:X509Data>',
      ),
      'ERR_NVIDIA_RIM_CERT_CHAIN',
    ],
    [
      'the signature of another RIM',
      rim.replace(/<ds:SignatureValue>[^<]*/, hopper545.vbiosRim.match(/<ds:SignatureValue>[^<]*/)![0]),
      'ERR_NVIDIA_RIM_SIGNATURE',
    ],
    ['a DOCTYPE', `<!DOCTYPE x [<!ENTITY e "e">]>${rim}`, 'ERR_NVIDIA_RIM_MALFORMED'],
    ['not XML', 'not xml', 'ERR_NVIDIA_RIM_MALFORMED'],
    ...edits.map(([name, from, to]): [string, string, string] => [
      name,
      rim.replace(from, to),
      'ERR_NVIDIA_RIM_SIGNATURE',
    ]),
  ];
  for (const [name, text, code] of cases) {
    it(name, async () => {
      expect(text).not.toBe(rim);
      expect(await codeOf(() => verify(text))).toBe(code);
    });
  }

  it('white space between the signature elements is not signed (and so changes nothing)', async () => {
    expect(
      (
        await verify(
          rim.replace('</ds:SignedInfo><ds:SignatureValue>', '</ds:SignedInfo>\n<ds:SignatureValue>'),
        )
      ).version,
    ).toBe('545.00');
  });
  it('a signer chain without its root still ends at the pinned root', async () => {
    const trimmed = rim.replace(
      /<ds:X509Certificate>(?:(?!<ds:X509Certificate>)[\s\S])*?<\/ds:X509Certificate><\/ds:X509Data>/,
      '</ds:X509Data>',
    );
    expect(trimmed.length).toBeLessThan(rim.length);
    expect((await verify(trimmed)).signerChain).toHaveLength(4);
  });
});
