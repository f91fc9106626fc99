import { createHash } from 'node:crypto';
import { bytesToHex } from '@confidential-ai/bytes';
import { buildRequestAad, buildResponseAad, encryptField } from '@confidential-ai/venice-e2ee';
import { describe, expect, it } from 'vitest';
import { fakeReasoningText, fakeReplyText } from '../src/fake-vllm.js';
import { createMemoryReplayStore } from '../src/stores.js';
import { type Algo, AUTH, createE2eeClient, createTestApp, sseData, type TestApp } from './helpers.js';
import { independentClientKeys, independentDecrypt, independentEncrypt } from './independent-cipher.js';

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');
const PROMPT = 'the secret prompt ZEBRA-42';
const cases = (['ecdsa', 'ed25519'] as const).flatMap((algo) =>
  ([1, 2] as const).map((version) => ({ algo, version })),
);

async function modelKey(test: TestApp, algo: Algo): Promise<string> {
  const report = (await (
    await test.app.request(`/v1/attestation/report?signing_algo=${algo}`, { headers: AUTH })
  ).json()) as {
    signing_public_key: string;
  };
  return report.signing_public_key;
}

async function post(
  test: TestApp,
  headers: Record<string, string>,
  body: unknown,
  path = '/v1/chat/completions',
) {
  return test.app.request(path, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function errorType(response: Response): Promise<string> {
  const body = (await response.json()) as { error: { type: string } };
  return body.error.type;
}

describe.each(cases)('E2EE $algo v$version', ({ algo, version }) => {
  it('non-stream: decrypts the request for the upstream, encrypts content and reasoning per field', async () => {
    const test = createTestApp();
    const key = await modelKey(test, algo);
    const client = createE2eeClient(algo, version);
    const body = client.encryptMessages(
      {
        model: 'fake-reasoning-model',
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: PROMPT },
        ],
      },
      key,
    );
    const raw = JSON.stringify(body);
    expect(raw).not.toContain('ZEBRA');
    const response = await post(test, client.headers(key), raw);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-e2ee-applied')).toBe('true');
    expect(response.headers.get('x-e2ee-version')).toBe(String(version));
    expect(response.headers.get('x-e2ee-algo')).toBe(algo);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const text = new TextDecoder().decode(bytes);
    expect(text).not.toContain('Simulated reply');
    const payload = JSON.parse(text);
    const upstream = test.vllm.requests.at(-1)!.body as { messages: Array<{ content: string }> };
    expect(upstream.messages.map((message) => message.content)).toEqual(['be brief', PROMPT]);
    const message = payload.choices[0].message;
    const aad = (field: string) => ({ model: payload.model, id: payload.id, choice: 0, field });
    expect(client.decrypt(message.content, aad('content'))).toBe(fakeReplyText(`be brief\n${PROMPT}`));
    expect(client.decrypt(message.reasoning_content, aad('reasoning_content'))).toBe(
      fakeReasoningText(`be brief\n${PROMPT}`),
    );
    expect(client.decrypt(message.reasoning, aad('reasoning'))).toBe(
      fakeReasoningText(`be brief\n${PROMPT}`),
    );
    if (version === 2) {
      // The AAD binds the field name: content cannot be decrypted as reasoning.
      expect(() => client.decrypt(message.content, aad('reasoning'))).toThrow();
    }
    const record = (await (
      await test.app.request(`/v1/signature/${payload.id}?signing_algo=${algo}`, { headers: AUTH })
    ).json()) as {
      text: string;
    };
    expect(record.text).toBe(`${sha256(raw)}:${sha256(bytes)}`);
  });

  it('stream with n=2: every chunk encrypted with choice = choices[].index; [DONE] kept', async () => {
    const test = createTestApp();
    const key = await modelKey(test, algo);
    const client = createE2eeClient(algo, version);
    const body = client.encryptMessages(
      { model: 'fake-model', n: 2, stream: true, messages: [{ role: 'user', content: PROMPT }] },
      key,
    );
    const response = await post(test, client.headers(key), body);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-e2ee-applied')).toBe('true');
    const bytes = new Uint8Array(await response.arrayBuffer());
    const text = new TextDecoder().decode(bytes);
    expect(text).not.toContain('Simulated');
    const data = sseData(text);
    expect(data.at(-1)).toBe('[DONE]');
    const replies = ['', ''];
    for (const line of data.slice(0, -1)) {
      const chunk = JSON.parse(line);
      for (const choice of chunk.choices) {
        // the fake lists choices in descending index order: position != index
        if (typeof choice.delta.content === 'string') {
          replies[choice.index] += client.decrypt(choice.delta.content, {
            model: chunk.model,
            id: chunk.id,
            choice: choice.index,
            field: 'content',
          });
        }
        if (choice.delta.role) expect(choice.delta).not.toHaveProperty('content'); // empty content deleted
      }
    }
    expect(replies).toEqual([fakeReplyText(PROMPT), fakeReplyText(PROMPT)]);
    const id = JSON.parse(data[0]!).id;
    const record = (await (await test.app.request(`/v1/signature/${id}`, { headers: AUTH })).json()) as {
      text: string;
    };
    expect(record.text.split(':')[1]).toBe(sha256(bytes));
  });

  it('multimodal text parts are decrypted, other parts pass, a stringified array is restored', async () => {
    const test = createTestApp();
    const key = await modelKey(test, algo);
    const client = createE2eeClient(algo, version);
    const parts = [
      { type: 'text', text: 'describe' },
      { type: 'image_url', image_url: { url: 'https://example.invalid/a.png' } },
    ];
    const body = client.encryptMessages(
      {
        model: 'fake-model',
        messages: [
          { role: 'user', content: parts },
          { role: 'user', content: JSON.stringify([{ type: 'text', text: 'restored' }]) },
          { role: 'user', content: '{"not":"a list"}' },
          { role: 'assistant', content: null },
        ],
      },
      key,
    );
    const response = await post(test, client.headers(key), body);
    expect(response.status).toBe(200);
    const upstream = test.vllm.requests.at(-1)!.body as { messages: Array<{ content: unknown }> };
    expect(upstream.messages[0]!.content).toEqual(parts);
    expect(upstream.messages[1]!.content).toEqual([{ type: 'text', text: 'restored' }]);
    expect(upstream.messages[2]!.content).toBe('{"not":"a list"}');
    expect(upstream.messages[3]!.content).toBeNull();
  });
});

