import { type Bytes, derToPem, pemCertificatesToDer as readPemCertificates } from '@confidential-ai/bytes';

export { derToPem };

/**
 * Splits a PEM text into the DER bytes of its `CERTIFICATE` blocks, in order (`@confidential-ai/bytes`'
 * reader). Only whitespace may appear outside the blocks. Returns `undefined` when the text is not such a
 * chain, so that the caller can raise its own typed error.
 */
export function pemCertificatesToDer(text: string): Bytes[] | undefined {
  return readPemCertificates(text);
}
