import { hash, randomBytes } from 'node:crypto';
import { bytesToHex, bytesToUtf8 } from '@confidential-ai/bytes';
import { lazyRecordSigner, type ResponseSigner, signatureRecord } from './signing.js';
import type { SignatureRecord } from './stores.js';

/** Bytes of a key's digest: SHA-256 of the table's salt and the key. */
const DIGEST_BYTES = 32;
/** Length of the text this table keeps outside the heap: `"<request sha256 hex>:<response sha256 hex>"`. */
const COMPACT_TEXT_LENGTH = 129;
/** Slots allocated at first; the arrays double from there up to the bound. */
const INITIAL_SLOTS = 1024;
/**
 * Records made again on read that stay made: the last this many, first in first out (a hit does not renew an
 * entry), so that a record read again soon is not signed again.
 */
const READ_CACHE_SIZE = 256;
/** At most this many distinct signers are referred to by index; records of others are kept as objects. */
const MAX_SIGNERS = 255;
const NONE = -1;

/**
 * The memory signature store's table: a bounded map from key to signature record, least recently written out
 * first, kept in typed arrays instead of JavaScript objects.
 *
 * A server writes one record per response (under one or two keys) and keeps it for `chat_cache_expiration`. As
 * objects (the key strings, the record, its text, a map entry and its expiry), each response left about 540 bytes
 * that V8's young-generation collector copied twice, into the old generation, where every major collection then
 * marked them again. Here a key is its salted SHA-256 digest and a record of this package's signer is its
 * 129-byte ASCII text and the signer's index, in typed arrays the collectors do not scan; the record object is made
 * again when it is read (its signatures are deterministic, so the bytes are the same). Other records (a store user's
 * own objects) are kept as they are.
 *
 * The index is open addressing with linear probing over a power-of-two bucket array at most half full, with
 * backward-shift deletion (no tombstones); write order is a doubly linked list of slots.
 */
export class SignatureTable {
  readonly #maxEntries: number;
  readonly #now: () => number;
  /** Per-process salt: a key's bucket cannot be chosen by whoever chooses the key. */
  readonly #salt = bytesToHex(randomBytes(16));
  readonly #scratch = new Uint8Array(DIGEST_BYTES);
  readonly #signers: ResponseSigner[] = [];
  /** Records that are not compact, by slot. */
  readonly #objects = new Map<number, SignatureRecord>();
  /** Records made again on read, by slot; a slot's entry goes when the slot is removed. */
  readonly #readCache = new Map<number, SignatureRecord>();

  #capacity = 0;
  #digests = new Uint8Array(0);
  #texts = new Uint8Array(0);
  #expiresAt = new Float64Array(0);
  /** 0: the record is in `#objects`; k: a compact record of `#signers[k - 1]`. */
  #signerOf = new Uint8Array(0);
  #older = new Int32Array(0);
  #newer = new Int32Array(0);
  #free = new Int32Array(0);
  /** Slot + 1 per bucket; 0 is empty. */
  #buckets = new Int32Array(0);
  #mask = 0;

  #freeCount = 0;
  #used = 0;
  #size = 0;
  #oldest = NONE;
  #newest = NONE;

  constructor(maxEntries: number, now: () => number) {
    this.#maxEntries = maxEntries;
    this.#now = now;
    this.#resize(Math.min(maxEntries, INITIAL_SLOTS));
  }

  /** Records held, expired ones not yet read included. */
  get size(): number {
    return this.#size;
  }

