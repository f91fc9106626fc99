import { bytesToHex, hexToBytes, utf8ToBytes } from '@confidential-ai/bytes';
import { sr25519KeypairFromSeed, sr25519Sign, sr25519Verify, waitReady } from '@polkadot/wasm-crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  hotkeyFromSeed,
  sha256Hex,
  signingMessage,
  signMessage,
  signRequest,
  ss58Decode,
  ss58Encode,
  verifyMessage,
} from '../src/index.js';

const ALICE_SEED = 'e5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a';
const ALICE_PUBLIC = 'd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d';
const ALICE_SS58 = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
const ZERO_SS58 = '5C4hrfjw9DjXZTzV3MwzrrAr9P1MJhSrvWGWqi1eSuyUpnhM';

beforeAll(async () => {
  await waitReady();
});

describe('SS58 and key derivation (spec section 13)', () => {
  it('derives the Alice key pair and address from the mini secret', () => {
    const hotkey = hotkeyFromSeed(ALICE_SEED);
    expect(bytesToHex(hotkey.publicKey)).toBe(ALICE_PUBLIC);
    expect(hotkey.ss58Address).toBe(ALICE_SS58);
    expect(hotkeyFromSeed(`0x${ALICE_SEED}`).ss58Address).toBe(ALICE_SS58);
    expect(hotkeyFromSeed(hexToBytes(ALICE_SEED)).ss58Address).toBe(ALICE_SS58);
  });

  it('encodes the all-zero key as ZERO_ADDRESS_HOTKEY and round-trips', () => {
    expect(ss58Encode(new Uint8Array(32))).toBe(ZERO_SS58);
    expect(ss58Decode(ZERO_SS58)).toEqual({ prefix: 42, publicKey: new Uint8Array(32) });
    expect(bytesToHex(ss58Decode(ALICE_SS58).publicKey)).toBe(ALICE_PUBLIC);
  });

  it('matches schnorrkel (wasm) public keys for the same seed', () => {
    for (const seed of [ALICE_SEED, '00'.repeat(32), 'ff'.repeat(32), '0123456789abcdef'.repeat(4)]) {
      const pair = sr25519KeypairFromSeed(hexToBytes(seed));
      expect(bytesToHex(hotkeyFromSeed(seed).publicKey)).toBe(bytesToHex(pair.slice(64)));
    }
  });

  it('rejects bad addresses and seeds with typed errors', () => {
    const tampered = `${ALICE_SS58.slice(0, -1)}Z`;
    expect(() => ss58Decode(tampered)).toThrow(expect.objectContaining({ code: 'ERR_VALIDATION' }));
    expect(() => ss58Decode('0OIl')).toThrow(expect.objectContaining({ code: 'ERR_VALIDATION' }));
    expect(() => hotkeyFromSeed('abcd')).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }));
    expect(() => hotkeyFromSeed('zz'.repeat(32))).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
    );
    expect(() => ss58Encode(new Uint8Array(31))).toThrow(RangeError);
  });
});

describe('signed message construction (spec section 13 worked examples)', () => {
  it('purpose mode', () => {
    expect(signingMessage(ALICE_SS58, '1700000000', { purpose: 'chutes' })).toBe(
      `${ALICE_SS58}:1700000000:chutes`,
    );
  });

  it('body mode with orjson-compact bytes', () => {
    const body = '{"name":"ci","admin":true}';
    expect(signingMessage(ALICE_SS58, '1700000000', { body: utf8ToBytes(body) })).toBe(
      `${ALICE_SS58}:1700000000:50f33b539091e4ad34f2f2675b6c9e3a18d1af044647df7775cbca38bf39c833`,
    );
  });

  it('body mode with Python json separators (register)', () => {
    const body = `{"username": "alice", "coldkey": "${ZERO_SS58}"}`;
    expect(sha256Hex(body)).toBe('6da60ca3e192d1e4df11426a392378cad25fb58b45fabd5fb6fe3e16f5b075de');
    expect(signingMessage(ALICE_SS58, '1700000000', { body })).toBe(
      `${ALICE_SS58}:1700000000:6da60ca3e192d1e4df11426a392378cad25fb58b45fabd5fb6fe3e16f5b075de`,
    );
  });

  it('falls back like Python: empty body needs a purpose; payload hash mode', () => {
    expect(signingMessage('h', '1', { payloadHash: 'abc' })).toBe('h:1:abc');
    expect(() => signingMessage('h', '1', { body: new Uint8Array() })).toThrow(TypeError);
  });
});

describe('sr25519 signatures interoperate with schnorrkel', () => {
  const hotkey = hotkeyFromSeed(ALICE_SEED);
  const message = `${ALICE_SS58}:1700000000:chutes`;

  it('our signatures verify with schnorrkel (wasm) under the substrate context', () => {
    const signature = signMessage(hotkey, message);
    expect(signature).toMatch(/^[0-9a-f]{128}$/);
    expect(sr25519Verify(hexToBytes(signature), utf8ToBytes(message), hotkey.publicKey)).toBe(true);
    expect(sr25519Verify(hexToBytes(signature), utf8ToBytes(`${message}x`), hotkey.publicKey)).toBe(false);
  });

  it('schnorrkel (wasm) signatures verify with our verifier', () => {
    const pair = sr25519KeypairFromSeed(hexToBytes(ALICE_SEED));
    const signature = sr25519Sign(pair.slice(64), pair.slice(0, 64), utf8ToBytes(message));
    expect(verifyMessage(ALICE_SS58, message, bytesToHex(signature))).toBe(true);
    expect(verifyMessage(ALICE_SS58, `${message}x`, bytesToHex(signature))).toBe(false);
    expect(verifyMessage(ZERO_SS58, message, bytesToHex(signature))).toBe(false);
    expect(verifyMessage(ALICE_SS58, message, 'zz')).toBe(false);
  });

  it('signatures are randomized but both verify', () => {
    const a = signMessage(hotkey, message);
    const b = signMessage(hotkey, message);
    expect(a).not.toBe(b);
    expect(verifyMessage(ALICE_SS58, message, a) && verifyMessage(ALICE_SS58, message, b)).toBe(true);
  });

  it('signRequest builds the Python header set (seconds nonce, lowercase hex)', () => {
    const headers = signRequest(
      { purpose: 'images' },
      { hotkey, userId: 'user-1', now: () => 1_700_000_000_999 },
    );
    expect(Object.keys(headers)).toEqual([
      'X-Chutes-UserID',
      'X-Chutes-Hotkey',
      'X-Chutes-Nonce',
      'X-Chutes-Signature',
    ]);
    expect(headers['X-Chutes-Nonce']).toBe('1700000000');
    expect(headers['X-Chutes-UserID']).toBe('user-1');
    expect(verifyMessage(ALICE_SS58, `${ALICE_SS58}:1700000000:images`, headers['X-Chutes-Signature']!)).toBe(
      true,
    );
    const noUser = signRequest({ body: 'x' }, { hotkey, nonce: 5 });
    expect(noUser['X-Chutes-UserID']).toBeUndefined();
    expect(noUser['X-Chutes-Nonce']).toBe('5');
  });
});