describe('E2EE against an independent node:crypto implementation', () => {
  it.each(['ecdsa', 'ed25519'] as const)('%s v2 request and response', async (algo) => {
    const test = createTestApp();
    const key = await modelKey(test, algo);
    const clientKeys = independentClientKeys(algo);
    const nonce = bytesToHex(crypto.getRandomValues(new Uint8Array(16)));
    const timestamp = Math.floor(Date.now() / 1000);
    const model = 'fake-model';
    const aad = buildRequestAad({ algo, model, messageIndex: 0, contentIndex: null, nonce, timestamp });
    expect(aad).toBe(`v2|req|algo=${algo}|model=${model}|m=0|c=-|n=${nonce}|ts=${timestamp}`);
    const response = await post(
      test,
      {
        'x-signing-algo': algo,
        'x-client-pub-key': clientKeys.publicKeyHex,
        'x-model-pub-key': key,
        'x-e2ee-version': '2',
        'x-e2ee-nonce': nonce,
        'x-e2ee-timestamp': String(timestamp),
      },
      { model, messages: [{ role: 'user', content: independentEncrypt(PROMPT, algo, key, aad) }] },
    );
    expect(response.status).toBe(200);
    const payload = (await response.json()) as {
      id: string;
      model: string;
      choices: Array<{ message: { content: string } }>;
    };
    const responseAad = `v2|resp|algo=${algo}|model=${payload.model}|id=${payload.id}|choice=0|field=content|n=${nonce}|ts=${timestamp}`;
    expect(
      buildResponseAad({
        algo,
        model: payload.model,
        id: payload.id,
        choice: 0,
        field: 'content',
        nonce,
        timestamp,
      }),
    ).toBe(responseAad);
    expect(
      independentDecrypt(payload.choices[0]!.message.content, algo, clientKeys.privateKey, responseAad),
    ).toBe(fakeReplyText(PROMPT));
    const blob = payload.choices[0]!.message.content;
    expect(blob).toMatch(/^[0-9a-f]+$/);
    if (algo === 'ecdsa') expect(blob.startsWith('04')).toBe(true);
  });
});

