import type * as NodeModule from 'node:module';

// The one loader of the package's optional native addons (libsecp256k1's `secp256k1/bindings`, libsodium's
// `sodium-native`): required lazily on Node through `createRequire`, so browser bundles never see them, and
// checked once against known answers before anything uses them (docs/decisions/0004-native-secp256k1-ecdh.md,
// docs/decisions/0006-native-ed25519-recipients.md).

/** Returns the module to check, or throws when it cannot be loaded. @internal */
export type NativeAddonLoader = () => unknown;

/** A lazily loaded, checked native addon. @internal */
export interface NativeAddon<T> {
  /**
   * The addon, loaded once and checked; null when it cannot be loaded (no prebuild for this platform, a browser,
   * a runtime without `process.getBuiltinModule`, an install without optional dependencies) or fails the check.
   * Never throws.
   */
  load(): T | null;
  /**
   * Replaces the loader (tests simulate a platform without a prebuild, or a broken addon) and forgets the loaded
   * addon; without an argument, restores the default `createRequire` loader.
   */
  setLoader(next?: NativeAddonLoader): void;
}

interface ProcessWithBuiltins {
  getBuiltinModule?: (id: string) => unknown;
}

/**
 * A native addon by module name. Pass the name assembled at run time (e.g. `['sodium', 'native'].join('-')`) so
 * that bundlers for the browser never try to resolve it; `check` returns the addon when it gives the known
 * answers, else null. @internal
 */
export function nativeAddon<T>(moduleName: string, check: (candidate: unknown) => T | null): NativeAddon<T> {
  const requireAddon: NativeAddonLoader = () => {
    // The `node:` name stays the literal argument of `getBuiltinModule?.(...)` (verifier's test/bundle.test.ts).
    const moduleApi = (globalThis as { process?: ProcessWithBuiltins }).process?.getBuiltinModule?.(
      'node:module',
    ) as typeof NodeModule | undefined;
    if (typeof moduleApi?.createRequire !== 'function') return null;
    return moduleApi.createRequire(import.meta.url)(moduleName);
  };
  let loader = requireAddon;
  let loaded: T | null | undefined;
  return {
    load() {
      if (loaded !== undefined) return loaded;
      loaded = null;
      try {
        loaded = check(loader());
      } catch {
        loaded = null;
      }
      return loaded;
    },
    setLoader(next) {
      loader = next ?? requireAddon;
      loaded = undefined;
    },
  };
}
