import {
  type Bytes,
  bytesToHex,
  concatBytes,
  equalBytes,
  hexToBytes,
  utf8ToBytes,
} from '@confidential-ai/bytes';
import { sha256, sha384 } from '@noble/hashes/sha2.js';
import { TdxAttestationError } from './errors.js';
import type { TdReportBody } from './quote.js';

/** Event type of dstack runtime events (extended into RTMR3). */
export const DSTACK_RUNTIME_EVENT_TYPE = 0x08000001;

/** One entry of a dstack event log (`event_log` of a dstack / Venice attestation). */
export interface DstackEventLogEntry {
  /** Register index 0..3 (RTMR0..RTMR3). */
  imr: number;
  /** TCG event type; `0x08000001` for dstack runtime events. */
  event_type?: number;
  /** SHA-384 digest extended into the register, hex (48 bytes). */
  digest: string;
  /** Runtime event name (`compose-hash`, `app-id`, ...). */
  event?: string;
  /** Runtime event payload, hex. */
  event_payload?: string;
}

/** Outcome of {@link checkDstackEventLog}. */
export interface DstackEventLogCheck {
  /** True when all four replayed RTMRs equal the quote's and every runtime event digest is correct. */
  ok: boolean;
  /** Per register: the replayed value equals the quote's RTMR. */
  rtmrsMatch: [boolean, boolean, boolean, boolean];
  /** Replayed RTMR0..3, hex. */
  replayedRtmrs: [string, string, string, string];
  /** Names of runtime events whose digest is not SHA-384(type || ":" || name || ":" || payload). */
  badRuntimeEvents: string[];
  /**
   * MRCONFIGID equals `0x01 || SHA-256(app_compose) || 15 zero bytes`, when `appCompose` was given (then `ok`
   * also requires it, and requires a `compose-hash` runtime event, if any, to carry that hash).
   */
  mrConfigIdMatches?: boolean;
  /** SHA-256 of `appCompose`, hex (dstack's `compose_hash`), when given. */
  composeHash?: string;
  /** Payload of the `compose-hash` runtime event, hex, when present. */
  composeHashEvent?: string;
}

function malformed(message: string, cause?: unknown): TdxAttestationError {
  return new TdxAttestationError('ERR_TDX_EVENT_LOG_MALFORMED', `event log: ${message}`, { cause });
}

function u32Le(value: number): Bytes {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0, true);
  return out;
}

/** Reads an event log given as entries or as JSON text, checking every field. */
export function parseDstackEventLog(
  eventLog: readonly DstackEventLogEntry[] | string,
): DstackEventLogEntry[] {
  let value: unknown = eventLog;
  if (typeof eventLog === 'string') {
    try {
      value = JSON.parse(eventLog);
    } catch (cause) {
      throw malformed('not JSON', cause);
    }
  }
  if (!Array.isArray(value)) throw malformed('not an array');
  return value.map((entry: unknown, index) => {
    if (typeof entry !== 'object' || entry === null) throw malformed(`entry ${index} is not an object`);
    const item = entry as Record<string, unknown>;
    if (!Number.isInteger(item.imr) || (item.imr as number) < 0 || (item.imr as number) > 3) {
      throw malformed(`entry ${index}: imr must be 0..3`);
    }
    if (typeof item.digest !== 'string' || !/^[0-9a-fA-F]{96}$/.test(item.digest)) {
      throw malformed(`entry ${index}: digest must be 48 bytes of hex`);
    }
    if (
      item.event_type !== undefined &&
      (!Number.isInteger(item.event_type) || (item.event_type as number) < 0)
    ) {
      throw malformed(`entry ${index}: event_type must be a non-negative integer`);
    }
    if (item.event !== undefined && typeof item.event !== 'string')
      throw malformed(`entry ${index}: event must be a string`);
    if (
      item.event_payload !== undefined &&
      (typeof item.event_payload !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(item.event_payload))
    ) {
      throw malformed(`entry ${index}: event_payload must be hex`);
    }
    return item as unknown as DstackEventLogEntry;
  });
}