  /** Stores `record` under `key` for `ttlSeconds`, as the newest write; evicts the oldest writes beyond the bound. */
  put(key: string, record: SignatureRecord, ttlSeconds: number): void {
    this.#digestInto(key);
    const existing = this.#find();
    if (existing !== NONE) this.#remove(existing);
    while (this.#size >= this.#maxEntries) this.#remove(this.#oldest);
    const slot = this.#allocate();
    this.#digests.set(this.#scratch, slot * DIGEST_BYTES);
    this.#expiresAt[slot] = this.#now() + ttlSeconds * 1000;
    const signerIndex = this.#compactInto(slot, record);
    this.#signerOf[slot] = signerIndex;
    if (signerIndex === 0) this.#objects.set(slot, record);
    this.#insertBucket(slot);
    this.#linkNewest(slot);
    this.#size += 1;
  }

  /** The record of `key`'s newest write; `undefined` when absent or expired (an expired record is removed). */
  get(key: string): SignatureRecord | undefined {
    this.#digestInto(key);
    const slot = this.#find();
    if (slot === NONE) return undefined;
    if (this.#expiresAt[slot]! <= this.#now()) {
      this.#remove(slot);
      return undefined;
    }
    const signerIndex = this.#signerOf[slot]!;
    if (signerIndex === 0) return this.#objects.get(slot);
    const cached = this.#readCache.get(slot);
    if (cached !== undefined) return cached;
    const start = slot * COMPACT_TEXT_LENGTH;
    const record = signatureRecord(
      this.#signers[signerIndex - 1]!,
      bytesToUtf8(this.#texts.subarray(start, start + COMPACT_TEXT_LENGTH)),
    );
    if (this.#readCache.size >= READ_CACHE_SIZE) this.#readCache.delete(this.#readCache.keys().next().value!);
    this.#readCache.set(slot, record);
    return record;
  }

  /** Writes `record`'s text into the slot when it is compact; returns its signer's index, or 0 when it is not. */
  #compactInto(slot: number, record: SignatureRecord): number {
    const signer = lazyRecordSigner(record);
    const text = record.text;
    if (signer === undefined || text.length !== COMPACT_TEXT_LENGTH) return 0;
    const texts = this.#texts;
    const start = slot * COMPACT_TEXT_LENGTH;
    for (let index = 0; index < COMPACT_TEXT_LENGTH; index++) {
      const code = text.charCodeAt(index);
      if (code > 0x7f) return 0;
      texts[start + index] = code;
    }
    let signerIndex = this.#signers.indexOf(signer);
    if (signerIndex === NONE) {
      if (this.#signers.length >= MAX_SIGNERS) return 0;
      signerIndex = this.#signers.push(signer) - 1;
    }
    return signerIndex + 1;
  }

  #digestInto(key: string): void {
    // `binary` (latin1) gives the 32 digest bytes as 32 characters: no Buffer (a native ArrayBuffer) per call.
    const digest = hash('sha256', this.#salt + key, 'binary');
    const scratch = this.#scratch;
    for (let index = 0; index < DIGEST_BYTES; index++) scratch[index] = digest.charCodeAt(index);
  }

  #homeOf(bytes: Uint8Array, offset: number): number {
    return (
      (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) &
      this.#mask
    );
  }

  /** The slot whose digest is the scratch digest, or NONE. */
  #find(): number {
    const scratch = this.#scratch;
    const digests = this.#digests;
    let bucket = this.#homeOf(scratch, 0);
    for (;;) {
      const entry = this.#buckets[bucket]!;
      if (entry === 0) return NONE;
      const slot = entry - 1;
      const start = slot * DIGEST_BYTES;
      let index = 0;
      while (index < DIGEST_BYTES && digests[start + index] === scratch[index]) index++;
      if (index === DIGEST_BYTES) return slot;
      bucket = (bucket + 1) & this.#mask;
    }
  }

  #insertBucket(slot: number): void {
    let bucket = this.#homeOf(this.#digests, slot * DIGEST_BYTES);
    while (this.#buckets[bucket] !== 0) bucket = (bucket + 1) & this.#mask;
    this.#buckets[bucket] = slot + 1;
  }

  #removeBucket(slot: number): void {
    const buckets = this.#buckets;
    const mask = this.#mask;
    let hole = this.#homeOf(this.#digests, slot * DIGEST_BYTES);
    while (buckets[hole] !== slot + 1) {
      // A held slot is always in the run that starts at its home bucket; an empty bucket first means the index is
      // corrupt, and probing on would never end.
      if (buckets[hole] === 0) throw new Error('signature table: a held slot is missing from the index');
      hole = (hole + 1) & mask;
    }
    // Backward shift: move each later entry of the run into the hole when the hole is not before its home.
    for (let bucket = (hole + 1) & mask; buckets[bucket] !== 0; bucket = (bucket + 1) & mask) {
      const entry = buckets[bucket]!;
      const home = this.#homeOf(this.#digests, (entry - 1) * DIGEST_BYTES);
      if (((bucket - home) & mask) >= ((bucket - hole) & mask)) {
        buckets[hole] = entry;
        hole = bucket;
      }
    }
    buckets[hole] = 0;
  }

  #linkNewest(slot: number): void {
    this.#older[slot] = this.#newest;
    this.#newer[slot] = NONE;
    if (this.#newest === NONE) this.#oldest = slot;
    else this.#newer[this.#newest] = slot;
    this.#newest = slot;
  }

  #unlink(slot: number): void {
    const older = this.#older[slot]!;
    const newer = this.#newer[slot]!;
    if (older === NONE) this.#oldest = newer;
    else this.#newer[older] = newer;
    if (newer === NONE) this.#newest = older;
    else this.#older[newer] = older;
  }

  #remove(slot: number): void {
    this.#removeBucket(slot);
    this.#unlink(slot);
    if (this.#signerOf[slot] === 0) this.#objects.delete(slot);
    this.#readCache.delete(slot);
    this.#free[this.#freeCount++] = slot;
    this.#size -= 1;
  }

  #allocate(): number {
    if (this.#freeCount > 0) return this.#free[--this.#freeCount]!;
    // `size < maxEntries` here, so a full set of slots below the bound can still grow.
    if (this.#used === this.#capacity) this.#resize(Math.min(this.#maxEntries, this.#capacity * 2));
    return this.#used++;
  }

  #resize(capacity: number): void {
    const grown = <T extends Uint8Array | Int32Array | Float64Array>(old: T, next: T): T => {
      next.set(old);
      return next;
    };
    this.#digests = grown(this.#digests, new Uint8Array(capacity * DIGEST_BYTES));
    this.#texts = grown(this.#texts, new Uint8Array(capacity * COMPACT_TEXT_LENGTH));
    this.#expiresAt = grown(this.#expiresAt, new Float64Array(capacity));
    this.#signerOf = grown(this.#signerOf, new Uint8Array(capacity));
    this.#older = grown(this.#older, new Int32Array(capacity));
    this.#newer = grown(this.#newer, new Int32Array(capacity));
    this.#free = grown(this.#free, new Int32Array(capacity));
    this.#capacity = capacity;
    // At most half full: probe runs stay short and a probe always ends at an empty bucket.
    let buckets = 2;
    while (buckets < capacity * 2) buckets *= 2;
    this.#buckets = new Int32Array(buckets);
    this.#mask = buckets - 1;
    for (let slot = this.#oldest; slot !== NONE; slot = this.#newer[slot]!) this.#insertBucket(slot);
  }
}
