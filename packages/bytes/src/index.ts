export { bytesToBase64, base64ToBytes, bytesToBase64Url, base64UrlToBytes } from './base64.js';
export { type Bytes, isBytes, assertBytes, toBytes, concatBytes, equalBytes } from './bytes.js';
export { EncodingError, type EncodingErrorCode } from './errors.js';
export { bytesToHex, hexToBytes, type HexOptions } from './hex.js';
export { utf8ToBytes, bytesToUtf8 } from './utf8.js';
