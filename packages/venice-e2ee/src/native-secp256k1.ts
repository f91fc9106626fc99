import { type Bytes, bytesToHex, hexToBytes } from '@confidential-ai/bytes';
import { type NativeAddonLoader, nativeAddon } from './native-addon.js';

// libsecp256k1 as a native Node addon: the `secp256k1` npm package (cryptocoinjs, MIT), whose tarball carries
// N-API prebuilds (linux-x64 glibc and musl, darwin-arm64, win32-x64). Only its `bindings` entry is ever loaded:
// the package's main entry falls back silently to `elliptic` (pure JavaScript, not constant-time) when the addon
// is missing, whereas `secp256k1/bindings` throws. Three functions are used:
// - `ecdh` = `secp256k1_ecdh`, constant-time in the scalar (`secp256k1_ecmult_const`), with a hash function that
//   returns the X coordinate (the shared secret of this protocol);
// - `publicKeyCreate` = `secp256k1_ec_pubkey_create` (constant-time `secp256k1_ecmult_gen`);
// - `publicKeyConvert` = parse (validates the point) and serialize: public data only.
// The binding is loaded lazily on Node through `createRequire` (browser bundles never see it) and checked once
// against known answers before it is used (docs/decisions/0004-native-secp256k1-ecdh.md).

/** The subset of `secp256k1/bindings` this package uses. @internal */
export interface NativeSecp256k1 {
  ecdh(
    publicKey: Uint8Array,
    privateKey: Uint8Array,
    options: {
      hashfn: (x: Uint8Array, y: Uint8Array) => Uint8Array;
      xbuf: Uint8Array;
      ybuf: Uint8Array;
    },
    output: Uint8Array,
  ): Uint8Array;
  publicKeyCreate(privateKey: Uint8Array, compressed?: boolean): Uint8Array;
  publicKeyConvert(publicKey: Uint8Array, compressed?: boolean): Uint8Array;
}

/** Returns the module to check (or throws when it cannot be loaded). @internal */
export type NativeSecp256k1Loader = NativeAddonLoader;

// Known answers: the first secp256k1 vector of test/vectors/field-cipher.json (the Venice reference proxy's
// deterministic vector): the ephemeral scalar 0x22…22 times the recipient's point, and the recipient's point of
// the scalar 0x11…11 (also given compressed).
const SELF_TEST = {
  recipientScalar: '11'.repeat(32),
  ephemeralScalar: '22'.repeat(32),
  recipientPoint:
    '044f355bdcb7cc0af728ef3cceb9615d90684bb5b2ca5f859ab0f0b704075871aa385b6b1b8ead809ca67454d9683fcf2ba03456d6fe2c4abe2b07f0fbdbb2f1c1',
  recipientCompressed: '034f355bdcb7cc0af728ef3cceb9615d90684bb5b2ca5f859ab0f0b704075871aa',
  sharedX: '77e0510d5042e2f5e9e59c977b81eeed590cf7d20c1c51da451a8eaa9fdc45ff',
  offCurve: `04${'01'.repeat(64)}`,
};

// Scratch coordinates handed to the binding's hash callback; zeroed after every agreement (they hold the shared
// point). `ecdh` is synchronous, so calls cannot interleave.
const scratchX = new Uint8Array(32);
const scratchY = new Uint8Array(32);
const ecdhOptions = { hashfn: (x: Uint8Array) => x, xbuf: scratchX, ybuf: scratchY };

/**
 * The ECDH shared secret (X coordinate) of a valid scalar and a 33- or 65-byte point through the binding
 * (constant-time in the scalar). Throws the binding's plain Error for an invalid point; callers map it.
 * @internal
 */
export function nativeSharedSecret(
  binding: NativeSecp256k1,
  privateKey: Uint8Array,
  publicKey: Uint8Array,
): Bytes {
  const output: Bytes = new Uint8Array(32);
  try {
    binding.ecdh(publicKey, privateKey, ecdhOptions, output);
    return output;
  } finally {
    scratchX.fill(0);
    scratchY.fill(0);
  }
}

/** The binding when `candidate` has the three functions and gives the known answers; otherwise null. @internal */
export function checkNativeSecp256k1(candidate: unknown): NativeSecp256k1 | null {
  try {
    const binding = candidate as NativeSecp256k1 | null | undefined;
    if (
      typeof binding?.ecdh !== 'function' ||
      typeof binding.publicKeyCreate !== 'function' ||
      typeof binding.publicKeyConvert !== 'function'
    ) {
      return null;
    }
    const shared = nativeSharedSecret(
      binding,
      hexToBytes(SELF_TEST.ephemeralScalar),
      hexToBytes(SELF_TEST.recipientPoint),
    );
    const point = binding.publicKeyCreate(hexToBytes(SELF_TEST.recipientScalar), false);
    const decompressed = binding.publicKeyConvert(hexToBytes(SELF_TEST.recipientCompressed), false);
    let rejectsOffCurve = false;
    try {
      nativeSharedSecret(binding, hexToBytes(SELF_TEST.ephemeralScalar), hexToBytes(SELF_TEST.offCurve));
    } catch {
      rejectsOffCurve = true;
    }
    const good =
      bytesToHex(shared) === SELF_TEST.sharedX &&
      bytesToHex(point) === SELF_TEST.recipientPoint &&
      bytesToHex(decompressed) === SELF_TEST.recipientPoint &&
      rejectsOffCurve;
    return good ? binding : null;
  } catch {
    return null;
  }
}

// The module name is assembled at run time so that bundlers for the browser never try to resolve the addon.
const binding = nativeAddon(['secp256k1', 'bindings'].join('/'), checkNativeSecp256k1);

/**
 * libsecp256k1's native binding, loaded once and checked against known answers; null when it cannot be loaded
 * (no prebuild for this platform, a browser, a runtime without `process.getBuiltinModule`) or fails the check.
 * Never throws. @internal
 */
export const loadNativeSecp256k1: () => NativeSecp256k1 | null = binding.load;

/**
 * Replaces the loader of the native binding (tests simulate a platform without a prebuild, or a broken binding)
 * and forgets the loaded one; without an argument, restores the default `createRequire` loader. @internal
 */
export const setNativeSecp256k1Loader: (next?: NativeSecp256k1Loader) => void = binding.setLoader;
