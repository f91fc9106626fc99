// venice-e2ee's field-cipher vectors (packages/venice-e2ee/test/vectors/field-cipher.json, provenance in its
// README), checked as its field-cipher.test.ts does: key, packed field with a fixed ephemeral key and nonce,
// decryption, and the published signing address of private key 1.
import { bytesToHex, hexToBytes } from '@confidential-ai/bytes';
import {
  decryptField,
  deriveFieldKey,
  encryptField,
  getFieldPublicKey,
  parsePackedField,
  signingAddress,
} from '@confidential-ai/venice-e2ee';
import { type CaseEnvironment, check, loadJson, type Outcome } from './types.js';

interface FieldVectors {
  secp256k1: {
    name: string;
    recipientPrivateKey: string;
    ephemeralPrivateKey: string;
    nonce: string;
    plaintext: string;
    info: string;
    recipientPublicKey: string;
    aesKey: string;
    packed: string;
  }[];
  signingAddress: { name: string; privateKey: string; address: string }[];
}

/** Every venice-e2ee field-cipher vector, one outcome each. */
export async function veniceCipherCases(env: CaseEnvironment): Promise<Outcome[]> {
  const vectors = await loadJson<FieldVectors>(
    env.load,
    'packages/venice-e2ee/test/vectors/field-cipher.json',
  );
  const out: Outcome[] = [];
  for (const vector of vectors.secp256k1) {
    out.push(
      await check(`venice-e2ee/field-cipher/${vector.name}`, () => {
        const recipient = hexToBytes(vector.recipientPrivateKey);
        const key = bytesToHex(
          deriveFieldKey(hexToBytes(vector.ephemeralPrivateKey), vector.recipientPublicKey),
        );
        const packed = encryptField(vector.plaintext, vector.recipientPublicKey, {
          ephemeralPrivateKey: hexToBytes(vector.ephemeralPrivateKey),
          nonce: hexToBytes(vector.nonce),
          info: vector.info,
        });
        const field = parsePackedField(vector.packed);
        const ok =
          bytesToHex(getFieldPublicKey(recipient)) === vector.recipientPublicKey &&
          key === vector.aesKey &&
          packed === vector.packed &&
          decryptField(vector.packed, recipient) === vector.plaintext &&
          bytesToHex(deriveFieldKey(recipient, field.ephemeralPublicKey)) === vector.aesKey;
        return [ok, key.slice(0, 16)];
      }),
    );
  }
  for (const vector of vectors.signingAddress) {
    out.push(
      await check(`venice-e2ee/signing-address/${vector.name}`, () => {
        const address = signingAddress(getFieldPublicKey(hexToBytes(vector.privateKey)));
        return [address === vector.address, address];
      }),
    );
  }
  return out;
}
