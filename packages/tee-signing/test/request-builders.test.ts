import { describe, expect, it } from 'vitest';
import {
  buildChatCanonicalRequest,
  buildCompletionsCanonicalRequest,
  canonicalJson,
  canonicalUserContent,
  pyTruthy,
  StreamOutputAccumulator,
} from '../src/index.js';
import { codeOfSync } from './helpers.js';

const chat = (body: unknown, options?: { includeWebSearch?: boolean }) =>
  canonicalJson(buildChatCanonicalRequest(body, options));

describe('chat canonical request', () => {
  it('temperature is always a float; default 0.0; int stays float', () => {
    const messages = [{ role: 'user', content: 'x' }];
    expect(chat({ model: 'm', messages })).toBe(
      '{"messages": [{"content": "x", "role": "user"}], "model": "m", "temperature": 0.0}',
    );
    expect(chat({ model: 'm', messages, temperature: 1 })).toContain('"temperature": 1.0');
    expect(chat({ model: 'm', messages, temperature: null })).toContain('"temperature": 0.0');
    expect(chat({ model: 'm', messages, temperature: '0.25' })).toContain('"temperature": 0.25');
    expect(chat('{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":1e-5}')).toContain(
      '"temperature": 1e-05',
    );
    expect(codeOfSync(() => chat({ model: 'm', messages, temperature: 'hot' }))).toBe(
      'ERR_REQUEST_UNSUPPORTED',
    );
    expect(codeOfSync(() => chat({ model: 'm', messages, temperature: [1] }))).toBe(
      'ERR_REQUEST_UNSUPPORTED',
    );
  });

  it('optional fields follow Python truthiness; max_tokens keeps its kind', () => {
    const base = { model: 'm', messages: [{ role: 'user', content: 'x' }] };
    expect(
      chat({ ...base, max_tokens: 0, stop: [], tools: [], response_format: {}, web_search: false }),
    ).toBe(
      '{"max_tokens": 0, "messages": [{"content": "x", "role": "user"}], "model": "m", "temperature": 0.0}',
    );
    expect(chat('{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":100.0}')).toContain(
      '"max_tokens": 100.0',
    );
    expect(chat({ ...base, stop: 'END', response_format: { type: 'json_object' }, web_search: 1 })).toBe(
      '{"messages": [{"content": "x", "role": "user"}], "model": "m", "response_format": {"type": "json_object"}, "stop": "END", "temperature": 0.0, "web_search": true}',
    );
    expect(chat({ ...base, web_search: true }, { includeWebSearch: false })).not.toContain('web_search');
    expect(codeOfSync(() => chat({ ...base, tools: { type: 'function' } }))).toBe('ERR_REQUEST_UNSUPPORTED');
    // unhashed fields
    expect(chat({ ...base, stream: true, n: 2, top_p: 0.1, tool_choice: 'auto', seed: 1, user: 'u' })).toBe(
      chat(base),
    );
  });

  it('roles', () => {
    const canonical = chat({
      model: 'm',
      messages: [
        { role: 'developer', content: 'd' },
        { role: 'system' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ function: { name: 'f' } }, { id: null, type: 'x', function: { arguments: '{}' } }],
        },
        { role: 'assistant', content: 'hi', tool_calls: [] },
        { role: 'tool', content: 'r' },
        { role: 'function', content: 'c', name: 'n' },
      ],
    });
    expect(canonical).toBe(
      '{"messages": [{"content": "d", "role": "system"}, {"content": null, "role": "system"}, ' +
        '{"content": "", "role": "assistant", "tool_calls": [{"function": {"arguments": "", "name": "f"}, "id": "", "type": "function"}, ' +
        '{"function": {"arguments": "{}", "name": ""}, "id": null, "type": "x"}]}, {"content": "hi", "role": "assistant"}, ' +
        '{"content": "r", "role": "tool", "tool_call_id": null}, {"content": "c", "name": "n", "role": "function"}], "model": "m", "temperature": 0.0}',
    );
    for (const bad of [
      { role: 'robot', content: 'x' },
      { content: 'x' },
      'text',
      { role: 'assistant', tool_calls: [{ function: null }] },
      { role: 'assistant', tool_calls: 'x' },
    ]) {
      expect(
        codeOfSync(() => chat({ model: 'm', messages: [bad] })),
        JSON.stringify(bad),
      ).toBe('ERR_REQUEST_UNSUPPORTED');
    }
  });

  it('request shape errors', () => {
    for (const bad of [
      null,
      [],
      'null',
      '[]',
      { messages: [{ role: 'user', content: 'x' }] },
      { model: '', messages: [{ role: 'user', content: 'x' }] },
      { model: 'm' },
      { model: 'm', messages: [] },
    ]) {
      expect(
        codeOfSync(() => chat(bad)),
        JSON.stringify(bad),
      ).toBe('ERR_REQUEST_UNSUPPORTED');
    }
    expect(codeOfSync(() => chat('{"model":'))).toBe('ERR_JSON_PARSE');
  });

  it('user content parts (L form): text kept, attachments reduced to type and filename', () => {
    expect(
      canonicalJson(
        canonicalUserContent([
          { type: 'text', text: 'a' },
          { type: 'text' },
          { type: 'text', text: null },
          { type: 'image_url', image_url: { url: 'data:...' } },
          { type: 'file', file: { filename: 'f.pdf', file_data: 'AAAA' } },
          { type: 'file', file: { filename: '' }, filename: 'outer.txt' },
          { type: 'input_audio', filename: '' },
          { text: 'no type' },
          'bare',
          7,
          null,
          true,
        ]),
      ),
    ).toBe(
      '[{"text": "a", "type": "text"}, {"text": "", "type": "text"}, {"text": "", "type": "text"}, {"type": "image_url"}, ' +
        '{"filename": "f.pdf", "type": "file"}, {"filename": "outer.txt", "type": "file"}, {"type": "input_audio"}, {"type": null}, ' +
        '{"text": "bare", "type": "text"}, {"text": "7", "type": "text"}, {"text": "None", "type": "text"}, {"text": "True", "type": "text"}]',
    );
    expect(canonicalUserContent(null)).toBe('None');
    expect(canonicalUserContent(1.5)).toBe('1.5');
    expect(codeOfSync(() => canonicalUserContent({ a: 1 }))).toBe('ERR_REQUEST_UNSUPPORTED');
  });
});

