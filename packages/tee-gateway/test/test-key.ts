import { generateKeyPairSync } from 'node:crypto';

/** One RSA-2048 key per test file (key generation is the slowest part of building a gateway). */
export const TEST_PRIVATE_KEY_PEM = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 65537 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
