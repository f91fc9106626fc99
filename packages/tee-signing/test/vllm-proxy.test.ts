import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  verify as nodeVerify,
} from 'node:crypto';
import { bytesToHex, hexToBytes } from '@confidential-ai/bytes';
import { fc, test } from '@fast-check/vitest';
import { hashMessage, recoverMessageAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import {
  createResponseHasher,
  createVllmProxySigner,
  deriveVllmProxyKeys,
  ed25519SignText,
  ed25519VerifyText,
  eip191MessageHash,
  ethereumAddressFromPublicKey,
  isChecksumAddressValid,
  personalSign,
  recoverPersonalSignAddress,
  selectVllmSignature,
  signVllmExchange,
  toChecksumAddress,
  verifyVllmExchange,
  verifyVllmSignature,
  vllmRequestHash,
  vllmResponseHash,
  vllmSignedText,
} from '../src/index.js';
import { codeOf, codeOfSync, loadVector } from './helpers.js';

interface EthereumVectors {
  personalSign: {
    privateKey: string;
    message: string;
    messageHash?: string;
    signature: string;
    address: string;
  }[];
  eip55: { valid: string[]; mixedCase: string[] };
}
const eth = loadVector<EthereumVectors>('ethereum.json');
const rfc8032 = loadVector<{
  vectors: { name: string; secretKey: string; publicKey: string; message: string; signature: string }[];
}>('ed25519-rfc8032.json');
const python = loadVector<{ ed25519: { seed: string; publicKey: string; text: string; signature: string } }>(
  'opengradient-responses.json',
);

/** A node:crypto Ed25519 public KeyObject from raw bytes (SPKI prefix for Ed25519 + key). */
function nodeEd25519PublicKey(raw: Uint8Array) {
  return createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]),
    format: 'der',
    type: 'spki',
  });
}

describe('EIP-191 personal_sign (published vectors)', () => {
  for (const vector of eth.personalSign) {
    it(`signs and recovers: ${JSON.stringify(vector.message)}`, () => {
      if (vector.messageHash)
        expect('0x' + bytesToHex(eip191MessageHash(vector.message))).toBe(vector.messageHash);
      expect(personalSign(vector.privateKey, vector.message)).toBe(vector.signature);
      expect(recoverPersonalSignAddress(vector.message, vector.signature)).toBe(vector.address);
      const signer = createVllmProxySigner({ algorithm: 'ecdsa', privateKey: vector.privateKey });
      expect(signer.signingAddress).toBe(vector.address);
      expect(signer.sign(vector.message)).toBe(vector.signature);
    });
  }

  it('EIP-55 checksums', () => {
    for (const address of eth.eip55.mixedCase) expect(toChecksumAddress(address.toLowerCase())).toBe(address);
    for (const address of eth.eip55.valid) expect(isChecksumAddressValid(address)).toBe(true);
    const broken = eth.eip55.mixedCase[0]!.replace('a', 'A');
    expect(isChecksumAddressValid(broken)).toBe(false);
    expect(() => toChecksumAddress('0x123')).toThrow(TypeError);
  });
});

