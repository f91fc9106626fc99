// Node's Buffer codecs are several times faster than JavaScript loops on large inputs, but lenient: they skip
// invalid characters instead of failing. They are used only after a strict validation of the whole input,
// and only where `Buffer` exists, so the package stays portable (browsers and edge runtimes use the loops).

interface NodeBufferInstance extends Uint8Array {
  toString(encoding?: 'base64' | 'base64url' | 'hex'): string;
}
interface NodeBufferConstructor {
  from(text: string, encoding: 'base64' | 'hex'): NodeBufferInstance;
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): NodeBufferInstance;
}

/** Node's `Buffer`, when the runtime has one. */
export const nodeBuffer: NodeBufferConstructor | undefined = (
  globalThis as { Buffer?: NodeBufferConstructor }
).Buffer;

/** Below this many bytes or characters the JavaScript loops are as fast as a call into Buffer. */
export const NATIVE_THRESHOLD = 64;

/** Encodes with Buffer without copying the input. */
export function nativeEncode(
  buffer: NodeBufferConstructor,
  bytes: Uint8Array,
  encoding: 'base64' | 'base64url' | 'hex',
): string {
  return buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(encoding);
}

/** Decodes with Buffer and copies into a plain, unpooled Uint8Array. */
export function nativeDecode(
  buffer: NodeBufferConstructor,
  text: string,
  encoding: 'base64' | 'hex',
): Uint8Array<ArrayBuffer> {
  return new Uint8Array(buffer.from(text, encoding));
}
