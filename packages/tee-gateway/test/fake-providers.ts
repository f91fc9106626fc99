/**
 * One local HTTP server speaking three real provider wire formats, for the adapter tests:
 * - OpenAI Chat Completions at `/openai/v1/chat/completions` (JSON, or SSE with tool-call fragments and a
 *   final usage chunk, as api.openai.com streams with `stream_options.include_usage`);
 * - Anthropic Messages at `/anthropic/v1/messages` (JSON, or the `message_start` / `content_block_*` /
 *   `message_delta` / `message_stop` SSE event sequence);
 * - Gemini at `/gemini/v1beta/models/{model}:generateContent` and `:streamGenerateContent?alt=sse`.
 * A request with tools gets a `get_weather` call with arguments `{"city": "Paris", "unit": "c"}`; otherwise the
 * text `Hello! How can I help?` (split over several stream frames). Every request is recorded.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FAKE_TEXT = 'Hello! How can I help?';
export const FAKE_TEXT_PIECES = ['Hello!', ' How can', ' I help?'];
export const FAKE_ARGS_TEXT = '{"city": "Paris", "unit": "c"}';

export interface RecordedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

export interface FakeProviders {
  url: string;
  requests: RecordedRequest[];
  /** Force the next responses to this HTTP status. */
  failWith: number | undefined;
  close(): Promise<void>;
}

function sse(res: ServerResponse, frames: { event?: string; data: unknown }[]) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const frame of frames) {
    const data = typeof frame.data === 'string' ? frame.data : JSON.stringify(frame.data);
    // Split a few frames across writes to exercise chunk-boundary handling.
    const text = `${frame.event ? `event: ${frame.event}\n` : ''}data: ${data}\n\n`;
    const cut = Math.floor(text.length / 2);
    res.write(text.slice(0, cut));
    res.write(text.slice(cut));
  }
  res.end();
}

function openai(body: Record<string, unknown>, res: ServerResponse) {
  const tools = Array.isArray(body['tools']) && body['tools'].length > 0;
  const usage = { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 };
  const base = { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1, model: body['model'] };
  if (body['stream'] === true) {
    const frames: { data: unknown }[] = [];
    if (tools) {
      frames.push({
        data: {
          ...base,
          choices: [
            {
              index: 0,
              delta: {
                role: 'assistant',
                content: null,
                tool_calls: [
                  {
                    index: 0,
                    id: 'call_1',
                    type: 'function',
                    function: { name: 'get_weather', arguments: '' },
                  },
                ],
              },
              finish_reason: null,
            },
          ],
        },
      });
      for (const piece of ['{"city": ', '"Paris", ', '"unit": "c"}']) {
        frames.push({
          data: {
            ...base,
            choices: [
              {
                index: 0,
                delta: { tool_calls: [{ index: 0, function: { arguments: piece } }] },
                finish_reason: null,
              },
            ],
          },
        });
      }
      frames.push({ data: { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] } });
    } else {
      frames.push({
        data: {
          ...base,
          choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
        },
      });
      for (const piece of FAKE_TEXT_PIECES) {
        frames.push({
          data: { ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] },
        });
      }
      frames.push({ data: { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] } });
    }
    frames.push({ data: { ...base, choices: [], usage } });
    frames.push({ data: '[DONE]' });
    return sse(res, frames);
  }
  const message = tools
    ? {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: FAKE_ARGS_TEXT } },
        ],
      }
    : { role: 'assistant', content: FAKE_TEXT };
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      id: 'chatcmpl-fake',
      object: 'chat.completion',
      created: 1,
      model: body['model'],
      choices: [{ index: 0, message, finish_reason: tools ? 'tool_calls' : 'stop' }],
      usage,
    }),
  );
}

