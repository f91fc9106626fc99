import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, type Harness, postChat, rawError, startHarness, VENICE_KEY } from './helpers.js';

let harness: Harness;
const MODEL = 'e2ee-qwen3-6-27b';
const user = [{ role: 'user', content: 'hi' }];

beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => {
  await harness?.close();
  expect(harness.logs.text()).not.toContain(VENICE_KEY);
});

/** Bodies that must be rejected before anything is sent upstream, with the reference code (spec 5.3, 5.9). */
const CASES: Array<[string, unknown, string]> = [
  ['body not an object', [1, 2], 'invalid_request'],
  [
    'unknown top-level field (first in sorted order)',
    { model: MODEL, messages: user, seed: 1, n: 2 },
    'unsupported_request_field',
  ],
  [
    'response_format',
    { model: MODEL, messages: user, response_format: { type: 'json_object' } },
    'unsupported_request_field',
  ],
  ['missing model', { messages: user }, 'invalid_request'],
  ['empty model', { model: '', messages: user }, 'invalid_request'],
  ['empty messages', { model: MODEL, messages: [] }, 'invalid_request'],
  ['stream null', { model: MODEL, messages: user, stream: null }, 'invalid_request'],
  [
    'stream_options extra key',
    { model: MODEL, messages: user, stream_options: { foo: true } },
    'invalid_request',
  ],
  ['max_tokens negative', { model: MODEL, messages: user, max_tokens: -1 }, 'invalid_request'],
  ['max_tokens fractional', { model: MODEL, messages: user, max_tokens: 1.5 }, 'invalid_request'],
  ['temperature string', { model: MODEL, messages: user, temperature: 'hot' }, 'invalid_request'],
  ['stop number', { model: MODEL, messages: user, stop: 3 }, 'invalid_request'],
  ['reasoning extra key', { model: MODEL, messages: user, reasoning: { budget: 3 } }, 'invalid_request'],
  [
    'reasoning efforts differ',
    { model: MODEL, messages: user, reasoning: { effort: 'low' }, reasoning_effort: 'high' },
    'invalid_request',
  ],
  ['metadata not an object', { model: MODEL, messages: user, metadata: 'x' }, 'invalid_request'],
  [
    'unknown role',
    { model: MODEL, messages: [{ role: 'function', content: 'x' }] },
    'unsupported_message_role',
  ],
  [
    'message extra key',
    { model: MODEL, messages: [{ role: 'user', content: 'x', name: 'bob' }] },
    'unsupported_request_field',
  ],
  [
    'image content part',
    {
      model: MODEL,
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://x' } }] }],
    },
    'unsupported_message_content',
  ],
  [
    'assistant tool_calls with unparseable arguments',
    {
      model: MODEL,
      messages: [
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{bad' } }],
        },
      ],
    },
    'invalid_tool_call_history',
  ],
  [
    'enable_web_search on',
    { model: MODEL, messages: user, venice_parameters: { enable_web_search: 'on' } },
    'unsupported_venice_parameter',
  ],
  [
    'enable_e2ee false',
    { model: MODEL, messages: user, venice_parameters: { enable_e2ee: false } },
    'unsupported_venice_parameter',
  ],
  [
    'include_venice_system_prompt true',
    { model: MODEL, messages: user, venice_parameters: { include_venice_system_prompt: true } },
    'unsupported_venice_parameter',
  ],
  [
    'unknown venice parameter',
    { model: MODEL, messages: user, venice_parameters: { character_slug: 'x' } },
    'invalid_request',
  ],
];

