import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildKeyScopes, sha256Hex } from '../src/index.js';
import { ALICE_ID, ALICE_SS58, bodyText, expectSigned, type Setup, setup } from './helpers.js';

let env: Setup;
beforeEach(async () => {
  env = await setup();
});
afterEach(async () => {
  await env.close();
});

function seedChute(name = 'my-chute', extra: Record<string, unknown> = {}): string {
  const id = `chute-${name}`;
  env.api.state.chutes.set(id, {
    chute_id: id,
    user_id: ALICE_ID,
    name,
    slug: `alice-${name}`,
    hot: false,
    public: false,
    created_at: '2026-01-01T00:00:00Z',
    cords: [
      {
        function: 'chat',
        stream: false,
        public_api_method: 'POST',
        public_api_path: '/v1/chat',
        input_schema: {},
      },
    ],
    instances: [],
    shared_with: [],
    ...extra,
  });
  return id;
}

describe('keys', () => {
  it('create with --images --action read sends one scope (D3) and prints the secret', async () => {
    const result = await env.cli([
      'keys',
      'create',
      '--name',
      'ci',
      '--images',
      '--action',
      'READ',
      '--json',
    ]);
    expect(result.code).toBe(0);
    const request = env.api.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/api_keys/');
    const body = '{"name":"ci","admin":false,"scopes":[{"object_type":"images","action":"read"}]}';
    expect(bodyText(request.body)).toBe(body);
    expectSigned(request, sha256Hex(body));
    const key = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(key['secret_key']).toMatch(/^cpk_[0-9a-f]{32}\.[0-9a-f]{32}\.[A-Za-z0-9]{32}$/);
  });

  it('admin key body matches the spec example and the key authenticates other commands', async () => {
    let result = await env.cli(['keys', 'create', '--name', 'ci', '--admin', '--json']);
    expect(result.code).toBe(0);
    expect(bodyText(env.api.requests[0]!.body)).toBe('{"name":"ci","admin":true}');
    const secret = (JSON.parse(result.stdout) as { secret_key: string }).secret_key;
    result = await env.cli(['chutes', 'list', '--api-key', secret, '--json']);
    expect(result.code).toBe(0);
    const request = env.api.requests[1]!;
    expect(request.headers['authorization']).toBe(`Basic ${secret}`);
    expect(request.headers['x-chutes-signature']).toBeUndefined();
    expect(request.auth).toMatchObject({ mode: 'api_key', verified: true });
    result = await env.cli(['images', 'list'], { env: { CHUTES_API_KEY: 'cpk_bad' } });
    expect(result.code).toBe(4);
  });

  it('list/get/delete use purpose api_keys', async () => {
    const created = JSON.parse(
      (await env.cli(['keys', 'create', '--name', 'k1', '--chutes', '--json'])).stdout,
    ) as { api_key_id: string };
    expect(bodyText(env.api.requests[0]!.body)).toBe(
      '{"name":"k1","admin":false,"scopes":[{"object_type":"chutes"}]}',
    );
    let result = await env.cli(['keys', 'list', '--name', 'k1', '--limit', '5', '--json']);
    expect(result.code).toBe(0);
    expect(env.api.requests[1]!.rawQuery).toBe('name=k1&limit=5&page=0');
    expectSigned(env.api.requests[1]!, 'api_keys');
    expect((JSON.parse(result.stdout) as { total: number }).total).toBe(1);
    result = await env.cli(['keys', 'get', created.api_key_id]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(created.api_key_id);
    expectSigned(env.api.requests[2]!, 'api_keys');
    result = await env.cli(['keys', 'delete', created.api_key_id, '--yes']);
    expect(result.code).toBe(0);
    expect(env.api.requests[3]!.method).toBe('DELETE');
    expect(env.api.requests[3]!.path).toBe(`/api_keys/${created.api_key_id}`);
    expect(result.stdout).toBe(`Successfully deleted API key ${created.api_key_id}\n`);
    result = await env.cli(['keys', 'get', 'k1']);
    expect(result.code).toBe(5);
  });

  it('buildKeyScopes: ids, invoke, json input, no duplicates', () => {
    expect(buildKeyScopes('n', { images: true, imageIds: ['a', 'a', 'b'], action: 'write' }).scopes).toEqual([
      { object_type: 'images', object_id: 'a', action: 'write' },
      { object_type: 'images', object_id: 'b', action: 'write' },
    ]);
    expect(buildKeyScopes('n', { action: 'invoke' }).scopes).toEqual([
      { object_type: 'chutes', action: 'invoke' },
    ]);
    expect(buildKeyScopes('n', { chutes: true, action: 'invoke' }).scopes).toEqual([
      { object_type: 'chutes', action: 'invoke' },
    ]);
    expect(buildKeyScopes('n', { jsonInput: '{"scopes":[{"object_type":"invocations"}]}' }).scopes).toEqual([
      { object_type: 'invocations' },
    ]);
    expect(() => buildKeyScopes('n', { jsonInput: '{' })).toThrow(
      expect.objectContaining({ code: 'ERR_VALIDATION' }),
    );
    expect(() => buildKeyScopes('n', { action: 'fly' })).toThrow(
      expect.objectContaining({ code: 'ERR_VALIDATION' }),
    );
  });

  it('server-side validation errors surface (422)', async () => {
    const result = await env.cli(['keys', 'create', '--name', 'x'.repeat(30)]);
    expect(result.code).toBe(8);
    expect(result.stderr).toContain('HTTP 422');
  });
});

describe('chutes', () => {
  it('list sends include_public first and prints a table', async () => {
    seedChute();
    const result = await env.cli(['chutes', 'list']);
    expect(result.code).toBe(0);
    const request = env.api.requests[0]!;
    expect(request.method).toBe('GET');
    expect(request.path).toBe('/chutes/');
    expect(request.rawQuery).toBe('include_public=False&limit=25&page=0');
    expect(request.body.length).toBe(0);
    expectSigned(request, 'chutes');
    expect(result.stdout).toContain('Found 1 matching chutes, displaying 1');
    expect(result.stdout).toMatch(/chute-my-chute\s+my-chute\s+cold\s+alice-my-chute/);
    await env.cli(['chutes', 'list', '--include-public', '--name', 'x', '--page', '2']);
    expect(env.api.requests[1]!.rawQuery).toBe('include_public=True&name=x&limit=25&page=2');
  });

  it('list --json returns cord_refs', async () => {
    seedChute();
    const result = await env.cli(['chutes', 'list', '--json']);
    const data = JSON.parse(result.stdout) as {
      items: Array<{ cord_ref_id: string }>;
      cord_refs: Record<string, unknown[]>;
    };
    expect(data.cord_refs[data.items[0]!.cord_ref_id]).toEqual([
      { function: 'chat', stream: false, public_api_method: 'POST', public_api_path: '/v1/chat' },
    ]);
  });

  it('get and delete by name; delete asks and can be declined', async () => {
    seedChute('abc');
    let result = await env.cli(['chutes', 'get', 'abc', '--json']);
    expect(result.code).toBe(0);
    expect(env.api.requests[0]!.path).toBe('/chutes/abc');
    expect((JSON.parse(result.stdout) as { chute_id: string }).chute_id).toBe('chute-abc');
    result = await env.cli(['chutes', 'delete', 'abc'], { prompts: ['n'] });
    expect(result.code).toBe(10);
    expect(env.api.requests).toHaveLength(1);
    result = await env.cli(['chutes', 'delete', 'abc', '--json'], { prompts: ['y'] });
    expect(result.code).toBe(0);
    expect(env.api.requests[1]!.method).toBe('DELETE');
    expectSigned(env.api.requests[1]!, 'chutes');
    expect(JSON.parse(result.stdout)).toEqual({ chute_id: 'chute-abc', deleted: true });
    result = await env.cli(['chutes', 'get', 'abc']);
    expect(result.code).toBe(5);
    expect(result.stderr).toBe(
      'chutes: ERR_HTTP: getting chutes/abc failed with HTTP 404: Chute not found\n',
    );
  });

  it('names with slashes keep the slash in the path', async () => {
    seedChute('unsloth/Llama-3.2-1B-Instruct');
    const result = await env.cli(['chutes', 'get', 'unsloth/Llama-3.2-1B-Instruct']);
    expect(result.code).toBe(0);
    expect(env.api.requests[0]!.path).toBe('/chutes/unsloth/Llama-3.2-1B-Instruct');
  });
});

describe('images', () => {
  it('list/get/delete with purpose images', async () => {
    const image = env.api.addImage({ username: 'alice', name: 'img', tag: '1' });
    let result = await env.cli(['images', 'list', '--json']);
    expect(result.code).toBe(0);
    expect(env.api.requests[0]!.rawQuery).toBe('include_public=False&limit=25&page=0');
    expectSigned(env.api.requests[0]!, 'images');
    result = await env.cli(['images', 'get', String(image['image_id'])]);
    expect(result.code).toBe(0);
    expectSigned(env.api.requests[1]!, 'images');
    result = await env.cli(['images', 'delete', 'img', '--yes']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`Successfully deleted image ${String(image['image_id'])}\n`);
  });
});

describe('secrets', () => {
  it('create, list, get and delete', async () => {
    const chuteId = seedChute('sec');
    let result = await env.cli([
      'secrets',
      'create',
      '--purpose',
      'sec',
      '--key',
      'HF_TOKEN',
      '--value',
      'hf_x',
      '--json',
    ]);
    expect(result.code).toBe(0);
    const body = '{"purpose":"sec","key":"HF_TOKEN","value":"hf_x"}';
    expect(bodyText(env.api.requests[0]!.body)).toBe(body);
    expectSigned(env.api.requests[0]!, sha256Hex(body));
    const secret = JSON.parse(result.stdout) as { secret_id: string };
    expect(secret.secret_id).toMatch(/^[0-9a-f-]{36}$/);
    result = await env.cli(['secrets', 'create', '--purpose', 'sec', '--key', 'HF_TOKEN'], {
      prompts: ['again'],
    });
    expect(result.code).toBe(6);
    result = await env.cli(['secrets', 'list', '--json']);
    expect(env.api.requests[2]!.rawQuery).toBe('limit=25&page=0');
    expectSigned(env.api.requests[2]!, 'secrets');
    expect(result.stdout).not.toContain('hf_x');
    expect((JSON.parse(result.stdout) as { items: Array<{ purpose: string }> }).items[0]!.purpose).toBe(
      chuteId,
    );
    result = await env.cli(['secrets', 'get', secret.secret_id]);
    expect(result.code).toBe(0);
    result = await env.cli(['secrets', 'delete', secret.secret_id, '--yes']);
    expect(result.code).toBe(0);
    expect(env.api.state.secrets.size).toBe(0);
  });
});

describe('share', () => {
  it('shares and unshares, with the reference rejections', async () => {
    seedChute('shared');
    env.api.addUser({ username: 'bob', hotkey: '5C4hrfjw9DjXZTzV3MwzrrAr9P1MJhSrvWGWqi1eSuyUpnhM' });
    let result = await env.cli(['share', '--chute-id', 'shared', '--user-id', 'bob', '--json']);
    expect(result.code).toBe(0);
    const body = '{"chute_id_or_name":"shared","user_id_or_name":"bob"}';
    expect(env.api.requests[0]!.path).toBe('/chutes/share');
    expect(bodyText(env.api.requests[0]!.body)).toBe(body);
    expectSigned(env.api.requests[0]!, sha256Hex(body));
    result = await env.cli(['share', '--chute-id', 'shared', '--user-id', 'bob', '--remove']);
    expect(result.code).toBe(0);
    expect(env.api.requests[1]!.path).toBe('/chutes/unshare');
    result = await env.cli(['share', '--chute-id', 'shared', '--user-id', 'alice']);
    expect(result.code).toBe(8);
    expect(result.stderr).toContain('yourself');
    result = await env.cli(['share', '--chute-id', 'nope', '--user-id', 'bob']);
    expect(result.code).toBe(5);
    result = await env.cli(['share', '--chute-id', 'shared', '--user-id', 'nobody']);
    expect(result.code).toBe(5);
  });
});

describe('warmup', () => {
  it('streams SSE until hot and then instance logs, signing each request', async () => {
    seedChute('warm');
    const result = await env.cli(['warmup', 'warm', '--stream-logs', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [warm, get, logs] = env.api.requests;
    expect(warm!.path).toBe('/chutes/warmup/warm');
    expectSigned(warm!, 'chutes');
    expect(get!.path).toBe('/chutes/warm');
    expectSigned(get!, 'chutes');
    expect(logs!.path).toMatch(/^\/instances\/[0-9a-f-]{36}\/logs$/);
    expect(logs!.rawQuery).toBe('backfill=100');
    expectSigned(logs!, 'logs');
    const output = JSON.parse(result.stdout) as { status: string; events: unknown[]; logs: string[] };
    expect(output.status).toBe('hot');
    expect(output.events).toHaveLength(3);
    expect(output.logs).toEqual(['instance starting', 'model loaded']);
  });

  it('prints progress without --json and maps 402', async () => {
    seedChute('warm');
    let result = await env.cli(['warmup', 'warm']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('[cold] waiting for instances (1)');
    expect(result.stdout).toBe('warm is hot\n');
    env.alice.balance = 0;
    result = await env.cli(['warmup', 'warm']);
    expect(result.code).toBe(7);
  });
});

describe('server and network failures', () => {
  it('a 500 from the API is exit 8 with the detail', async () => {
    const result = await env.cli(['chutes', 'list'], {
      io: { fetch: async () => new Response(JSON.stringify({ detail: 'boom' }), { status: 500 }) },
    });
    expect(result.code).toBe(8);
    expect(result.stderr).toBe('chutes: ERR_HTTP: listing chutes failed with HTTP 500: boom\n');
  });

  it('a non-JSON 200 is exit 8', async () => {
    const result = await env.cli(['chutes', 'list'], {
      io: { fetch: async () => new Response('<html>', { status: 200 }) },
    });
    expect(result.code).toBe(8);
    expect(result.stderr).toContain('not JSON');
  });

  it('a closed port is exit 9', async () => {
    await env.api.close();
    const result = await env.cli(['images', 'list']);
    expect(result.code).toBe(9);
    expect(result.stderr).toMatch(
      /^chutes: ERR_NETWORK: cannot reach the Chutes API at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)\n$/,
    );
  });

  it('a stale nonce is rejected by the fake (600 s window)', async () => {
    const result = await env.cli(['chutes', 'list'], { io: { now: () => Date.now() - 601_000 } });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('Invalid nonce');
    expect(ALICE_SS58).toBeTruthy();
  });
});