describe('ECDSA cross-check against viem (second implementation)', () => {
  test.prop(
    [fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.string({ unit: 'binary', maxLength: 200 })],
    { numRuns: 40 },
  )('same signature bytes, same address, viem recovers our signer', async (seed, text) => {
    const keys = deriveVllmProxyKeys(new Uint8Array([...seed, ...seed]));
    const privateKey = `0x${bytesToHex(keys.ecdsaPrivateKey)}` as const;
    const account = privateKeyToAccount(privateKey);
    const ours = personalSign(privateKey, text);
    expect(ours).toBe(await account.signMessage({ message: text }));
    expect('0x' + bytesToHex(eip191MessageHash(text))).toBe(hashMessage(text));
    const signer = createVllmProxySigner({ algorithm: 'ecdsa', privateKey });
    expect(signer.signingAddress).toBe(account.address);
    expect(await recoverMessageAddress({ message: text, signature: ours as `0x${string}` })).toBe(
      account.address,
    );
    expect(recoverPersonalSignAddress(text, ours)).toBe(account.address);
  });

  it('signing_public_key is X‖Y and matches node:crypto / the address', () => {
    const signer = createVllmProxySigner({ algorithm: 'ecdsa', privateKey: eth.personalSign[1]!.privateKey });
    expect(signer.signingPublicKey).toHaveLength(128);
    expect(ethereumAddressFromPublicKey(hexToBytes(signer.signingPublicKey))).toBe(signer.signingAddress);
    const jwk = createPrivateKey({
      key: {
        kty: 'EC',
        crv: 'secp256k1',
        d: Buffer.from(eth.personalSign[1]!.privateKey.slice(2), 'hex').toString('base64url'),
        x: Buffer.from(signer.signingPublicKey.slice(0, 64), 'hex').toString('base64url'),
        y: Buffer.from(signer.signingPublicKey.slice(64), 'hex').toString('base64url'),
      },
      format: 'jwk',
    });
    expect(jwk.asymmetricKeyDetails?.namedCurve).toBe('secp256k1');
    expect(signer.signingAddressBytes).toEqual(hexToBytes(signer.signingAddress.slice(2)));
  });

  it('malformed and malleable signatures fail typed', () => {
    const { message, signature, address } = eth.personalSign[0]!;
    expect(codeOfSync(() => recoverPersonalSignAddress(message, signature.slice(0, -2)))).toBe(
      'ERR_SIGNATURE_MALFORMED',
    );
    expect(codeOfSync(() => recoverPersonalSignAddress(message, 'zz'))).toBe('ERR_SIGNATURE_MALFORMED');
    expect(codeOfSync(() => recoverPersonalSignAddress(message, signature.slice(0, -2) + '1d'))).toBe(
      'ERR_SIGNATURE_MALFORMED',
    );
    expect(codeOfSync(() => recoverPersonalSignAddress(message, '0x' + '00'.repeat(64) + '1b'))).toBe(
      'ERR_SIGNATURE_MALFORMED',
    );
    // v as 0/1 is accepted
    expect(recoverPersonalSignAddress(message, signature.slice(0, -2) + '01')).toBe(address);
    // high-S twin: s' = n - s with flipped v; rejected (eth_account never produces it)
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const s = BigInt('0x' + signature.slice(66, 130));
    const twin = signature.slice(0, 66) + (n - s).toString(16).padStart(64, '0') + '1b';
    expect(codeOfSync(() => recoverPersonalSignAddress(message, twin))).toBe('ERR_SIGNATURE_INVALID');
    // another message recovers another address -> mismatch
    expect(
      codeOfSync(() =>
        verifyVllmSignature({ algorithm: 'ecdsa', text: 'other', signature, signingAddress: address }),
      ),
    ).toBe('ERR_ADDRESS_MISMATCH');
    expect(
      verifyVllmSignature({
        algorithm: 'ecdsa',
        text: message,
        signature,
        signingAddress: address.toLowerCase(),
      }).signingAddress,
    ).toBe(address);
    expect(
      codeOfSync(() =>
        verifyVllmSignature({ algorithm: 'ecdsa', text: message, signature, signingAddress: 'nope' }),
      ),
    ).toBe('ERR_KEY_INVALID');
    expect(codeOfSync(() => createVllmProxySigner({ algorithm: 'ecdsa', privateKey: '00'.repeat(32) }))).toBe(
      'ERR_KEY_INVALID',
    );
    expect(codeOfSync(() => createVllmProxySigner({ algorithm: 'ecdsa', privateKey: 'ff'.repeat(32) }))).toBe(
      'ERR_KEY_INVALID',
    );
    expect(() => createVllmProxySigner({ algorithm: 'rsa' as never })).toThrow(TypeError);
  });
});

