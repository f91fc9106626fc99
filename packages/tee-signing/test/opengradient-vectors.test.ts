import { createHash } from 'node:crypto';
import { bytesToHex, utf8ToBytes } from '@confidential-ai/bytes';
import { describe, expect, it } from 'vitest';
import {
  buildChatCanonicalRequest,
  buildCompletionsCanonicalRequest,
  buildGatewayToolCalls,
  canonicalJson,
  computeTeeMessageHash,
  keccak256,
  requestHashHex,
  sha256,
  toolCallsOutputContent,
} from '../src/index.js';
import { loadVector } from './helpers.js';

interface SpecVectors {
  chat: { request: unknown; canonical: string; requestHash: string };
  output: { content: string; outputHash: string };
  msgHash: { timestamp: number; msgHash: string; pssMHash: string };
  completions: { requestText: string; canonical: string; requestHash: string };
  toolCalls: {
    calls: { id: string; name: string; arguments: unknown }[];
    content: string;
    outputHash: string;
  };
  emptyKeccak: string;
}
const spec = loadVector<SpecVectors>('tee-gateway-spec.json');

describe('tee-gateway.md §3.5 known-answer vectors', () => {
  it('keccak256 of the empty string (Keccak, not SHA3-256)', () => {
    expect(bytesToHex(keccak256(''))).toBe(spec.emptyKeccak);
    expect(bytesToHex(keccak256(''))).not.toBe(createHash('sha3-256').update('').digest('hex'));
  });

  it('canonical chat request bytes and request hash', () => {
    const canonical = buildChatCanonicalRequest(spec.chat.request);
    expect(canonicalJson(canonical)).toBe(spec.chat.canonical);
    expect(requestHashHex(canonical)).toBe(spec.chat.requestHash);
    // The same from the raw JSON text (parsed like Python json.loads).
    expect(requestHashHex(buildChatCanonicalRequest(JSON.stringify(spec.chat.request)))).toBe(
      spec.chat.requestHash,
    );
  });

  it('output hash', () => {
    expect(bytesToHex(keccak256(spec.output.content))).toBe(spec.output.outputHash);
  });

  it('msg_hash and the PSS mHash', () => {
    const hashes = computeTeeMessageHash(
      utf8ToBytes(spec.chat.canonical),
      spec.output.content,
      spec.msgHash.timestamp,
    );
    expect(hashes.requestHash).toBe(spec.chat.requestHash);
    expect(hashes.outputHash).toBe(spec.output.outputHash);
    expect(bytesToHex(hashes.msgHash)).toBe(spec.msgHash.msgHash);
    expect(bytesToHex(sha256(hashes.msgHash))).toBe(spec.msgHash.pssMHash);
    expect(createHash('sha256').update(hashes.msgHash).digest('hex')).toBe(spec.msgHash.pssMHash);
    // bigint timestamps give the same bytes.
    expect(
      bytesToHex(computeTeeMessageHash(spec.chat.canonical, spec.output.content, 1747000000n).msgHash),
    ).toBe(spec.msgHash.msgHash);
  });

  it('completions request with defaults applied', () => {
    const canonical = buildCompletionsCanonicalRequest(spec.completions.requestText);
    expect(canonicalJson(canonical)).toBe(spec.completions.canonical);
    expect(requestHashHex(canonical)).toBe(spec.completions.requestHash);
  });

  it('tool-call output', () => {
    const content = toolCallsOutputContent(buildGatewayToolCalls(spec.toolCalls.calls));
    expect(content).toBe(spec.toolCalls.content);
    expect(bytesToHex(keccak256(content))).toBe(spec.toolCalls.outputHash);
  });
});
