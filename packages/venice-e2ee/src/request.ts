import { VeniceE2eeError } from './errors.js';
import type { ChatRequest } from './types.js';

/** Top-level chat request keys the E2EE path supports (spec section 5.3.1). */
export const ALLOWED_REQUEST_FIELDS: readonly string[] = [
  'max_completion_tokens',
  'max_tokens',
  'messages',
  'metadata',
  'model',
  'parallel_tool_calls',
  'reasoning',
  'reasoning_effort',
  'stop',
  'stream',
  'stream_options',
  'temperature',
  'tool_choice',
  'tools',
  'top_p',
  'venice_parameters',
];

function invalid(message: string, proxyCode = 'invalid_request'): VeniceE2eeError {
  return new VeniceE2eeError('ERR_INVALID_REQUEST', message, { proxyCode });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates a chat request body the way the reference proxy does (spec sections 5.3.1 and 5.3.3): an object
 * with only the supported top-level keys (the first unknown key in sorted order is reported), a non-empty
 * `model` and `messages`, and well-typed sampling fields. Messages, `venice_parameters` and tools are checked
 * later by {@link renderMessages}, {@link buildUpstreamBody} and {@link prepareToolContext}.
 * @throws VeniceE2eeError `ERR_INVALID_REQUEST` (proxy codes `invalid_request`, `unsupported_request_field`).
 * @example
 * ```ts
 * const request = validateChatRequest(JSON.parse(body));
 * ```
 */
export function validateChatRequest(body: unknown): ChatRequest {
  if (!isObject(body)) throw invalid('request body must be a JSON object');
  for (const key of Object.keys(body).sort()) {
    if (!ALLOWED_REQUEST_FIELDS.includes(key))
      throw invalid(`unsupported request field ${key}`, 'unsupported_request_field');
  }
  if (typeof body['model'] !== 'string' || body['model'].length === 0)
    throw invalid('model must be a non-empty string');
  if (!Array.isArray(body['messages']) || body['messages'].length === 0)
    throw invalid('messages must be a non-empty array');
  const optional = (key: string, check: (value: unknown) => boolean, what: string, allowNull = true) => {
    const value = body[key];
    if (value === undefined || (allowNull && value === null)) return;
    if (!check(value)) throw invalid(`${key} must be ${what}`);
  };
  optional('stream', (value) => typeof value === 'boolean', 'a boolean', false);
  optional(
    'stream_options',
    (value) =>
      isObject(value) &&
      Object.keys(value).every((key) => key === 'include_usage') &&
      (value['include_usage'] === undefined || typeof value['include_usage'] === 'boolean'),
    'an object with a boolean include_usage',
  );
  for (const key of ['temperature', 'top_p'])
    optional(key, (value) => typeof value === 'number' && Number.isFinite(value), 'a number');
  for (const key of ['max_tokens', 'max_completion_tokens']) {
    optional(
      key,
      (value) => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0,
      'an unsigned integer',
    );
  }
  optional(
    'stop',
    (value) =>
      typeof value === 'string' || (Array.isArray(value) && value.every((item) => typeof item === 'string')),
    'a string or an array of strings',
  );
  optional(
    'reasoning',
    (value) =>
      isObject(value) &&
      Object.keys(value).every((key) => key === 'enabled' || key === 'effort') &&
      (value['enabled'] === undefined || typeof value['enabled'] === 'boolean') &&
      (value['effort'] === undefined || (typeof value['effort'] === 'string' && value['effort'].length > 0)),
    'an object with optional enabled (boolean) and effort (non-empty string)',
    false,
  );
  optional(
    'reasoning_effort',
    (value) => typeof value === 'string' && value.length > 0,
    'a non-empty string',
  );
  const effort = isObject(body['reasoning']) ? body['reasoning']['effort'] : undefined;
  if (
    typeof effort === 'string' &&
    typeof body['reasoning_effort'] === 'string' &&
    effort !== body['reasoning_effort']
  ) {
    throw invalid('reasoning.effort and reasoning_effort differ');
  }
  optional('metadata', isObject, 'an object');
  optional('venice_parameters', isObject, 'an object', false);
  optional('parallel_tool_calls', (value) => typeof value === 'boolean', 'a boolean');
  optional('tools', Array.isArray, 'an array');
  return body as unknown as ChatRequest;
}