describe('Ed25519', () => {
  for (const vector of rfc8032.vectors) {
    it(`RFC 8032 ${vector.name}`, () => {
      const message = hexToBytes(vector.message);
      expect(ed25519SignText(vector.secretKey, message)).toBe(vector.signature);
      expect(ed25519VerifyText(vector.publicKey, message, vector.signature)).toBe(true);
      const signer = createVllmProxySigner({ algorithm: 'ed25519', privateKey: vector.secretKey });
      expect(signer.signingAddress).toBe(vector.publicKey);
      expect(signer.signingPublicKey).toBe(vector.publicKey);
    });
  }

  it('matches pyca/cryptography (the reference library) byte for byte', () => {
    const { seed, publicKey, text, signature } = python.ed25519;
    const signer = createVllmProxySigner({ algorithm: 'ed25519', privateKey: seed });
    expect(signer.signingAddress).toBe(publicKey);
    expect(signer.sign(text)).toBe(signature);
  });

  test.prop([fc.string({ unit: 'binary', maxLength: 300 })], { numRuns: 60 })(
    'node:crypto verifies our signatures',
    (text) => {
      const signer = createVllmProxySigner({ algorithm: 'ed25519' });
      const signature = signer.sign(text);
      const key = nodeEd25519PublicKey(hexToBytes(signer.signingPublicKey));
      expect(nodeVerify(null, Buffer.from(text, 'utf8'), key, Buffer.from(signature, 'hex'))).toBe(true);
      expect(
        verifyVllmSignature({ algorithm: 'ed25519', text, signature, signingAddress: signer.signingAddress })
          .signingAddress,
      ).toBe(signer.signingAddress);
    },
  );

  it('node:crypto signatures verify with ours; tampering fails', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
    const text = `${'1'.repeat(64)}:${'2'.repeat(64)}`;
    const signature = (await import('node:crypto')).sign(null, Buffer.from(text), privateKey).toString('hex');
    expect(ed25519VerifyText(raw, text, signature)).toBe(true);
    expect(ed25519VerifyText(raw, text + 'x', signature)).toBe(false);
    const flipped = (signature.startsWith('0') ? '1' : '0') + signature.slice(1);
    expect(
      codeOfSync(() =>
        verifyVllmSignature({
          algorithm: 'ed25519',
          text,
          signature: flipped,
          signingAddress: bytesToHex(raw),
        }),
      ),
    ).toBe('ERR_SIGNATURE_INVALID');
    expect(codeOfSync(() => ed25519VerifyText(raw, text, signature.slice(2)))).toBe(
      'ERR_SIGNATURE_MALFORMED',
    );
    expect(codeOfSync(() => ed25519VerifyText('abcd', text, signature))).toBe('ERR_KEY_INVALID');
    expect(codeOfSync(() => createVllmProxySigner({ algorithm: 'ed25519', privateKey: 'abcd' }))).toBe(
      'ERR_KEY_INVALID',
    );
    // Non-canonical S (S + L) is refused by strict verification.
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    const sig = hexToBytes(signature);
    let s = 0n;
    for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i]!);
    const bumped = s + L;
    if (bumped < 2n ** 256n) {
      const out = new Uint8Array(sig);
      let value = bumped;
      for (let i = 0; i < 32; i++) {
        out[32 + i] = Number(value & 0xffn);
        value >>= 8n;
      }
      expect(ed25519VerifyText(raw, text, out)).toBe(false);
    }
  });
});