function anthropic(body: Record<string, unknown>, res: ServerResponse) {
  const tools = Array.isArray(body['tools']) ? (body['tools'] as { name: string }[]) : [];
  const forced = (body['tool_choice'] as { name?: string } | undefined)?.name;
  const toolName = forced ?? (tools.length > 0 ? 'get_weather' : undefined);
  const input = forced ? { answer: 'Paris', confidence: 0.9 } : { city: 'Paris', unit: 'c' };
  if (body['stream'] === true) {
    const frames: { event: string; data: unknown }[] = [
      {
        event: 'message_start',
        data: {
          type: 'message_start',
          message: {
            id: 'msg_1',
            type: 'message',
            role: 'assistant',
            content: [],
            model: body['model'],
            stop_reason: null,
            usage: { input_tokens: 15, output_tokens: 1 },
          },
        },
      },
      { event: 'ping', data: { type: 'ping' } },
    ];
    if (toolName) {
      frames.push({
        event: 'content_block_start',
        data: {
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'tool_use', id: 'toolu_1', name: toolName, input: {} },
        },
      });
      const json = JSON.stringify(input);
      for (const piece of [json.slice(0, 5), json.slice(5, 14), json.slice(14)]) {
        frames.push({
          event: 'content_block_delta',
          data: {
            type: 'content_block_delta',
            index: 0,
            delta: { type: 'input_json_delta', partial_json: piece },
          },
        });
      }
      frames.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } });
    } else {
      frames.push({
        event: 'content_block_start',
        data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      });
      for (const piece of FAKE_TEXT_PIECES) {
        frames.push({
          event: 'content_block_delta',
          data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } },
        });
      }
      frames.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } });
    }
    frames.push({
      event: 'message_delta',
      data: {
        type: 'message_delta',
        delta: { stop_reason: toolName ? 'tool_use' : 'end_turn' },
        usage: { output_tokens: 9 },
      },
    });
    frames.push({ event: 'message_stop', data: { type: 'message_stop' } });
    return sse(res, frames);
  }
  const content = toolName
    ? [{ type: 'tool_use', id: 'toolu_1', name: toolName, input }]
    : [{ type: 'text', text: FAKE_TEXT }];
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: body['model'],
      content,
      stop_reason: toolName ? 'tool_use' : 'end_turn',
      usage: { input_tokens: 15, output_tokens: 9 },
    }),
  );
}

function gemini(body: Record<string, unknown>, stream: boolean, res: ServerResponse) {
  const tools = Array.isArray(body['tools']) && body['tools'].length > 0;
  const finalUsage = { promptTokenCount: 8, candidatesTokenCount: 6, totalTokenCount: 14 };
  const candidate = (parts: unknown[], finishReason?: string) => ({
    content: { role: 'model', parts },
    ...(finishReason ? { finishReason } : {}),
    index: 0,
  });
  if (stream) {
    const frames: { data: unknown }[] = [];
    if (tools) {
      frames.push({
        data: {
          candidates: [
            candidate(
              [{ functionCall: { name: 'get_weather', args: { city: 'Paris', unit: 'c' } } }],
              'STOP',
            ),
          ],
          usageMetadata: finalUsage,
        },
      });
    } else {
      FAKE_TEXT_PIECES.forEach((piece, index) => {
        const last = index === FAKE_TEXT_PIECES.length - 1;
        frames.push({
          data: {
            candidates: [candidate([{ text: piece }], last ? 'STOP' : undefined)],
            usageMetadata: last
              ? finalUsage
              : { promptTokenCount: 8, candidatesTokenCount: index + 1, totalTokenCount: 9 + index },
          },
        });
      });
    }
    return sse(res, frames);
  }
  const parts = tools
    ? [{ functionCall: { name: 'get_weather', args: { city: 'Paris', unit: 'c' } } }]
    : [{ text: FAKE_TEXT }];
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      candidates: [candidate(parts, 'STOP')],
      usageMetadata: finalUsage,
      modelVersion: 'fake',
    }),
  );
}

export async function startFakeProviders(): Promise<FakeProviders> {
  const requests: RecordedRequest[] = [];
  const state: FakeProviders = { url: '', requests, failWith: undefined, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        res.writeHead(400).end();
        return;
      }
      const path = req.url ?? '';
      requests.push({ path, headers: req.headers, body });
      if (state.failWith !== undefined) {
        res
          .writeHead(state.failWith, { 'content-type': 'application/json' })
          .end('{"error":{"message":"boom"}}');
        return;
      }
      if (path === '/openai/v1/chat/completions') return openai(body, res);
      if (path === '/anthropic/v1/messages') return anthropic(body, res);
      const match =
        /^\/gemini\/v1beta\/models\/([^:]+):(generateContent|streamGenerateContent\?alt=sse)$/.exec(path);
      if (match) return gemini(body, match[2] !== 'generateContent', res);
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise((resolve) => server.close(() => resolve()));
  return state;
}