/**
 * Replays RTMR0..3 from an event log: each register starts as 48 zero bytes and is extended with
 * `SHA-384(register || digest)` for every entry with that `imr`, in order.
 * @throws TdxAttestationError `ERR_TDX_EVENT_LOG_MALFORMED`
 */
export function replayRtmrs(eventLog: readonly DstackEventLogEntry[] | string): [Bytes, Bytes, Bytes, Bytes] {
  const registers: [Bytes, Bytes, Bytes, Bytes] = [
    new Uint8Array(48),
    new Uint8Array(48),
    new Uint8Array(48),
    new Uint8Array(48),
  ];
  for (const entry of parseDstackEventLog(eventLog)) {
    registers[entry.imr] = sha384(concatBytes(registers[entry.imr]!, hexToBytes(entry.digest))) as Bytes;
  }
  return registers;
}

/** Digest of a dstack runtime event: `SHA-384(event_type as u32 LE || ":" || name || ":" || payload)`. */
export function dstackRuntimeEventDigest(eventType: number, name: string, payload: Uint8Array): Bytes {
  return sha384(
    concatBytes(u32Le(eventType), utf8ToBytes(':'), utf8ToBytes(name), utf8ToBytes(':'), payload),
  ) as Bytes;
}

/** dstack's MRCONFIGID for an app compose text: `0x01 || SHA-256(app_compose) || 15 zero bytes`. */
export function dstackMrConfigId(appCompose: string): Bytes {
  if (typeof appCompose !== 'string') throw new TypeError('appCompose must be a string');
  return concatBytes(Uint8Array.of(1), sha256(utf8ToBytes(appCompose)), new Uint8Array(15));
}

/**
 * Checks a dstack event log against a verified quote body: replays the four RTMRs, recomputes every runtime
 * event digest (event type 0x08000001) and, given the app compose text, checks MRCONFIGID. Reports rather than
 * throws on mismatches; measurement reference values (MRTD, RTMR0..2) remain the caller's policy.
 * @throws TdxAttestationError `ERR_TDX_EVENT_LOG_MALFORMED` for a malformed log
 */
export function checkDstackEventLog(
  body: TdReportBody,
  eventLog: readonly DstackEventLogEntry[] | string,
  options: { appCompose?: string } = {},
): DstackEventLogCheck {
  const entries = parseDstackEventLog(eventLog);
  const replayed = replayRtmrs(entries);
  const rtmrsMatch = replayed.map((value, index) => equalBytes(value, body.rtmrs[index]!)) as [
    boolean,
    boolean,
    boolean,
    boolean,
  ];
  const badRuntimeEvents: string[] = [];
  let composeHashEvent: string | undefined;
  for (const entry of entries) {
    if (entry.event_type !== DSTACK_RUNTIME_EVENT_TYPE) continue;
    const name = entry.event ?? '';
    const payload = hexToBytes(entry.event_payload ?? '');
    if (!equalBytes(dstackRuntimeEventDigest(entry.event_type, name, payload), hexToBytes(entry.digest))) {
      badRuntimeEvents.push(name);
    }
    if (name === 'compose-hash') composeHashEvent = bytesToHex(payload);
  }
  const out: DstackEventLogCheck = {
    ok: rtmrsMatch.every(Boolean) && badRuntimeEvents.length === 0,
    rtmrsMatch,
    replayedRtmrs: replayed.map(bytesToHex) as [string, string, string, string],
    badRuntimeEvents,
  };
  if (composeHashEvent !== undefined) out.composeHashEvent = composeHashEvent;
  if (options.appCompose !== undefined) {
    out.composeHash = bytesToHex(sha256(utf8ToBytes(options.appCompose)));
    out.mrConfigIdMatches = equalBytes(dstackMrConfigId(options.appCompose), body.mrConfigId);
    out.ok = out.ok && out.mrConfigIdMatches;
    if (composeHashEvent !== undefined) out.ok = out.ok && composeHashEvent === out.composeHash;
  }
  return out;
}
