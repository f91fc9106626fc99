import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@confidential-ai/bytes';
import { sha1 } from '@noble/hashes/legacy.js';

/** RFC 4122 NAMESPACE_OID, as Python's `uuid.NAMESPACE_OID`. */
export const NAMESPACE_OID = '6ba7b812-9dad-11d1-80b4-00c04fd430c8';

/**
 * UUID version 5 (SHA-1, RFC 4122 section 4.3) of a UTF-8 name in a namespace, lowercase and hyphenated,
 * identical to Python's `uuid.uuid5`.
 * @example
 * ```ts
 * uuid5('chutes/vllm:0.6.3'); // '04b6b30b-306f-5b8d-a4ae-13d95c83c3db'
 * ```
 */
export function uuid5(name: string, namespace: string = NAMESPACE_OID): string {
  const ns = hexToBytes(namespace.replace(/-/g, ''), { length: 16 });
  const hash = sha1(concatBytes(ns, utf8ToBytes(name))).slice(0, 16);
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = bytesToHex(hash);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
