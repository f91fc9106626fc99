import { describe, expect, it } from 'vitest';
import { VeniceE2eeError } from './errors.js';
import { decryptField, generateFieldKeyPair } from './field-cipher.js';
import { buildUpstreamBody, renderMessages } from './messages.js';
import { validateChatRequest } from './request.js';

function proxyCodeOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (error) {
    return VeniceE2eeError.isInstance(error) ? error.proxyCode : 'other';
  }
}

const base = { model: 'm', messages: [{ role: 'user', content: 'x' }] };

describe('validateChatRequest', () => {
  it('accepts the supported fields and rejects the rest', () => {
    expect(
      proxyCodeOf(() =>
        validateChatRequest({ ...base, temperature: 0.7, stop: ['a'], stream: false, metadata: null }),
      ),
    ).toBe('ok');
    expect(proxyCodeOf(() => validateChatRequest({ ...base, user: 'u', n: 1 }))).toBe(
      'unsupported_request_field',
    );
    expect(proxyCodeOf(() => validateChatRequest([]))).toBe('invalid_request');
    expect(proxyCodeOf(() => validateChatRequest({ messages: base.messages }))).toBe('invalid_request');
    expect(proxyCodeOf(() => validateChatRequest({ ...base, messages: [] }))).toBe('invalid_request');
    expect(proxyCodeOf(() => validateChatRequest({ ...base, stream: null }))).toBe('invalid_request');
    expect(proxyCodeOf(() => validateChatRequest({ ...base, max_tokens: -1 }))).toBe('invalid_request');
    expect(
      proxyCodeOf(() => validateChatRequest({ ...base, stream_options: { include_usage: true, x: 1 } })),
    ).toBe('invalid_request');
    expect(
      proxyCodeOf(() =>
        validateChatRequest({ ...base, reasoning: { effort: 'high' }, reasoning_effort: 'low' }),
      ),
    ).toBe('invalid_request');
    expect(
      proxyCodeOf(() =>
        validateChatRequest({ ...base, reasoning: { effort: 'high' }, reasoning_effort: 'high' }),
      ),
    ).toBe('ok');
  });
});

describe('renderMessages and buildUpstreamBody', () => {
  it('renders roles and rejects unsupported shapes', () => {
    expect(proxyCodeOf(() => renderMessages([{ role: 'function', content: 'x' }]))).toBe(
      'unsupported_message_role',
    );
    expect(proxyCodeOf(() => renderMessages([{ role: 'user', content: 'x', name: 'n' } as never]))).toBe(
      'unsupported_request_field',
    );
    expect(proxyCodeOf(() => renderMessages([{ role: 'user', content: [] }]))).toBe(
      'unsupported_message_content',
    );
    expect(proxyCodeOf(() => renderMessages([{ role: 'assistant', content: null }]))).toBe(
      'unsupported_message_content',
    );
    expect(
      proxyCodeOf(() =>
        renderMessages([
          {
            role: 'assistant',
            tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{' } }],
          },
        ]),
      ),
    ).toBe('invalid_tool_call_history');
    expect(renderMessages([{ role: 'developer', content: 'd' }])).toEqual([
      { role: 'developer', content: 'd' },
    ]);
    expect(
      renderMessages([
        {
          role: 'assistant',
          content: 'Checking',
          tool_calls: [
            { id: 'a"<', type: 'function', function: { name: 'f&', arguments: '{ "b": 1, "a": [ ] }' } },
          ],
        },
      ])[0]!.content,
    ).toBe(
      'Checking\n\n<previous_tool_call id="a&quot;&lt;" name="f&amp;">\n{"b":1,"a":[]}\n</previous_tool_call>',
    );
  });

  it('builds the upstream body in the reference field order with every content encrypted', () => {
    const model = generateFieldKeyPair();
    const request = { ...base, temperature: 0.5, max_tokens: 10, tools: [], metadata: { session_id: 's' } };
    const body = buildUpstreamBody(request, renderMessages(request.messages), {
      modelPublicKey: model.publicKey,
    });
    expect(Object.keys(body)).toEqual([
      'model',
      'messages',
      'stream',
      'stream_options',
      'venice_parameters',
      'temperature',
      'max_tokens',
    ]);
    expect(body['stream']).toBe(true);
    expect(body['stream_options']).toEqual({ include_usage: true });
    expect(body['venice_parameters']).toEqual({
      enable_e2ee: true,
      include_venice_system_prompt: false,
      strip_thinking_response: false,
      disable_thinking: false,
      enable_web_search: 'off',
    });
    const messages = body['messages'] as Array<{ role: string; content: string }>;
    expect(decryptField(messages[0]!.content, model.privateKey)).toBe('x');
    expect(
      proxyCodeOf(() =>
        buildUpstreamBody({ ...base, venice_parameters: { enable_e2ee: false } }, [], {
          modelPublicKey: model.publicKey,
        }),
      ),
    ).toBe('unsupported_venice_parameter');
    expect(
      proxyCodeOf(() =>
        buildUpstreamBody({ ...base, venice_parameters: { include_venice_system_prompt: true } }, [], {
          modelPublicKey: model.publicKey,
        }),
      ),
    ).toBe('unsupported_venice_parameter');
    expect(
      proxyCodeOf(() =>
        buildUpstreamBody({ ...base, venice_parameters: { other: 1 } }, [], {
          modelPublicKey: model.publicKey,
        }),
      ),
    ).toBe('invalid_request');
  });
});
