import { exceedsJsonDepth, JSON_TOO_DEEP, MAX_JSON_DEPTH } from '@confidential-ai/server-kit';
import { parsePythonJson, TeeSigningError } from '@confidential-ai/tee-signing';
import type { Context } from 'hono';
import { GatewayHttpError } from './errors.js';
import type { GatewayMessage, GatewayTool } from './providers/types.js';
import type { ModelConfig } from './registry.js';

// Reading the client's request: the JSON body (exact for canonicalisation, plain for the provider call) and its
// fields, each refused with a 400 in the gateway's flat error shape.

/** True for `application/json` and `application/<x>+json` content types. */
export function isJsonContentType(value: string | undefined): boolean {
  return value !== undefined && /^application\/(?:[\w.+-]+\+)?json\b/i.test(value.trim());
}

/** The request body parsed twice: exactly (Python JSON rules, for the canonical request) and plainly. */
export interface ParsedBody {
  /** Python-exact parse (ints and floats kept apart) for canonicalisation. */
  exact: unknown;
  /** `JSON.parse` result, always an object. */
  plain: Record<string, unknown>;
}

/**
 * Reads and parses the request body: nesting deeper than the ingress bound is 400 `json_too_deep` before parsing;
 * invalid JSON or a non-object is 400.
 * @throws {GatewayHttpError} 400.
 */
export async function readBody(c: Context): Promise<ParsedBody> {
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  const text = new TextDecoder().decode(bytes);
  if (exceedsJsonDepth(text)) {
    throw new GatewayHttpError(400, `JSON body nests deeper than ${MAX_JSON_DEPTH} levels`, {
      extra: { code: JSON_TOO_DEEP },
    });
  }
  let exact: unknown;
  let plain: unknown;
  try {
    exact = parsePythonJson(bytes);
    plain = JSON.parse(text);
  } catch (cause) {
    throw new GatewayHttpError(400, 'Invalid JSON body', { cause });
  }
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    throw new GatewayHttpError(400, 'JSON body must be an object');
  }
  return { exact, plain: plain as Record<string, unknown> };
}

const KNOWN_ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

/**
 * The chat messages for the provider (`developer` becomes `system`); unknown roles are 400.
 * @throws {GatewayHttpError} 400.
 */
export function toMessages(raw: unknown): GatewayMessage[] {
  if (!Array.isArray(raw) || raw.length === 0)
    throw new GatewayHttpError(400, "'messages' must be a non-empty list");
  return raw.map((entry) => {
    if (typeof entry !== 'object' || entry === null)
      throw new GatewayHttpError(400, 'each message must be an object');
    const message = entry as Record<string, unknown>;
    const role = message['role'];
    if (typeof role !== 'string' || !KNOWN_ROLES.has(role)) {
      throw new GatewayHttpError(
        400,
        `Unsupported message role: ${typeof role === 'string' ? role.slice(0, 40) : typeof role}`,
      );
    }
    const out: GatewayMessage = {
      role: role === 'developer' ? 'system' : (role as GatewayMessage['role']),
      content: (message['content'] ?? null) as GatewayMessage['content'],
    };
    if (role === 'assistant' && Array.isArray(message['tool_calls']) && message['tool_calls'].length > 0) {
      out.tool_calls = (message['tool_calls'] as Record<string, unknown>[]).map((call) => {
        const fn = (call['function'] ?? {}) as Record<string, unknown>;
        const args = fn['arguments'];
        return {
          id: String(call['id'] ?? ''),
          type: 'function' as const,
          function: {
            name: String(fn['name'] ?? ''),
            arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}),
          },
        };
      });
    }
    if (typeof message['tool_call_id'] === 'string') out.tool_call_id = message['tool_call_id'];
    if (typeof message['name'] === 'string') out.name = message['name'];
    return out;
  });
}

/**
 * The request's tools (each needs a function with a name), or undefined.
 * @throws {GatewayHttpError} 400.
 */
export function toTools(raw: unknown): GatewayTool[] | undefined {
  if (!Array.isArray(raw) || raw.length === 0) return undefined;
  return raw.map((tool) => {
    const record = (tool ?? {}) as Record<string, unknown>;
    const fn = record['function'];
    if (typeof fn !== 'object' || fn === null || typeof (fn as { name?: unknown }).name !== 'string') {
      throw new GatewayHttpError(400, 'each tool needs a function with a name');
    }
    return {
      type: typeof record['type'] === 'string' ? record['type'] : 'function',
      function: fn as GatewayTool['function'],
    };
  });
}

/** The stop sequences as a list, or undefined. */
export function toStop(raw: unknown): string[] | undefined {
  if (typeof raw === 'string' && raw !== '') return [raw];
  if (Array.isArray(raw) && raw.length > 0 && raw.every((item) => typeof item === 'string'))
    return raw as string[];
  return undefined;
}

/**
 * The temperature sent to the provider: none when the model takes none, the forced one, the request's, else `fallback`.
 * @throws {GatewayHttpError} 400 for a non-number.
 */
export function effectiveTemperature(
  model: ModelConfig,
  requested: unknown,
  fallback: number,
): number | undefined {
  if (model.supportsTemperature === false) return undefined;
  if (model.forceTemperature !== undefined) return model.forceTemperature;
  if (requested === undefined || requested === null) return fallback;
  const value = Number(requested);
  if (!Number.isFinite(value)) throw new GatewayHttpError(400, "'temperature' must be a number");
  return value;
}

/**
 * `max_tokens` of the request, else `fallback`.
 * @throws {GatewayHttpError} 400 for anything but a positive integer.
 */
export function maxTokensOf(raw: unknown, fallback: number): number {
  if (raw === undefined || raw === null) return fallback;
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < 1) {
    throw new GatewayHttpError(400, "'max_tokens' must be a positive integer");
  }
  return raw;
}

/**
 * Runs a canonicalisation; a request tee-signing cannot canonicalise is 400.
 * @throws {GatewayHttpError} 400.
 */
export function canonicalOrFail<T>(build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (TeeSigningError.isInstance(error))
      throw new GatewayHttpError(400, 'Request cannot be canonicalised', { cause: error });
    throw error;
  }
}

/** True when any message mentions JSON (OpenAI's `json_object` rule). */
export function mentionsJson(messages: GatewayMessage[]): boolean {
  return messages.some((message) => {
    const text =
      typeof message.content === 'string' ? message.content : JSON.stringify(message.content ?? '');
    return text.toLowerCase().includes('json');
  });
}
