import { bytesToHex, hexToBytes } from '@confidential-ai/bytes';
import { type NativeAddonLoader, nativeAddon } from './native-addon.js';

// libsodium as a native Node addon: the `sodium-native` npm package (holepunch, MIT; libsodium is ISC), whose
// tarball carries N-API prebuilds for linux, darwin and win32 on x64 and arm64. Three functions are used, all for
// encrypting to an Ed25519 recipient (the vllm-proxy `ed25519` algo):
// - `crypto_sign_ed25519_pk_to_curve25519`: validates an Ed25519 public key (on the curve, not of small order, in
//   the prime-order subgroup) and maps it to its X25519 form, u = (1 + y) / (1 - y). It is the function the
//   Python vllm-proxy reference calls through PyNaCl.
// - `crypto_scalarmult_base`: the X25519 public key of an ephemeral scalar.
// - `crypto_scalarmult`: X25519 of the ephemeral scalar and the recipient; libsodium refuses an all-zero result
//   (a low-order peer), as OpenSSL does.
// The addon is loaded lazily on Node through `createRequire` (browser bundles never see it) and checked once
// against known answers before it is used (docs/decisions/0006-native-ed25519-recipients.md).

/** The subset of `sodium-native` this package uses; each function throws a plain Error on failure. @internal */
export interface NativeSodium {
  crypto_sign_ed25519_pk_to_curve25519(x25519PublicKey: Uint8Array, ed25519PublicKey: Uint8Array): void;
  crypto_scalarmult_base(publicKey: Uint8Array, scalar: Uint8Array): void;
  crypto_scalarmult(shared: Uint8Array, scalar: Uint8Array, peer: Uint8Array): void;
}

/** Returns the module to check (or throws when it cannot be loaded). @internal */
export type NativeSodiumLoader = NativeAddonLoader;

// Known answers:
// - X25519: RFC 7748 section 6.1 (Alice's private key, her public key, Bob's public key and their shared secret);
// - the Ed25519 to X25519 conversion: the public key of RFC 8032 section 7.1 test 1, converted by PyNaCl 1.6.2
//   (test/vectors/ed25519-to-x25519.json), and two points it must refuse: one of order 8, and one of mixed order
//   with a component of order 2 (libsodium before 1.0.21's subgroup check, bundled by sodium-native 4, accepts
//   it: an addon that does is not used, so that every backend refuses the same keys).
const SELF_TEST = {
  alicePrivate: '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
  alicePublic: '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
  bobPublic: 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
  shared: '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
  ed25519: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
  x25519: 'd85e07ec22b0ad881537c2f44d662d1a143cf830c57aca4305d85c7a90f6b62e',
  smallOrder: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
  mixedOrder2: '2e8e9c78b86015377915923e0fa47b46d838a3bfff4a736dc9aa20573794faea',
};

function refuses(sodium: NativeSodium, ed25519PublicKey: string): boolean {
  try {
    sodium.crypto_sign_ed25519_pk_to_curve25519(new Uint8Array(32), hexToBytes(ed25519PublicKey));
    return false;
  } catch {
    return true;
  }
}

/** The addon when `candidate` has the three functions and gives the known answers and refusals; otherwise null. @internal */
export function checkNativeSodium(candidate: unknown): NativeSodium | null {
  try {
    const sodium = candidate as NativeSodium | null | undefined;
    if (
      typeof sodium?.crypto_sign_ed25519_pk_to_curve25519 !== 'function' ||
      typeof sodium.crypto_scalarmult_base !== 'function' ||
      typeof sodium.crypto_scalarmult !== 'function'
    ) {
      return null;
    }
    const publicKey = new Uint8Array(32);
    sodium.crypto_scalarmult_base(publicKey, hexToBytes(SELF_TEST.alicePrivate));
    const shared = new Uint8Array(32);
    sodium.crypto_scalarmult(shared, hexToBytes(SELF_TEST.alicePrivate), hexToBytes(SELF_TEST.bobPublic));
    const converted = new Uint8Array(32);
    sodium.crypto_sign_ed25519_pk_to_curve25519(converted, hexToBytes(SELF_TEST.ed25519));
    const good =
      bytesToHex(publicKey) === SELF_TEST.alicePublic &&
      bytesToHex(shared) === SELF_TEST.shared &&
      bytesToHex(converted) === SELF_TEST.x25519 &&
      refuses(sodium, SELF_TEST.smallOrder) &&
      refuses(sodium, SELF_TEST.mixedOrder2);
    return good ? sodium : null;
  } catch {
    return null;
  }
}

// The module name is assembled at run time so that bundlers for the browser never try to resolve the addon.
const addon = nativeAddon(['sodium', 'native'].join('-'), checkNativeSodium);

/**
 * libsodium's native addon, loaded once and checked against known answers; null when it cannot be loaded (no
 * prebuild for this platform, a browser, a runtime without `process.getBuiltinModule`, an install without
 * optional dependencies) or fails the check. Never throws. @internal
 */
export const loadNativeSodium: () => NativeSodium | null = addon.load;

/**
 * Replaces the loader of the addon (tests simulate a platform without a prebuild, or a broken addon) and forgets
 * the loaded one; without an argument, restores the default `createRequire` loader. @internal
 */
export const setNativeSodiumLoader: (next?: NativeSodiumLoader) => void = addon.setLoader;
