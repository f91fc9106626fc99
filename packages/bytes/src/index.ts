export { base64ToBytes, base64UrlToBytes, bytesToBase64, bytesToBase64Url } from './base64.js';
export { assertBytes, type Bytes, concatBytes, equalBytes, isBytes, toBytes } from './bytes.js';
export {
  type DerHeader,
  type DerHeaderFault,
  ecdsaDerToRaw,
  isSingleDerSequence,
  readDerHeader,
} from './der.js';
export { EncodingError, type EncodingErrorCode } from './errors.js';
export { bytesToHex, type HexOptions, hexToBytes } from './hex.js';
export { derToPem, type PemCertificatesOptions, pemCertificatesToDer } from './pem.js';
export { type ReadStreamLimitedOptions, readStreamLimited, readStreamPrefix } from './stream.js';
export { bytesToUtf8, utf8ToBytes } from './utf8.js';
