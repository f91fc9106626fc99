import { type Bytes, toBytes } from '@confidential-ai/bytes';
import { sha384 as nobleSha384 } from '@noble/hashes/sha2.js';
import { nodeCrypto } from './native.js';

/**
 * SHA-384, with `node:crypto` as a fast path for the large inputs (canonical RIM documents) when the runtime
 * has it, and the portable `@noble/hashes` implementation otherwise.
 */
export function sha384(data: Uint8Array): Bytes {
  const crypto = nodeCrypto();
  if (crypto === undefined || data.length < 1024) return nobleSha384(data);
  return toBytes(crypto.createHash('sha384').update(data).digest());
}
