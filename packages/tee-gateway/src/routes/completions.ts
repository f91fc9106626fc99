import { randomUUID } from 'node:crypto';
import { buildCompletionsCanonicalRequest } from '@confidential-ai/tee-signing';
import type { Hono } from 'hono';
import { GatewayHttpError } from '../errors.js';
import type { InferenceGate } from '../inference-gate.js';
import type { ProviderChatRequest } from '../providers/types.js';
import { canonicalOrFail, effectiveTemperature, maxTokensOf, readBody, toStop } from '../request-body.js';
import type { GatewayRuntime } from '../runtime.js';

/**
 * `POST /v1/completions`: the prompt goes to the model as one user message (as the reference), the answer is
 * signed over the completions canonical request.
 */
export function registerCompletionsRoute(app: Hono, runtime: GatewayRuntime, inference: InferenceGate): void {
  const { gateInference, modelOf, priceReady, finishBuffered } = inference;
  app.post('/v1/completions', async (c) => {
    const gated = await gateInference(c, { error: 'Request must be application/json' });
    if (gated.early) return gated.early;
    const ticket = gated.ticket;
    priceReady();
    const { exact, plain } = await readBody(c);
    const model = modelOf(plain['model']);
    const prompt = plain['prompt'];
    if (typeof prompt !== 'string') throw new GatewayHttpError(400, "'prompt' must be a string");
    const canonical = canonicalOrFail(() => buildCompletionsCanonicalRequest(exact));
    const temperatureRaw = 'temperature' in plain ? plain['temperature'] : 1;
    const request: ProviderChatRequest = {
      model,
      messages: [{ role: 'user', content: prompt }],
      temperature: effectiveTemperature(model, temperatureRaw, 0),
      maxTokens: maxTokensOf(plain['max_tokens'], 16),
      tools: undefined,
      responseFormat: undefined,
      stop: toStop(plain['stop']),
      signal: c.req.raw.signal,
    };
    const result = await runtime.adapterFor(model).chat(request);
    const tee = await runtime.signer.signResponse({
      canonicalRequest: canonical,
      responseContent: result.content,
    });
    const body: Record<string, unknown> = {
      id: `cmpl-${randomUUID()}`,
      object: 'text_completion',
      created: tee.tee_timestamp,
      model: plain['model'],
      choices: [{ text: result.content, index: 0, finish_reason: 'stop' }],
      usage: result.usage ?? null,
      ...tee,
    };
    return finishBuffered(c, ticket, body, tee, model, result.usage, plain);
  });
}
