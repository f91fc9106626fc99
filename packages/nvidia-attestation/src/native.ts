import type * as NodeCrypto from 'node:crypto';

// Lazy, feature-detected access to Node's built-in crypto. Nothing is imported statically, so browser bundlers
// never see a `node:` specifier and the module has no top-level await: the built-in is reached through
// `process.getBuiltinModule` (Node >= 20.16).

interface ProcessWithBuiltins {
  getBuiltinModule?: (id: string) => unknown;
}

let nodeCryptoModule: typeof NodeCrypto | null | undefined;

/** `node:crypto` when the runtime exposes it, otherwise `undefined`. */
export function nodeCrypto(): typeof NodeCrypto | undefined {
  if (nodeCryptoModule === undefined) {
    try {
      const process = (globalThis as { process?: ProcessWithBuiltins }).process;
      nodeCryptoModule =
        (process?.getBuiltinModule?.('node:crypto') as typeof NodeCrypto | undefined) ?? null;
    } catch {
      nodeCryptoModule = null;
    }
  }
  return nodeCryptoModule ?? undefined;
}
