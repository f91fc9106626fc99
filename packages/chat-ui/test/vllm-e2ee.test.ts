import { describe, expect, it } from 'vitest';
import { ChatPageError } from '../src/page/errors.js';
import { createE2eeClient } from '../src/page/vllm-e2ee.js';
import { serverDecrypt, serverEncrypt, serverKeyPair } from './independent-cipher.js';

// The page's E2EE v2 client against a server side written with node:crypto only; the AAD labels are spelled out
// here from vllm-proxy.md §2.7 (and D3/D7), not built with the code under test.

const NOW = 1_760_000_000_123;

function codeOf(run: () => unknown): string {
  try {
    run();
    return 'none';
  } catch (error) {
    return ChatPageError.isInstance(error) ? error.code : 'other';
  }
}

describe('E2EE v2 requests', () => {
  it('encrypts every message content to the model key under the request AAD, and sends the v2 headers', () => {
    const server = serverKeyPair();
    const client = createE2eeClient({ modelPublicKeyHex: server.publicKeyHex, now: () => NOW });
    const body = {
      model: 'fake-model',
      stream: true,
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Héllo 👋' },
            { type: 'image_url', image_url: { url: 'x' } },
          ],
        },
        { role: 'assistant', content: null },
      ],
    };
    const exchange = client.seal(body);
    const { headers } = exchange;
    expect(headers).toEqual({
      'x-signing-algo': 'ecdsa',
      'x-client-pub-key': client.clientPublicKeyHex,
      'x-model-pub-key': server.publicKeyHex,
      'x-e2ee-version': '2',
      'x-e2ee-nonce': headers['x-e2ee-nonce'],
      'x-e2ee-timestamp': String(Math.floor(NOW / 1000)),
    });
    expect(headers['x-e2ee-nonce']).toMatch(/^[0-9a-f]{32}$/);
    expect(client.clientPublicKeyHex).toMatch(/^[0-9a-f]{128}$/);
    const label = (m: number, c: string) =>
      `v2|req|algo=ecdsa|model=fake-model|m=${m}|c=${c}|n=${headers['x-e2ee-nonce']}|ts=${Math.floor(NOW / 1000)}`;
    const messages = exchange.body.messages as { content: unknown }[];
    expect(serverDecrypt(messages[0]!.content as string, server.ecdh, label(0, '-'))).toBe('Be brief.');
    const parts = messages[1]!.content as { type: string; text?: string; image_url?: unknown }[];
    expect(serverDecrypt(parts[0]!.text!, server.ecdh, label(1, '0'))).toBe('Héllo 👋');
    expect(parts[1]).toEqual({ type: 'image_url', image_url: { url: 'x' } });
    expect(messages[2]!.content).toBeNull();
    expect(exchange.body.stream).toBe(true);
    // The AAD binds the position: the same field does not open as another message's.
    expect(() => serverDecrypt(messages[0]!.content as string, server.ecdh, label(1, '-'))).toThrow();
    // The body handed in is not changed.
    expect(body.messages[0]!.content).toBe('Be brief.');
  });

  it('uses a fresh nonce per request', () => {
    const client = createE2eeClient({ modelPublicKeyHex: serverKeyPair().publicKeyHex });
    const nonces = new Set(
      Array.from({ length: 5 }, () => client.seal({ model: 'm', messages: [] }).headers['x-e2ee-nonce']),
    );
    expect(nonces.size).toBe(5);
  });

  it('accepts the 65-byte form of the model key and refuses anything that is not a secp256k1 key', () => {
    const server = serverKeyPair();
    expect(createE2eeClient({ modelPublicKeyHex: `04${server.publicKeyHex}` }).modelPublicKeyHex).toBe(
      server.publicKeyHex,
    );
    for (const bad of ['', 'zz'.repeat(64), 'ab'.repeat(32), `05${server.publicKeyHex}`])
      expect(codeOf(() => createE2eeClient({ modelPublicKeyHex: bad }))).toBe('ERR_CHAT_E2EE_KEY');
  });
});

describe('E2EE v2 answers', () => {
  function exchangeAndLabel() {
    const server = serverKeyPair();
    const client = createE2eeClient({ modelPublicKeyHex: server.publicKeyHex, now: () => NOW });
    const exchange = client.seal({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }] });
    const nonce = exchange.headers['x-e2ee-nonce'];
    const label = (id: string, choice: number, field: string) =>
      `v2|resp|algo=ecdsa|model=fake-model|id=${id}|choice=${choice}|field=${field}|n=${nonce}|ts=${Math.floor(NOW / 1000)}`;
    return { client, exchange, label };
  }

  it('decrypts content, reasoning_content and reasoning of every choice, by choices[].index (D3, D7)', () => {
    const { client, exchange, label } = exchangeAndLabel();
    const seal = (text: string, choice: number, field: string) =>
      serverEncrypt(text, client.clientPublicKeyHex, label('chat-1', choice, field));
    const completion = {
      id: 'chat-1',
      model: 'fake-model',
      choices: [
        {
          index: 1,
          message: {
            role: 'assistant',
            content: seal('second', 1, 'content'),
            reasoning_content: seal('because', 1, 'reasoning_content'),
            reasoning: seal('so', 1, 'reasoning'),
            tool_calls: [],
          },
        },
        { index: 0, message: { role: 'assistant', content: seal('first', 0, 'content') } },
      ],
    };
    const opened = exchange.open(completion, 'message') as typeof completion;
    expect(opened.choices[0]!.message).toEqual({
      role: 'assistant',
      content: 'second',
      reasoning_content: 'because',
      reasoning: 'so',
      tool_calls: [],
    });
    expect(opened.choices[1]!.message.content).toBe('first');

    const chunk = {
      id: 'chat-1',
      model: 'fake-model',
      choices: [{ index: 0, delta: { content: seal('tok', 0, 'content') } }],
    };
    expect((exchange.open(chunk, 'delta') as typeof chunk).choices[0]!.delta.content).toBe('tok');
  });

  it('fails closed on a field that does not open for this request: tampered, another id, another choice', () => {
    const { client, exchange, label } = exchangeAndLabel();
    const field = serverEncrypt('x', client.clientPublicKeyHex, label('chat-2', 0, 'content'));
    const flipped = `${field.slice(0, -1)}${field.endsWith('0') ? '1' : '0'}`;
    const cases: [string, string, number][] = [
      [flipped, 'chat-2', 0],
      [field, 'chat-3', 0],
      [field, 'chat-2', 1],
      ['not hex', 'chat-2', 0],
    ];
    for (const [content, id, index] of cases) {
      const completion = { id, model: 'fake-model', choices: [{ index, message: { content } }] };
      expect(codeOf(() => exchange.open(completion, 'message'))).toBe('ERR_CHAT_E2EE_DECRYPT');
    }
  });

  it('refuses an answer that is not marked as E2EE v2 (a downgrade)', () => {
    const { exchange } = exchangeAndLabel();
    expect(
      codeOf(() => exchange.checkApplied(new Headers({ 'x-e2ee-applied': 'true', 'x-e2ee-version': '2' }))),
    ).toBe('none');
    for (const headers of [
      {},
      { 'x-e2ee-applied': 'false', 'x-e2ee-version': '2' },
      { 'x-e2ee-applied': 'true', 'x-e2ee-version': '1' },
    ])
      expect(codeOf(() => exchange.checkApplied(new Headers(headers)))).toBe('ERR_CHAT_E2EE_NOT_APPLIED');
  });
});