describe('completions canonical request', () => {
  it('defaults apply only to absent keys', () => {
    expect(canonicalJson(buildCompletionsCanonicalRequest({ model: 'm', prompt: 'p' }))).toBe(
      '{"max_tokens": 16, "model": "m", "prompt": "p", "temperature": 1.0}',
    );
    expect(
      canonicalJson(
        buildCompletionsCanonicalRequest({ model: 'm', prompt: 'p', temperature: null, max_tokens: null }),
      ),
    ).toBe('{"model": "m", "prompt": "p", "temperature": 0.0}');
    expect(
      canonicalJson(
        buildCompletionsCanonicalRequest({
          prompt: ['a', 'b'],
          temperature: 0.3,
          max_tokens: 5,
          stop: ['x'],
          echo: true,
        }),
      ),
    ).toBe('{"max_tokens": 5, "model": null, "prompt": ["a", "b"], "stop": ["x"], "temperature": 0.3}');
    expect(codeOfSync(() => buildCompletionsCanonicalRequest('[1]'))).toBe('ERR_REQUEST_UNSUPPORTED');
  });
});

describe('stream accumulation', () => {
  it('merges unbuffered fragments by index and sorts', () => {
    const acc = new StreamOutputAccumulator();
    const frame = (delta: unknown, finish: string | null = null) => ({
      choices: [{ delta, index: 0, finish_reason: finish }],
    });
    acc.add(frame({ tool_calls: [{ index: 1, id: 'b', function: { name: 'g', arguments: '{"x"' } }] }));
    acc.add(frame({ tool_calls: [{ index: 0, id: 'a', function: { name: 'f' } }] }));
    acc.add(frame({ tool_calls: [{ index: 1, function: { arguments: ': 1}' } }] }));
    acc.add(frame({ content: 'ignored for tool output' }));
    acc.add(frame({}, 'tool_calls'));
    expect(acc.outputContent()).toBe(
      '[{"function": {"arguments": "", "name": "f"}, "id": "a", "type": "function"}, {"function": {"arguments": "{\\"x\\": 1}", "name": "g"}, "id": "b", "type": "function"}]',
    );
    const text = new StreamOutputAccumulator();
    text.add(frame({ content: 'a' }));
    text.add(frame({ content: 'b' }, 'stop'));
    expect(text.outputContent()).toBe('ab');
    expect(codeOfSync(() => text.add(frame({ tool_calls: [{ index: 'x' }] })))).toBe(
      'ERR_RESPONSE_MALFORMED',
    );
  });

  it('pyTruthy', () => {
    expect([null, undefined, false, 0, 0n, '', [], {}, new Map()].map(pyTruthy)).toEqual(
      Array(9).fill(false),
    );
    expect([Number.NaN, 1, 'a', [0], { a: 0 }, true].map(pyTruthy)).toEqual(Array(6).fill(true));
  });
});
