import { errorForLog } from '@confidential-ai/server-kit';
import { buildGatewayToolCalls, toolCallsOutputContent } from '@confidential-ai/tee-signing';
import type { PaymentTicket } from '../payment-types.js';
import type { ProviderAdapter, ProviderChatRequest, ProviderToolCall, Usage } from '../providers/types.js';
import type { ModelConfig } from '../registry.js';
import type { GatewayRuntime } from '../runtime.js';

/** What {@link streamChatResponse} streams. */
export interface StreamChatOptions {
  /** The model's provider adapter. */
  adapter: ProviderAdapter;
  /** The provider request. */
  request: ProviderChatRequest;
  /** The canonical request the final frame's signature covers. */
  canonical: unknown;
  /** The registry model (charged per usage). */
  model: ModelConfig;
  /** The model name as the client sent it (echoed in every frame). */
  modelEcho: string;
  /** The request JSON (settlement data). */
  requestJson: unknown;
  /** The payment ticket, when x402 is on. */
  ticket: PaymentTicket | undefined;
}

/**
 * The SSE answer of a streamed chat request: a frame per text delta and per complete tool call, then the final frame
 * with the finish reason, usage and the `tee_*` proof over everything sent, then `data: [DONE]`; the session is
 * charged after the stream ends. A provider failure mid-stream ends it with `{"error": "Stream processing failed"}`.
 */
export function streamChatResponse(runtime: GatewayRuntime, options: StreamChatOptions): Response {
  const { adapter, request, canonical, model, modelEcho, requestJson, ticket } = options;
  const encoder = new TextEncoder();
  const headers: Record<string, string> = {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    ...(ticket?.headers() ?? {}),
  };
  const frame = (value: unknown) => encoder.encode(`data: ${JSON.stringify(value)}\n\n`);
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      let text = '';
      const calls: ProviderToolCall[] = [];
      let usage: Usage | undefined;
      try {
        for await (const event of adapter.stream(request)) {
          if (event.type === 'text') {
            text += event.text;
            controller.enqueue(
              frame({
                choices: [
                  { delta: { content: event.text, role: 'assistant' }, index: 0, finish_reason: null },
                ],
                model: modelEcho,
              }),
            );
          } else if (event.type === 'tool_call') {
            const [call] = buildGatewayToolCalls([event.call]);
            calls.push(event.call);
            controller.enqueue(
              frame({
                choices: [
                  {
                    delta: { tool_calls: [{ index: calls.length - 1, ...call }], role: 'assistant' },
                    index: 0,
                    finish_reason: null,
                  },
                ],
                model: modelEcho,
              }),
            );
          } else {
            usage = event.usage;
          }
        }
        const finishReason = calls.length > 0 ? 'tool_calls' : 'stop';
        const output = calls.length > 0 ? toolCallsOutputContent(buildGatewayToolCalls(calls)) : text;
        const tee = await runtime.signer.signResponse({
          canonicalRequest: canonical,
          responseContent: output,
        });
        const final: Record<string, unknown> = {
          choices: [{ delta: {}, index: 0, finish_reason: finishReason }],
          model: modelEcho,
          ...tee,
        };
        if (usage) final['usage'] = usage;
        controller.enqueue(frame(final));
        controller.enqueue(encoder.encode('data: [DONE]\n\n'));
        controller.close();
        if (ticket) {
          await ticket
            .complete({ status: 200, model, usage, tee, requestJson, responseJson: final })
            .catch((error: unknown) =>
              runtime.logger.error({ err: errorForLog(error) }, 'payment accounting failed'),
            );
        }
      } catch (error) {
        runtime.logger.error({ err: errorForLog(error) }, 'stream processing failed');
        try {
          controller.enqueue(frame({ error: 'Stream processing failed' }));
          controller.close();
        } catch {
          // client already gone
        }
      }
    },
  });
  return new Response(stream, { status: 200, headers });
}
