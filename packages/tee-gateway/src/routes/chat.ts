import { randomUUID } from 'node:crypto';
import {
  buildChatCanonicalRequest,
  buildGatewayToolCalls,
  toolCallsOutputContent,
} from '@confidential-ai/tee-signing';
import type { Hono } from 'hono';
import { GatewayHttpError } from '../errors.js';
import type { InferenceGate } from '../inference-gate.js';
import type { ProviderChatRequest } from '../providers/types.js';
import {
  canonicalOrFail,
  effectiveTemperature,
  maxTokensOf,
  mentionsJson,
  readBody,
  toMessages,
  toStop,
  toTools,
} from '../request-body.js';
import type { GatewayRuntime } from '../runtime.js';
import { streamChatResponse } from './chat-stream.js';

/**
 * `POST /v1/chat/completions`: the OpenAI chat request, answered by the model's provider and signed (`tee_*` fields
 * at the top level, or in the final frame of a stream).
 */
export function registerChatRoute(app: Hono, runtime: GatewayRuntime, inference: InferenceGate): void {
  const { gateInference, modelOf, priceReady, finishBuffered } = inference;
  app.post('/v1/chat/completions', async (c) => {
    const gated = await gateInference(c, {
      error: 'Unsupported Media Type',
      message: 'Request must be application/json',
    });
    if (gated.early) return gated.early;
    const ticket = gated.ticket;
    priceReady();
    const { exact, plain } = await readBody(c);
    const model = modelOf(plain['model']);
    const messages = toMessages(plain['messages']);
    const canonical = canonicalOrFail(() => buildChatCanonicalRequest(exact, { includeWebSearch: false }));
    const tools = toTools(plain['tools']);
    let responseFormat: Record<string, unknown> | undefined;
    const rawFormat = plain['response_format'];
    if (
      typeof rawFormat === 'object' &&
      rawFormat !== null &&
      (rawFormat as { type?: unknown }).type !== 'text'
    ) {
      responseFormat = rawFormat as Record<string, unknown>;
      if (responseFormat['type'] === 'json_object') {
        if (model.provider === 'anthropic') {
          throw new GatewayHttpError(
            400,
            "response_format 'json_object' is not supported for Anthropic models; use 'json_schema'",
          );
        }
        if (!mentionsJson(messages)) messages.unshift({ role: 'system', content: 'Respond in JSON format.' });
      }
    }
    const request: ProviderChatRequest = {
      model,
      messages,
      temperature: effectiveTemperature(model, plain['temperature'], 0),
      maxTokens: maxTokensOf(plain['max_tokens'], 4096),
      tools,
      responseFormat,
      stop: toStop(plain['stop']),
      signal: c.req.raw.signal,
    };
    const adapter = runtime.adapterFor(model);
    const modelEcho = plain['model'] as string;

    if (plain['stream'] === true) {
      return streamChatResponse(runtime, {
        adapter,
        request,
        canonical,
        model,
        modelEcho,
        requestJson: plain,
        ticket,
      });
    }

    const result = await adapter.chat(request);
    const toolCalls = buildGatewayToolCalls(result.toolCalls);
    const output = toolCalls.length > 0 ? toolCallsOutputContent(toolCalls) : result.content;
    const tee = await runtime.signer.signResponse({ canonicalRequest: canonical, responseContent: output });
    const message: Record<string, unknown> = { role: 'assistant', content: result.content };
    if (toolCalls.length > 0) message['tool_calls'] = toolCalls;
    const body: Record<string, unknown> = {
      id: `chatcmpl-${randomUUID()}`,
      object: 'chat.completion',
      created: tee.tee_timestamp,
      model: modelEcho,
      choices: [{ index: 0, message, finish_reason: toolCalls.length > 0 ? 'tool_calls' : 'stop' }],
    };
    if (result.usage) body['usage'] = result.usage;
    Object.assign(body, tee);
    return finishBuffered(c, ticket, body, tee, model, result.usage, plain);
  });
}