describe('E2EE header validation (§2.2, §2.10)', () => {
  const body = { model: 'fake-model', messages: [{ role: 'user', content: 'x' }] };

  it('returns the exact error type for every header problem', async () => {
    const test = createTestApp();
    const ecdsaKey = await modelKey(test, 'ecdsa');
    const edKey = await modelKey(test, 'ed25519');
    const client = createE2eeClient('ecdsa', 2);
    const valid = client.headers(ecdsaKey);
    const cases: Array<[string, Record<string, string>, string]> = [
      ['only algo', { 'x-signing-algo': 'ecdsa' }, 'e2ee_header_missing'],
      ['only client key', { 'x-client-pub-key': client.publicKeyHex }, 'e2ee_header_missing'],
      ['bad algo', { ...valid, 'x-signing-algo': 'rsa' }, 'e2ee_invalid_signing_algo'],
      ['odd-length client key', { ...valid, 'x-client-pub-key': 'abc' }, 'e2ee_invalid_public_key'],
      ['non-hex client key', { ...valid, 'x-client-pub-key': 'zz'.repeat(64) }, 'e2ee_invalid_public_key'],
      [
        '0x client key',
        { ...valid, 'x-client-pub-key': `0x${client.publicKeyHex}` },
        'e2ee_invalid_public_key',
      ],
      ['non-hex model key', { ...valid, 'x-model-pub-key': 'q'.repeat(128) }, 'e2ee_invalid_public_key'],
      [
        'client key not on the curve',
        { ...valid, 'x-client-pub-key': '00'.repeat(64) },
        'e2ee_invalid_public_key',
      ],
      [
        'model key mismatch',
        { ...valid, 'x-model-pub-key': createE2eeClient('ecdsa', 1).publicKeyHex },
        'e2ee_model_key_mismatch',
      ],
      [
        'wrong-length ECDSA model key',
        { ...valid, 'x-model-pub-key': 'ab'.repeat(33) },
        'invalid_e2ee_request',
      ],
      ['bad version', { ...valid, 'x-e2ee-version': '3' }, 'e2ee_invalid_version'],
      ['nonce without timestamp', { ...valid, 'x-e2ee-timestamp': '' }, 'e2ee_header_missing'],
      [
        'v2 without nonce and timestamp',
        { ...valid, 'x-e2ee-nonce': '', 'x-e2ee-timestamp': '' },
        'e2ee_header_missing',
      ],
      ['short nonce', { ...valid, 'x-e2ee-nonce': 'abc' }, 'e2ee_invalid_nonce'],
      ['non-integer timestamp', { ...valid, 'x-e2ee-timestamp': '12.5' }, 'e2ee_invalid_timestamp'],
    ];
    const edClient = createE2eeClient('ed25519', 1);
    cases.push(
      [
        'ed25519 model key mismatch',
        { ...edClient.headers(ecdsaKey.slice(0, 64)) },
        'e2ee_model_key_mismatch',
      ],
      [
        'ed25519 client key of 31 bytes',
        { ...edClient.headers(edKey), 'x-client-pub-key': 'ab'.repeat(31) },
        'e2ee_invalid_public_key',
      ],
      // Keys PyNaCl refuses (venice-e2ee's test/vectors/ed25519-to-x25519.json): a point of order 8, and a
      // point of mixed order (a prime-order point plus the point of order 2).
      [
        'ed25519 client key of small order',
        {
          ...edClient.headers(edKey),
          'x-client-pub-key': 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
        },
        'e2ee_invalid_public_key',
      ],
      [
        'ed25519 client key of mixed order',
        {
          ...edClient.headers(edKey),
          'x-client-pub-key': '2e8e9c78b86015377915923e0fa47b46d838a3bfff4a736dc9aa20573794faea',
        },
        'e2ee_invalid_public_key',
      ],
    );
    for (const [name, headers, type] of cases) {
      const payload =
        headers['x-signing-algo'] === 'ed25519'
          ? edClient.encryptMessages(body, edKey)
          : client.encryptMessages(body, ecdsaKey);
      const response = await post(test, headers, payload);
      expect({ name, status: response.status, type: await errorType(response) }).toEqual({
        name,
        status: 400,
        type,
      });
    }
    // A stale timestamp is checked after decryption (§2.3): sealed with the stale value it decrypts, then fails.
    const stale = createE2eeClient('ecdsa', 2, { timestamp: Math.floor(Date.now() / 1000) - 1000 });
    const staleResponse = await post(test, stale.headers(ecdsaKey), stale.encryptMessages(body, ecdsaKey));
    expect(await errorType(staleResponse)).toBe('e2ee_invalid_timestamp');
    // nothing reached the upstream
    expect(test.vllm.requests).toHaveLength(0);
  });

  it('accepts trimmed/upper-case algo, the 65-byte model key, implicit v2 and legacy v1', async () => {
    const test = createTestApp();
    const key = await modelKey(test, 'ecdsa');
    const v2 = createE2eeClient('ecdsa', 2);
    const implicit = { ...v2.headers(`04${key}`), 'x-signing-algo': ' ECDSA ', 'x-e2ee-version': '1' };
    const response = await post(test, implicit, v2.encryptMessages(body, key));
    expect(response.status).toBe(200);
    expect(response.headers.get('x-e2ee-version')).toBe('2');
    const v1 = createE2eeClient('ecdsa', 1);
    const legacy = await post(test, v1.headers(key), v1.encryptMessages(body, key));
    expect(legacy.status).toBe(200);
    expect(legacy.headers.get('x-e2ee-version')).toBe('1');
    const payload = (await legacy.json()) as { choices: Array<{ message: { content: string } }> };
    expect(v1.decrypt(payload.choices[0]!.message.content, undefined)).toBe(fakeReplyText('x'));
  });
});