describe('request validation (reference codes, nothing sent upstream)', () => {
  it.each(CASES)('%s → 400 %s', async (_name, body, code) => {
    const before = harness.fake.requests.length;
    const failure = await rawError(await postChat(harness, body));
    expect(failure).toMatchObject({ status: 400, type: 'invalid_request_error', code, header: code });
    expect(typeof failure.body.error['message']).toBe('string');
    expect(harness.fake.requests.length).toBe(before);
  });

  it('the OpenAI SDK sees the same codes', async () => {
    const failure = await errorOf(
      harness.openai.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'x' }],
        n: 2,
      }),
    );
    expect(failure).toEqual({
      status: 400,
      type: 'invalid_request_error',
      code: 'unsupported_request_field',
    });
  });

  it('tool-related 400s happen after attestation (spec 5.4.1)', async () => {
    const before = harness.fake.attestationCount;
    const failure = await rawError(
      await postChat(harness, { model: MODEL, messages: user, tool_choice: 'required' }),
    );
    expect(failure).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'invalid_request' });
    expect(harness.fake.attestationCount).toBe(before + 1);
    const duplicate = await rawError(
      await postChat(harness, {
        model: MODEL,
        messages: user,
        tools: [
          { type: 'function', function: { name: 'f' } },
          { type: 'function', function: { name: 'f' } },
        ],
      }),
    );
    expect(duplicate).toMatchObject({ status: 400, code: 'invalid_request' });
    const strict = await rawError(
      await postChat(harness, {
        model: MODEL,
        messages: user,
        tools: [{ type: 'function', function: { name: 'f', strict: true } }],
      }),
    );
    expect(strict).toMatchObject({ status: 400 });
  });

  it('a non-JSON content type is 415 and broken JSON is 400 (plain-text rejections, like axum)', async () => {
    const wrongType = await harness.raw('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(wrongType.status).toBe(415);
    expect(wrongType.headers.get('content-type')).toMatch(/^text\/plain/);
    const broken = await harness.raw('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":',
    });
    expect(broken.status).toBe(400);
    expect(broken.headers.get('content-type')).toMatch(/^text\/plain/);
  });

  it('a body over 2 MiB is a plain-text 413 (axum default limit)', async () => {
    const response = await postChat(harness, {
      model: MODEL,
      messages: [{ role: 'user', content: 'x'.repeat(2 * 1024 * 1024) }],
    });
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  });

  it('a session header that is not visible ASCII → 400 invalid_session_header', async () => {
    const failure = await rawError(
      await postChat(harness, { model: MODEL, messages: user }, { 'x-venice-proxy-session-id': 'caf\u00e9' }),
    );
    expect(failure).toMatchObject({
      status: 400,
      type: 'invalid_request_error',
      code: 'invalid_session_header',
    });
  });
});

describe('configuration-dependent errors', () => {
  it('fallback_scope = disabled without an id → 400 session_identifier_missing; an id is accepted', async () => {
    const disabled = await startHarness({ toml: '[session]\nfallback_scope = "disabled"' });
    try {
      const failure = await rawError(await postChat(disabled, { model: MODEL, messages: user }));
      expect(failure).toMatchObject({
        status: 400,
        type: 'invalid_request_error',
        code: 'session_identifier_missing',
      });
      const ok = await postChat(disabled, { model: MODEL, messages: user, metadata: { session_id: 's1' } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-venice-proxy-session-scope')).toBe('agent');
    } finally {
      await disabled.close();
    }
  });

  it('no proxy instance key → 500 proxy_instance_key_unavailable after validation', async () => {
    const keyless = await startHarness({
      env: { VENICE_E2EE_PROXY__KEYS__GENERATE_PROXY_INSTANCE_KEY_ON_STARTUP: 'false' },
    });
    try {
      const failure = await rawError(await postChat(keyless, { model: MODEL, messages: user }));
      expect(failure).toMatchObject({
        status: 500,
        type: 'proxy_configuration_error',
        code: 'proxy_instance_key_unavailable',
      });
      // Validation still comes first.
      const invalid = await rawError(await postChat(keyless, { model: MODEL, messages: [] }));
      expect(invalid.status).toBe(400);
      expect(keyless.fake.requests.length).toBe(0);
    } finally {
      await keyless.close();
    }
  });
});
