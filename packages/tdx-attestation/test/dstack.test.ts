import { createHash } from 'node:crypto';
import { bytesToHex } from '@confidential-ai/bytes';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkDstackEventLog,
  DSTACK_RUNTIME_EVENT_TYPE,
  type DstackEventLogEntry,
  dstackMrConfigId,
  parseTdxQuote,
  replayRtmrs,
  TdxAttestationError,
  verifyTdxQuote,
} from '../src/index.js';
import { createTestTdxPlatform } from '../src/testing.js';

const sha384 = (...parts: Uint8Array[]) => {
  const hash = createHash('sha384');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
};

function runtimeEvent(name: string, payload: Uint8Array): DstackEventLogEntry {
  const type = Buffer.alloc(4);
  type.writeUInt32LE(DSTACK_RUNTIME_EVENT_TYPE);
  const digest = sha384(type, Buffer.from(`:${name}:`), payload);
  return {
    imr: 3,
    event_type: DSTACK_RUNTIME_EVENT_TYPE,
    digest: bytesToHex(digest),
    event: name,
    event_payload: bytesToHex(payload),
  };
}

const appCompose = '{"docker_compose_file":"services: {}","runner":"docker-compose"}';
const composeHash = new Uint8Array(createHash('sha256').update(appCompose).digest());
const eventLog: DstackEventLogEntry[] = [
  { imr: 0, event_type: 1, digest: 'ab'.repeat(48) },
  { imr: 1, event_type: 2, digest: 'cd'.repeat(48) },
  { imr: 0, event_type: 3, digest: 'ef'.repeat(48) },
  { imr: 2, event_type: 4, digest: '01'.repeat(48) },
  runtimeEvent('app-id', Uint8Array.of(1, 2, 3)),
  runtimeEvent('compose-hash', composeHash),
  runtimeEvent('system-ready', new Uint8Array(0)),
];

function nodeReplay(entries: DstackEventLogEntry[]): Uint8Array[] {
  const registers = [0, 1, 2, 3].map(() => new Uint8Array(48));
  for (const entry of entries)
    registers[entry.imr] = sha384(registers[entry.imr]!, Buffer.from(entry.digest, 'hex'));
  return registers;
}

describe('dstack measurements', () => {
  const rtmrs = nodeReplay(eventLog);
  let quote: Uint8Array;
  let root: Uint8Array;
  beforeAll(async () => {
    const platform = await createTestTdxPlatform();
    root = platform.root;
    quote = await platform.createQuote({ rtmrs, mrConfigId: dstackMrConfigId(appCompose) });
  });

  it('replays RTMRs like an independent SHA-384 fold (node:crypto)', () => {
    expect(replayRtmrs(eventLog).map(bytesToHex)).toEqual(rtmrs.map(bytesToHex));
    expect(replayRtmrs(JSON.stringify(eventLog)).map(bytesToHex)).toEqual(rtmrs.map(bytesToHex));
    expect(bytesToHex(replayRtmrs([])[2]!)).toBe('00'.repeat(48));
  });

  it('checks a verified quote against the event log and app compose', async () => {
    const { quote: parsed } = await verifyTdxQuote(quote, {
      root,
      now: new Date('2026-01-01T00:00:00Z'),
      chainOnly: true,
    });
    const check = checkDstackEventLog(parsed.body, eventLog, { appCompose });
    expect(check).toMatchObject({
      ok: true,
      rtmrsMatch: [true, true, true, true],
      badRuntimeEvents: [],
      mrConfigIdMatches: true,
    });
    expect(check.composeHash).toBe(bytesToHex(composeHash));
    expect(check.composeHashEvent).toBe(bytesToHex(composeHash));
    expect(bytesToHex(parsed.body.mrConfigId)).toBe(`01${bytesToHex(composeHash)}${'00'.repeat(15)}`);
  });

  it('reports mismatches', () => {
    const body = parseTdxQuote(quote).body;
    const extra = [...eventLog, { imr: 1, digest: '77'.repeat(48) }];
    expect(checkDstackEventLog(body, extra).rtmrsMatch).toEqual([true, false, true, true]);
    const tampered = eventLog.map((entry) =>
      entry.event === 'app-id' ? { ...entry, event_payload: '010204' } : entry,
    );
    const check = checkDstackEventLog(body, tampered);
    expect(check.ok).toBe(false);
    expect(check.badRuntimeEvents).toEqual(['app-id']);
    expect(checkDstackEventLog(body, eventLog, { appCompose: `${appCompose} ` })).toMatchObject({
      ok: false,
      mrConfigIdMatches: false,
    });
  });

  it('rejects malformed logs with a typed error', () => {
    const body = parseTdxQuote(quote).body;
    for (const bad of [
      '{',
      '{}',
      '[1]',
      '[{"imr":4,"digest":"00"}]',
      `[{"imr":0,"digest":"${'0'.repeat(95)}"}]`,
      `[{"imr":0,"digest":"${'0'.repeat(96)}","event_payload":"xyz"}]`,
    ]) {
      try {
        checkDstackEventLog(body, bad);
        expect.unreachable();
      } catch (error) {
        expect(TdxAttestationError.isInstance(error) && error.code).toBe('ERR_TDX_EVENT_LOG_MALFORMED');
      }
    }
  });
});