describe('E2EE body errors', () => {
  it('maps decryption failures to e2ee_decryption_failed / invalid_e2ee_request', async () => {
    const test = createTestApp();
    const key = await modelKey(test, 'ecdsa');
    const edKey = await modelKey(test, 'ed25519');
    const make = (content: unknown) => ({ model: 'fake-model', messages: [{ role: 'user', content }] });
    const v1 = createE2eeClient('ecdsa', 1);
    const good = encryptField('hello', key, { suite: 'secp256k1' });
    const tampered = good.slice(0, -2) + (good.endsWith('00') ? '01' : '00');
    const notUtf8 = encryptField(new Uint8Array([0xff, 0xfe]), key, { suite: 'secp256k1' });
    const badPoint = `04${'00'.repeat(64)}${good.slice(130)}`;
    const cases: Array<[string, unknown, string]> = [
      ['too short', 'ab'.repeat(40), 'e2ee_decryption_failed'],
      ['tampered tag', tampered, 'e2ee_decryption_failed'],
      ['non-hex content', 'hello plaintext', 'invalid_e2ee_request'],
      ['empty content', '', 'invalid_e2ee_request'],
      ['non-hex text part', [{ type: 'text', text: 'plain' }], 'invalid_e2ee_request'],
      ['bad ephemeral point', badPoint, 'invalid_e2ee_request'],
      ['non-UTF-8 plaintext', notUtf8, 'invalid_e2ee_request'],
    ];
    for (const [name, content, type] of cases) {
      const response = await post(test, v1.headers(key), make(content));
      expect({ name, status: response.status, type: await errorType(response) }).toEqual({
        name,
        status: 400,
        type,
      });
    }
    // Ed25519: too short for its layout
    const ed = createE2eeClient('ed25519', 1);
    const short = await post(test, ed.headers(edKey), make('ab'.repeat(59)));
    expect(await errorType(short)).toBe('e2ee_decryption_failed');
    expect(test.vllm.requests).toHaveLength(0);
  });

  it('AAD tampering: a request sealed for another model, message index or nonce fails', async () => {
    const test = createTestApp();
    const key = await modelKey(test, 'ed25519');
    const client = createE2eeClient('ed25519', 2);
    const aad = buildRequestAad({
      algo: 'ed25519',
      model: 'other-model',
      messageIndex: 0,
      contentIndex: null,
      nonce: client.nonce,
      timestamp: client.timestamp,
    });
    const { hexToBytes } = await import('@confidential-ai/bytes');
    const content = encryptField('hi', hexToBytes(key), { suite: 'ed25519', aad });
    const response = await post(test, client.headers(key), {
      model: 'fake-model',
      messages: [{ role: 'user', content }],
    });
    expect(await errorType(response)).toBe('e2ee_decryption_failed');
    // v1 ciphertext (no AAD) sent as v2 also fails
    const v1Content = encryptField('hi', hexToBytes(key), { suite: 'ed25519' });
    const other = createE2eeClient('ed25519', 2);
    const v1AsV2 = await post(test, other.headers(key), {
      model: 'fake-model',
      messages: [{ role: 'user', content: v1Content }],
    });
    expect(await errorType(v1AsV2)).toBe('e2ee_decryption_failed');
  });
});

