import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { base64ToBytes, bytesToBase64 } from '@confidential-ai/bytes';
import {
  openResponse,
  openStreamChunk,
  openStreamInit,
  parsePublicKey,
  sealRequest,
} from '@confidential-ai/chutes-crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeChutesServer, type FakeChutesServer } from '../src/testing/index.js';
import { API_KEY, createClock, MODEL } from './helpers.js';

let server: FakeChutesServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface DiscoveryBody {
  instances: { instance_id: string; e2e_pubkey: string; nonces: string[] }[];
  nonce_expires_in: number;
  nonce_expires_at: number;
}

async function discover(chuteId: string, key = API_KEY): Promise<DiscoveryBody> {
  const response = await fetch(`${server!.url}/e2e/instances/${chuteId}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as DiscoveryBody;
}

async function invoke(headers: Record<string, string>, body: Uint8Array | string, key = API_KEY) {
  const response = await fetch(`${server!.url}/e2e/invoke`, {
    method: 'POST',
    headers: { authorization: key, 'content-type': 'application/octet-stream', ...headers },
    body: body as BodyInit,
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    bytes: new Uint8Array(await response.arrayBuffer()),
  };
}

const payload = { model: MODEL, messages: [{ role: 'user', content: 'hi fake' }] };

describe('fake Chutes server (relay semantics over raw HTTP)', () => {
  it('lists models without authentication and issues 10 nonces per instance, at most 5 instances', async () => {
    const clock = createClock();
    server = await createFakeChutesServer({
      apiKey: API_KEY,
      models: [MODEL],
      instancesPerChute: 6,
      now: clock.now,
    });
    const models = (await (await fetch(`${server.url}/v1/models`)).json()) as {
      object: string;
      data: { id: string; chute_id: string }[];
    };
    expect(models.object).toBe('list');
    expect(models.data[0]).toMatchObject({
      id: MODEL,
      chute_id: server.chutes[0]!.chuteId,
      confidential_compute: true,
    });
    const body = await discover(server.chutes[0]!.chuteId);
    expect(body.instances).toHaveLength(5);
    expect(body.nonce_expires_in).toBe(60);
    expect(body.nonce_expires_at).toBe(Math.floor(clock.now() / 1000) + 60);
    for (const instance of body.instances) {
      expect(instance.nonces).toHaveLength(10);
      for (const nonce of instance.nonces) expect(nonce).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(instance.e2e_pubkey).toHaveLength(1580);
      expect(base64ToBytes(instance.e2e_pubkey)).toHaveLength(1184);
    }
  });

  it('answers with the relay error texts', async () => {
    server = await createFakeChutesServer({ apiKey: API_KEY, models: [MODEL] });
    const chuteId = server.chutes[0]!.chuteId;
    let response = await fetch(`${server.url}/e2e/instances/${chuteId}`, {
      headers: { authorization: 'Bearer cpk_nope' },
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ detail: "Can't find a user with that api key in our db :(" });
    response = await fetch(`${server.url}/e2e/instances/00000000-0000-4000-8000-000000000000`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(await response.json()).toEqual({ detail: 'Chute not found' });
    for (const instance of server.chutes[0]!.instances) server.setInstanceActive(instance.instanceId, false);
    response = await fetch(`${server.url}/e2e/instances/${chuteId}`, { headers: { authorization: API_KEY } });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ detail: 'No active instances found for this chute' });
    const missing = await invoke({ 'x-chute-id': chuteId }, 'x');
    expect(missing.status).toBe(422);
  });

  it('consumes nonces once, bound to user, chute and instance, before any other check', async () => {
    const clock = createClock();
    server = await createFakeChutesServer({
      models: [MODEL, 'other/model'],
      now: clock.now,
    });
    const chuteId = server.chutes[0]!.chuteId;
    const otherChute = server.chutes[1]!.chuteId;
    const body = await discover(chuteId, 'cpk_alice');
    const [first, second] = body.instances;
    const sealed = sealRequest(parsePublicKey(first!.e2e_pubkey), payload);
    const headers = (nonce: string, instanceId = first!.instance_id, chute = chuteId) => ({
      'x-chute-id': chute,
      'x-instance-id': instanceId,
      'x-e2e-nonce': nonce,
      'x-e2e-stream': 'false',
      'x-e2e-path': '/v1/chat/completions',
    });
    const nonce = first!.nonces[0]!;
    const ok = await invoke(headers(nonce), sealed.blob, 'Bearer cpk_alice');
    expect(ok.status).toBe(200);
    expect(ok.contentType).toBe('application/octet-stream');
    expect(openResponse(ok.bytes, sealed.responseKeyPair.secretKey)).toMatchObject({
      object: 'chat.completion',
      choices: [{ message: { content: 'You said: hi fake' } }],
    });
    const reject = { status: 403, text: '{"detail":"Invalid, expired, or already-used nonce"}' };
    const check = async (result: Promise<{ status: number; bytes: Uint8Array }>) => {
      const { status, bytes } = await result;
      expect({ status, text: new TextDecoder().decode(bytes) }).toEqual(reject);
    };
    await check(invoke(headers(nonce), sealed.blob, 'Bearer cpk_alice')); // reused
    await check(invoke(headers(first!.nonces[1]!, second!.instance_id), sealed.blob, 'cpk_alice')); // wrong instance
    await check(invoke(headers(first!.nonces[2]!), sealed.blob, 'Bearer cpk_bob')); // other user
    await check(invoke(headers(first!.nonces[3]!, first!.instance_id, otherChute), sealed.blob, 'cpk_alice')); // other chute
    // A nonce burnt by a failing later check is gone: empty body gives 400, then the nonce is rejected.
    const empty = await invoke(headers(first!.nonces[4]!), new Uint8Array(0), 'cpk_alice');
    expect(empty.status).toBe(400);
    await check(invoke(headers(first!.nonces[4]!), sealed.blob, 'cpk_alice'));
    // Wrong user, chute or instance never delete the field (the script only deletes on a full match).
    expect(server.nonceLog.map((entry) => entry.reason ?? 'ok')).toEqual([
      'ok',
      'unknown',
      'wrong-instance',
      'unknown',
      'unknown',
      'ok',
      'unknown',
    ]);
  });

  it('keeps nonces 75 s (advertised 60 s) and renews them on discovery', async () => {
    const clock = createClock();
    server = await createFakeChutesServer({ apiKey: API_KEY, models: [MODEL], now: clock.now });
    const chuteId = server.chutes[0]!.chuteId;
    const body = await discover(chuteId);
    const instance = body.instances[0]!;
    const call = (nonce: string) =>
      invoke(
        {
          'x-chute-id': chuteId,
          'x-instance-id': instance.instance_id,
          'x-e2e-nonce': nonce,
          'x-e2e-path': '/v1/chat/completions',
        },
        sealRequest(parsePublicKey(instance.e2e_pubkey), payload).blob,
      );
    clock.advance(70_000);
    expect((await call(instance.nonces[0]!)).status).toBe(200);
    clock.advance(4_000);
    await discover(chuteId); // renews the whole hash
    clock.advance(70_000);
    expect((await call(instance.nonces[1]!)).status).toBe(200);
    clock.advance(6_000);
    expect((await call(instance.nonces[2]!)).status).toBe(403);
    expect(server.nonceLog.at(-1)!.reason).toBe('expired');
  });

  it('rejects undecryptable blobs the way the relay relays the instance 400', async () => {
    server = await createFakeChutesServer({ apiKey: API_KEY, models: [MODEL] });
    const chuteId = server.chutes[0]!.chuteId;
    const body = await discover(chuteId);
    const instance = body.instances[0]!;
    const headers = (index: number, extra: Record<string, string> = {}) => ({
      'x-chute-id': chuteId,
      'x-instance-id': instance.instance_id,
      'x-e2e-nonce': instance.nonces[index]!,
      'x-e2e-path': '/v1/chat/completions',
      ...extra,
    });
    const short = await invoke(headers(0), new Uint8Array(1115));
    expect(short.status).toBe(400);
    expect(JSON.parse(new TextDecoder().decode(short.bytes))).toEqual({
      detail: '{"detail":"E2E decryption failed"}',
    });
    // Sealed to another instance's key: the tag fails.
    const otherKey = parsePublicKey(body.instances[1]!.e2e_pubkey);
    const wrong = await invoke(headers(1), sealRequest(otherKey, payload).blob);
    expect(JSON.parse(new TextDecoder().decode(wrong.bytes))).toEqual({
      detail: '{"detail":"E2E decryption failed"}',
    });
    const good = sealRequest(parsePublicKey(instance.e2e_pubkey), payload).blob;
    const path = await invoke(headers(2, { 'x-e2e-path': '/admin' }), good);
    expect({ status: path.status, text: new TextDecoder().decode(path.bytes) }).toEqual({
      status: 403,
      text: '{"detail":"Instance returned status 403"}',
    });
    const mismatch = await invoke(headers(3, { 'x-e2e-stream': 'true' }), good);
    expect(mismatch.status).toBe(500);
  });

  it('streams e2e_init then one e2e event per line, [DONE] encrypted', async () => {
    server = await createFakeChutesServer({ apiKey: API_KEY, models: [MODEL] });
    const chuteId = server.chutes[0]!.chuteId;
    const instance = (await discover(chuteId)).instances[0]!;
    const sealed = sealRequest(parsePublicKey(instance.e2e_pubkey), { ...payload, stream: true });
    const result = await invoke(
      {
        'x-chute-id': chuteId,
        'x-instance-id': instance.instance_id,
        'x-e2e-nonce': instance.nonces[0]!,
        'x-e2e-stream': 'true',
        'x-e2e-path': '/v1/chat/completions',
      },
      sealed.blob,
    );
    expect(result.contentType).toBe('text/event-stream');
    const events = new TextDecoder().decode(result.bytes).split('\n\n').filter(Boolean);
    const init = JSON.parse(events[0]!.slice(6)) as { e2e_init: string };
    expect(base64ToBytes(init.e2e_init)).toHaveLength(1088);
    const key = openStreamInit(init.e2e_init, sealed.responseKeyPair.secretKey);
    const lines = events
      .slice(1)
      .map((event) => openStreamChunk((JSON.parse(event.slice(6)) as { e2e: string }).e2e, key));
    expect(lines.at(-2)).toBe('data: [DONE]\n');
    expect(lines.at(-1)).toBe('\n');
    // The instance forced continuous usage: every chunk carries usage.
    const chunks = lines
      .filter((line) => line.startsWith('data: {'))
      .map((line) => JSON.parse(line.slice(6)));
    expect(chunks.every((chunk) => chunk.usage)).toBe(true);
    expect(bytesToBase64(base64ToBytes(init.e2e_init))).toBe(init.e2e_init);
  });

  it('rate-limits discovery globally when asked (relay: 10 per minute)', async () => {
    const clock = createClock(1_800_000_000_000);
    server = await createFakeChutesServer({
      apiKey: API_KEY,
      models: [MODEL],
      discoveryRateLimit: 2,
      now: clock.now,
    });
    const chuteId = server.chutes[0]!.chuteId;
    const call = () =>
      fetch(`${server!.url}/e2e/instances/${chuteId}`, { headers: { authorization: API_KEY } });
    expect((await call()).status).toBe(200);
    expect((await call()).status).toBe(200);
    const limited = await call();
    expect(limited.status).toBe(429);
    expect(await limited.json()).toEqual({ detail: 'Rate limit exceeded. Try again later.' });
    clock.advance(60_000);
    expect((await call()).status).toBe(200);
  });

  it('accepts faults over the admin route', async () => {
    server = await createFakeChutesServer({ apiKey: API_KEY, models: [MODEL] });
    const response = await fetch(`${server.url}/_fake/faults`, {
      method: 'POST',
      body: JSON.stringify({ type: 'capacity', count: 2 }),
    });
    expect(response.status).toBe(200);
    expect(server.faults).toEqual([{ type: 'capacity', count: 2 }]);
    const bad = await fetch(`${server.url}/_fake/faults`, { method: 'POST', body: '{"type":"nope"}' });
    expect(bad.status).toBe(400);
  });
});

describe('fake Chutes server: platform listing and attestation evidence', () => {
  const nonce = 'ab'.repeat(32);
  // Node's own base64url decoder, independent of the package's codec.
  const decodeJwtPayload = (token: string) =>
    JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

  async function evidence(chuteId: string) {
    const response = await fetch(`${server!.url}/chutes/${chuteId}/evidence?nonce=${nonce}`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as {
      evidence: Array<{
        instance_id: string;
        quote: string;
        tdx_verification: { result: { status: string } };
        gpu_tokens?: { tokens: [[string, string], Record<string, string>]; error?: string };
      }>;
    };
  }

  it('lists chutes by case-insensitive name substring, with and without a key', async () => {
    server = await createFakeChutesServer({
      apiKey: API_KEY,
      models: [MODEL, 'fake/echo-model-large', 'other/x'],
    });
    const anonymous = await fetch(
      `${server.url}/chutes/?include_public=true&name=${encodeURIComponent('ECHO-model')}`,
    );
    expect(anonymous.status).toBe(200);
    const body = (await anonymous.json()) as {
      total: number;
      items: Array<{ chute_id: string; name: string }>;
    };
    expect(body.items.map((item) => item.name).sort()).toEqual([MODEL, 'fake/echo-model-large'].sort());
    expect(body.total).toBe(2);
    expect(body.items.find((item) => item.name === MODEL)!.chute_id).toBe(server.chutes[0]!.chuteId);
    const wrongKey = await fetch(`${server.url}/chutes/?name=x`, {
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrongKey.status).toBe(401);
  });

  it('adds tdx_verification and NVIDIA-style GPU tokens bound to the REPORTDATA digest', async () => {
    server = await createFakeChutesServer({ apiKey: API_KEY });
    const chute = server.chutes[0]!;
    const body = await evidence(chute.chuteId);
    expect(body.evidence).toHaveLength(chute.instances.length);
    for (const entry of body.evidence) {
      const instance = chute.instances.find((item) => item.instanceId === entry.instance_id)!;
      const digest = createHash('sha256')
        .update(nonce + instance.e2ePubkey)
        .digest('hex');
      expect(entry.tdx_verification.result.status).toBe('UpToDate');
      const [kind, platformToken] = entry.gpu_tokens!.tokens[0];
      expect(kind).toBe('JWT');
      const claims = decodeJwtPayload(platformToken);
      expect(claims.eat_nonce).toBe(digest);
      expect(claims['x-nvidia-overall-att-result']).toBe(true);
      // REPORTDATA[0:32] (offset 568 of a v4 quote) is the same digest.
      const quote = base64ToBytes(entry.quote);
      expect(Buffer.from(quote.subarray(568, 600)).toString('hex')).toBe(digest);
    }
  });

  it('injects evidence faults: TD attributes, TDX status, bad GPU tokens, rate limits', async () => {
    server = await createFakeChutesServer({ apiKey: API_KEY, instancesPerChute: 1 });
    const chute = server.chutes[0]!;
    server.inject({ type: 'td-attributes', hex: '0100001000000000' });
    server.inject({ type: 'tdx-status', status: 'OutOfDate' });
    server.inject({ type: 'gpu-token-bad', variant: 'overall-false' });
    const [entry] = (await evidence(chute.chuteId)).evidence;
    expect(base64ToBytes(entry!.quote)[48 + 120]).toBe(0x01);
    expect(entry!.tdx_verification.result.status).toBe('OutOfDate');
    expect(decodeJwtPayload(entry!.gpu_tokens!.tokens[0][1])['x-nvidia-overall-att-result']).toBe(false);

    server.inject({ type: 'gpu-token-bad', variant: 'missing' });
    expect((await evidence(chute.chuteId)).evidence[0]!.gpu_tokens).toBeUndefined();

    server.inject({ type: 'rate-limit', path: 'evidence', retryAfter: 7 });
    const limited = await fetch(`${server.url}/chutes/${chute.chuteId}/evidence?nonce=${nonce}`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(await limited.json()).toEqual({ detail: 'Rate limit exceeded. Try again later.' });
    // Used up: the next call succeeds.
    await evidence(chute.chuteId);
    expect(() => server!.inject({ type: 'td-attributes', hex: 'zz' })).toThrow(TypeError);
  });
});

describe('chutes-fake CLI', () => {
  it('prints one line with its URL, serves, and exits 0 on SIGTERM', async () => {
    const bin = fileURLToPath(new URL('../dist/bin/chutes-fake.js', import.meta.url));
    const child = spawn(
      process.execPath,
      [bin, '--port', '0', '--api-key', 'cpk_cli', '--model', 'cli/model'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    const match = /^listening on (http:\/\/127\.0\.0\.1:\d+)\n$/.exec(line.toString());
    expect(match).not.toBeNull();
    const models = (await (await fetch(`${match![1]}/v1/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((model) => model.id)).toEqual(['cli/model']);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('rejects a bad port with a one-line reason and a non-zero exit', async () => {
    const bin = fileURLToPath(new URL('../dist/bin/chutes-fake.js', import.meta.url));
    const child = spawn(process.execPath, [bin, '--port', 'nope'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [code] = await once(child, 'exit');
    expect(code).not.toBe(0);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });
});