describe('vllm-proxy signed text, records and verification', () => {
  const requestBody = new TextEncoder().encode('{"model":"m","messages":[{"role":"user","content":"hi"}]}');
  const responseBytes = new TextEncoder().encode('data: {"id":"c1"}\n\n\ndata: [DONE]\n\n');

  it('hashes are SHA-256 hex of the bytes (node:crypto), header trusted as-is', () => {
    expect(vllmRequestHash(requestBody)).toBe(createHash('sha256').update(requestBody).digest('hex'));
    expect(vllmRequestHash(requestBody, 'client-hash')).toBe('client-hash');
    expect(vllmRequestHash(requestBody, '')).toBe(createHash('sha256').update(requestBody).digest('hex'));
    expect(vllmResponseHash(responseBytes)).toBe(createHash('sha256').update(responseBytes).digest('hex'));
    const hasher = createResponseHasher();
    for (const chunk of ['data: {"id":"c1"}\n\n', '\n', 'data: [DONE]\n\n']) hasher.update(chunk);
    expect(hasher.digestHex()).toBe(vllmResponseHash(responseBytes));
    expect(() => hasher.update('x')).toThrow();
    expect(vllmSignedText('aa', 'bb')).toBe('aa:bb');
  });

  it('signer records verify; tampering and wrong signer are caught', async () => {
    for (const algorithm of ['ecdsa', 'ed25519'] as const) {
      const signer = createVllmProxySigner({ algorithm });
      const record = signer.signExchange({ requestBody, responseBytes });
      expect(record.signing_algo).toBe(algorithm);
      expect(record.text).toBe(`${vllmRequestHash(requestBody)}:${vllmResponseHash(responseBytes)}`);
      const ok = verifyVllmExchange({
        requestBody,
        responseBytes,
        record,
        expectedSigningAddress: signer.signingAddress,
      });
      expect(ok.algorithm).toBe(algorithm);
      expect(
        await codeOf(() =>
          verifyVllmExchange({
            requestBody,
            responseBytes: new Uint8Array([...responseBytes, 10]),
            record,
            expectedSigningAddress: signer.signingAddress,
          }),
        ),
      ).toBe('ERR_TEXT_MISMATCH');
      const other = createVllmProxySigner({ algorithm });
      expect(
        await codeOf(() =>
          verifyVllmExchange({
            requestBody,
            responseBytes,
            record,
            expectedSigningAddress: other.signingAddress,
          }),
        ),
      ).toBe('ERR_ADDRESS_MISMATCH');
      // A forger who re-signs with their own key and claims the expected address:
      const forged = {
        ...other.signExchange({ requestBody, responseBytes }),
        signing_address: signer.signingAddress,
      };
      expect(
        await codeOf(() =>
          verifyVllmExchange({
            requestBody,
            responseBytes,
            record: forged,
            expectedSigningAddress: signer.signingAddress,
          }),
        ),
      ).toBe(algorithm === 'ecdsa' ? 'ERR_ADDRESS_MISMATCH' : 'ERR_SIGNATURE_INVALID');
      expect(
        await codeOf(() =>
          verifyVllmExchange({
            requestBody,
            responseBytes,
            record: { ...record, signing_algo: 'rsa' as never },
            expectedSigningAddress: signer.signingAddress,
          }),
        ),
      ).toBe('ERR_RESPONSE_MALFORMED');
    }
  });

  it('dual record as stored by the reference, and selection per algorithm', () => {
    const keys = deriveVllmProxyKeys(new Uint8Array(32).fill(7));
    const signers = {
      ecdsa: createVllmProxySigner({ algorithm: 'ecdsa', privateKey: keys.ecdsaPrivateKey }),
      ed25519: createVllmProxySigner({ algorithm: 'ed25519', privateKey: keys.ed25519PrivateKey }),
    };
    const stored = signVllmExchange(signers, { requestHashHeader: 'abc', responseHash: 'def' });
    expect(stored.text).toBe('abc:def');
    expect(Object.keys(stored).sort()).toEqual([
      'signature_ecdsa',
      'signature_ed25519',
      'signing_address_ecdsa',
      'signing_address_ed25519',
      'text',
    ]);
    for (const algorithm of ['ecdsa', 'ed25519'] as const) {
      const record = selectVllmSignature(stored, algorithm);
      verifyVllmExchange({
        requestHash: 'abc',
        responseHash: 'def',
        record,
        expectedSigningAddress: signers[algorithm].signingAddress,
      });
    }
    // Derivation is deterministic and domain separated.
    expect(deriveVllmProxyKeys(new Uint8Array(32).fill(7))).toEqual(keys);
    expect(bytesToHex(keys.ecdsaPrivateKey)).not.toBe(bytesToHex(keys.ed25519PrivateKey));
    expect(() => deriveVllmProxyKeys(new Uint8Array(8))).toThrow(RangeError);
  });
});