describe('replay protection (§3, D8)', () => {
  it('a replayed nonce is rejected; a failed decryption does not burn it', async () => {
    const test = createTestApp();
    const key = await modelKey(test, 'ecdsa');
    const client = createE2eeClient('ecdsa', 2);
    const bad = await post(test, client.headers(key), {
      model: 'fake-model',
      messages: [{ role: 'user', content: 'ab'.repeat(10) }],
    });
    expect(await errorType(bad)).toBe('e2ee_decryption_failed');
    const body = client.encryptMessages(
      { model: 'fake-model', messages: [{ role: 'user', content: 'x' }] },
      key,
    );
    expect((await post(test, client.headers(key), body)).status).toBe(200);
    const replay = await post(test, client.headers(key), body);
    expect(replay.status).toBe(400);
    expect(await errorType(replay)).toBe('e2ee_replay_detected');
    expect(test.vllm.requests).toHaveLength(1);
  });

  it('a future-stamped claim outlives the point where it would still be accepted', async () => {
    let clock = Date.now();
    const now = () => clock;
    const test = createTestApp({
      overrides: { now, replayStore: createMemoryReplayStore({ now, knownSinceSeconds: 0 }) },
    });
    const key = await modelKey(test, 'ecdsa');
    const client = createE2eeClient('ecdsa', 2, { timestamp: Math.floor(clock / 1000) + 290 });
    const body = client.encryptMessages(
      { model: 'fake-model', messages: [{ role: 'user', content: 'x' }] },
      key,
    );
    expect((await post(test, client.headers(key), body)).status).toBe(200);
    clock += 500_000; // 500 s later the timestamp is 210 s in the past: still inside the 300 s window
    const replay = await post(test, client.headers(key), body);
    expect(await errorType(replay)).toBe('e2ee_replay_detected');
    clock += 100_000; // now outside the window
    expect(await errorType(await post(test, client.headers(key), body))).toBe('e2ee_invalid_timestamp');
  });

  it('a store outage answers 503 replay_store_unavailable', async () => {
    const test = createTestApp({
      overrides: {
        replayStore: {
          claim: async () => {
            const { ProxyServerError } = await import('../src/errors.js');
            throw new ProxyServerError('ERR_REPLAY_STORE_UNAVAILABLE', 'down');
          },
        },
      },
    });
    const key = await modelKey(test, 'ecdsa');
    const client = createE2eeClient('ecdsa', 2);
    const response = await post(
      test,
      client.headers(key),
      client.encryptMessages({ model: 'fake-model', messages: [{ role: 'user', content: 'x' }] }, key),
    );
    expect(response.status).toBe(503);
    expect(await errorType(response)).toBe('replay_store_unavailable');
  });
});

describe('fail closed (D9)', () => {
  it.each(['ecdsa', 'ed25519'] as const)(
    '%s: a wrong client public key is refused before any upstream call; no plaintext anywhere',
    async (algo) => {
      const test = createTestApp();
      const key = await modelKey(test, algo);
      const client = createE2eeClient(algo, 2);
      const body = client.encryptMessages(
        { model: 'fake-model', messages: [{ role: 'user', content: PROMPT }] },
        key,
      );
      // ECDSA: 64 bytes that are not a curve point; Ed25519: a 33-byte key
      const wrongKey = algo === 'ecdsa' ? `${'ff'.repeat(63)}01` : 'ab'.repeat(33);
      const response = await post(test, { ...client.headers(key), 'x-client-pub-key': wrongKey }, body);
      const text = await response.text();
      expect(response.status).toBe(400);
      expect(JSON.parse(text).error.type).toBe('e2ee_invalid_public_key');
      expect(text).not.toContain('ZEBRA');
      expect(test.vllm.requests).toHaveLength(0);
      expect(test.logs.text()).not.toContain('ZEBRA');
      // the nonce was not burned: the same request with the right key succeeds
      expect((await post(test, client.headers(key), body)).status).toBe(200);
    },
  );

  it('a stream chunk that cannot be encrypted ends the stream with an error; no plaintext is sent', async () => {
    const test = createTestApp();
    const key = await modelKey(test, 'ecdsa');
    const client = createE2eeClient('ecdsa', 2);
    const body = client.encryptMessages(
      {
        model: 'fake-model',
        stream: true,
        fake_fault: 'bad-chunk',
        messages: [{ role: 'user', content: PROMPT }],
      },
      key,
    );
    const response = await post(test, client.headers(key), body);
    const text = await response.text();
    const data = sseData(text);
    expect(data).not.toContain('[DONE]');
    expect(JSON.parse(data.at(-1)!).error.type).toBe('upstream_invalid_response');
    expect(text).not.toContain('Simulated');
    expect(text).not.toContain('not json');
    expect(test.logs.text()).not.toContain('ZEBRA');
    expect(test.logs.text()).not.toContain('Simulated reply');
  });
});

describe('stream ends (issue 14)', () => {
  /** An upstream that sends `text` in one piece, then ends cleanly or breaks the connection. */
  function appWithUpstream(text: string, breaks: boolean) {
    return createTestApp({
      overrides: {
        vllm: {
          baseUrl: 'http://cut.test',
          fetch: async () => {
            let sent = false;
            const body = new ReadableStream<Uint8Array>({
              pull(controller) {
                if (!sent) {
                  sent = true;
                  controller.enqueue(new TextEncoder().encode(text));
                } else if (breaks) controller.error(new Error('connection broke'));
                else controller.close();
              },
            });
            return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
          },
        },
      },
    });
  }
  const chunk = JSON.stringify({
    id: 'chatcmpl-crlf',
    object: 'chat.completion.chunk',
    model: 'fake-model',
    choices: [{ index: 0, delta: { content: 'word' } }],
  });

  it.each([
    [
      'a CRLF stream cut right before its last LF is complete (a lone CR ends a line)',
      `data: ${chunk}\r\n\r\ndata: [DONE]\r\n\r`,
      true,
    ],
    ['[DONE] without its blank line is not complete', `data: ${chunk}\n\ndata: [DONE]\n`, false],
    ['[DONE] cut in the middle is not complete', `data: ${chunk}\n\ndata: [DO`, false],
  ])('%s (plain and E2EE, clean end and broken connection)', async (_, upstream, complete) => {
    for (const [e2ee, breaks] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      const test = appWithUpstream(upstream, breaks);
      const key = await modelKey(test, 'ecdsa');
      const client = createE2eeClient('ecdsa', 2);
      const body = { model: 'fake-model', stream: true, messages: [{ role: 'user', content: 'x' }] };
      const response = await post(
        test,
        e2ee ? client.headers(key) : {},
        e2ee ? client.encryptMessages(body, key) : body,
      );
      const data = sseData((await response.text()).replace(/\r\n?/g, '\n'));
      const signature = await test.app.request('/v1/signature/chatcmpl-crlf', { headers: AUTH });
      if (complete) {
        expect(data.at(-1)).toBe('[DONE]');
        expect(signature.status).toBe(200);
      } else {
        expect(JSON.parse(data.at(-1)!).error.type).toBe(
          breaks ? 'upstream_stream_error' : 'upstream_stream_incomplete',
        );
        expect(signature.status).toBe(404);
      }
    }
  });
});
