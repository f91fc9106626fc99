import { escapeControlCharacters, isPlainObject } from '@confidential-ai/server-kit';
import { buildResponseAad } from '@confidential-ai/venice-e2ee';
import type { E2eeContext } from './e2ee.js';
import { ApiError } from './errors.js';

/**
 * Fields of `choices[].message` (non-stream) and `choices[].delta` (stream) that carry model text and are
 * encrypted per field, each under its own name as the v2 response AAD `field=` (D3, plus `refusal`). A string is
 * encrypted as is; an array `content` (content parts) is encrypted as its JSON text, the same convention as a
 * request whose decrypted content is a JSON array.
 */
export const ENCRYPTED_RESPONSE_FIELDS = ['content', 'reasoning_content', 'reasoning', 'refusal'] as const;

/** The choice-level field of a completions-shaped choice, encrypted with `field=text`. */
export const ENCRYPTED_CHOICE_FIELDS = ['text'] as const;

type Check = (value: unknown) => boolean;
const anything: Check = () => true;
const isString: Check = (value) => typeof value === 'string';
const isNumber: Check = (value) => typeof value === 'number';
const isStringOrNumber: Check = (value) => typeof value === 'string' || typeof value === 'number';

/**
 * Top-level response fields that stay in the clear, with the type each must have (null is always accepted). The
 * Chutes fields are passed through as they are (D3).
 */
const CLEAR_TOP_LEVEL: Readonly<Record<string, Check>> = {
  id: isString,
  object: isString,
  created: isNumber,
  model: isString,
  system_fingerprint: isString,
  service_tier: isString,
  usage: isPlainObject,
  chutes_verification: anything,
  template_sha256: anything,
  prompt_sha256: anything,
  metadata: anything,
};

/** Choice-level fields that stay in the clear (besides `message`/`delta`, and `text`, which is encrypted). */
const CLEAR_CHOICE: Readonly<Record<string, Check>> = {
  index: (value) => Number.isInteger(value),
  finish_reason: isString,
  stop_reason: isStringOrNumber,
  matched_stop: isStringOrNumber,
};

/** Message/delta fields that stay in the clear: the role, and tool calls (D3; refusable with `refuseToolCalls`). */
const CLEAR_MESSAGE: Readonly<Record<string, Check>> = {
  role: isString,
  tool_calls: Array.isArray,
  function_call: isPlainObject,
};

/** Options of {@link encryptChatResponse}. */
export interface EncryptChatResponseOptions {
  /**
   * Refuse a response that contains a tool call (`tool_calls` or the legacy `function_call`), whose name and
   * arguments E2EE carries in the clear (D3), with 502 `e2ee_tool_call_refused`. Default false.
   */
  refuseToolCalls?: boolean;
}

/** A value that carries no text at all: null, an empty string/array/object, a number or a boolean. */
function carriesNoText(value: unknown): boolean {
  if (value === null || value === '' || typeof value === 'number' || typeof value === 'boolean') return true;
  if (Array.isArray(value)) return value.length === 0;
  return isPlainObject(value) && Object.keys(value).length === 0;
}

function fieldName(name: string): string {
  return escapeControlCharacters(name.length > 64 ? `${name.slice(0, 64)}...` : name);
}

function unencryptable(path: string): ApiError {
  return new ApiError(
    502,
    'e2ee_unencryptable_response',
    `The upstream response has ${path}, which cannot be carried encrypted; the response is refused`,
  );
}

function malformed(path: string): ApiError {
  return new ApiError(502, 'upstream_invalid_response', `The upstream response has a malformed ${path}`);
}

function checkClear(
  record: Record<string, unknown>,
  key: string,
  clear: Readonly<Record<string, Check>>,
  path: string,
): void {
  const value = record[key];
  if (value === null || value === undefined) return;
  const check = clear[key];
  if (check) {
    if (!check(value)) throw malformed(`${path}${fieldName(key)}`);
    return;
  }
  if (!carriesNoText(value)) throw unencryptable(`${path}${fieldName(key)}`);
}

function aadText(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

/** Slot of each encrypted field in a choice's row of cached AAD labels. */
const FIELD_SLOTS: ReadonlyMap<string, number> = new Map([
  ['content', 0],
  ['reasoning_content', 1],
  ['reasoning', 2],
  ['refusal', 3],
  ['text', 4],
]);
/** Choices whose labels are cached (a stream has one, `n` a few); others are built for every field. */
const CACHED_CHOICES = 16;

/** The v2 response AAD labels of one stream's current `model` and `id`, per choice and field slot. */
interface AadLabels {
  model: string;
  id: string;
  readonly byChoice: Array<Array<string | undefined> | undefined>;
}

/**
 * Labels per E2EE context: a stream repeats the same model, id, choice and field in every chunk, so its label is
 * built once (and, being the same string object, is recognised by the encryptor without comparing its text).
 */
const aadLabels = new WeakMap<E2eeContext, AadLabels>();

function buildLabel(context: E2eeContext, model: string, id: string, choice: number, field: string): string {
  return buildResponseAad({
    algo: context.algo,
    model,
    id,
    choice,
    field,
    nonce: context.nonce!,
    timestamp: context.timestamp!,
  });
}

function responseAad(
  context: E2eeContext,
  model: string,
  id: string,
  choice: number,
  field: string,
): string | undefined {
  if (context.version !== 2) return undefined;
  const slot = FIELD_SLOTS.get(field);
  if (slot === undefined || !(choice >= 0 && choice < CACHED_CHOICES)) {
    return buildLabel(context, model, id, choice, field);
  }
  let labels = aadLabels.get(context);
  if (labels === undefined || labels.model !== model || labels.id !== id) {
    labels = { model, id, byChoice: [] };
    aadLabels.set(context, labels);
  }
  let row = labels.byChoice[choice];
  if (row === undefined) {
    row = [];
    labels.byChoice[choice] = row;
  }
  let label = row[slot];
  if (label === undefined) {
    label = buildLabel(context, model, id, choice, field);
    row[slot] = label;
  }
  return label;
}

/** What every field of one response object is encrypted with. */
interface Sealing {
  readonly context: E2eeContext;
  readonly part: 'message' | 'delta';
  readonly refuseToolCalls: boolean;
  readonly model: string;
  readonly id: string;
}

function seal(sealing: Sealing, value: string, index: number, field: string): string {
  return sealing.context.encryptor.encrypt(
    value,
    responseAad(sealing.context, sealing.model, sealing.id, index, field),
  );
}

/**
 * Encrypts, in place, every field of an upstream chat response object (non-stream, `part: 'message'`) or stream
 * chunk (`part: 'delta'`) that carries model text, and refuses the object when any field that could carry text
 * cannot be encrypted in the per-field format:
 *
 * - encrypted (v2 AAD `field=` the field name, `choice=` `choices[].index` (D7)): `content`, `reasoning_content`,
 *   `reasoning` and `refusal` of each message/delta (an array `content` as its JSON text), and a choice-level
 *   `text`. In a delta an empty-string `content` is removed first (as the reference);
 * - clear: the top-level `id`, `object`, `created`, `model`, `system_fingerprint`, `service_tier`, `usage` and
 *   the Chutes fields `chutes_verification`, `template_sha256`, `prompt_sha256`, `metadata` (D3); the choice's
 *   `index`, `finish_reason`, `stop_reason`, `matched_stop`; the message's `role` and its tool calls (D3);
 * - any other field must carry no text (null, empty, a number or a boolean), else 502
 *   `e2ee_unencryptable_response` (this covers `logprobs`, `audio`, `annotations`, `prompt_logprobs`, token ids
 *   and unknown fields); a clear field of the wrong type is 502 `upstream_invalid_response`; an upstream `error`
 *   object is 502 `upstream_error` (its message is withheld: it could quote the prompt).
 *
 * @throws {ApiError} as listed above, or `e2ee_tool_call_refused` with `refuseToolCalls`. Callers must fail
 *   closed on any throw (nothing of the object may be sent).
 */
export function encryptChatResponse(
  payload: Record<string, unknown>,
  context: E2eeContext,
  part: 'message' | 'delta',
  options: EncryptChatResponseOptions = {},
): void {
  if (payload.error !== undefined && payload.error !== null) {
    throw new ApiError(
      502,
      'upstream_error',
      'The upstream reported an error; its message is withheld in E2EE mode',
    );
  }
  for (const key of Object.keys(payload)) {
    if (key !== 'choices') checkClear(payload, key, CLEAR_TOP_LEVEL, '');
  }
  const choices = payload.choices;
  if (choices === undefined || choices === null) return;
  if (!Array.isArray(choices)) throw malformed('choices');
  const sealing: Sealing = {
    context,
    part,
    refuseToolCalls: options.refuseToolCalls === true,
    model: aadText(payload.model),
    id: aadText(payload.id),
  };
  for (let position = 0; position < choices.length; position++) {
    encryptChoice(sealing, choices[position], position);
  }
}

function encryptChoice(sealing: Sealing, choice: unknown, position: number): void {
  if (!isPlainObject(choice)) throw malformed(`choices[${position}]`);
  const index = Number.isInteger(choice.index) ? (choice.index as number) : position;
  const { part } = sealing;
  for (const key of Object.keys(choice)) {
    const value = choice[key];
    if (key === part) {
      if (value === null || value === undefined) continue;
      if (!isPlainObject(value)) throw malformed(`choices[${position}].${part}`);
      encryptMessage(sealing, value, index, position);
    } else if (key === 'text') {
      if (typeof value === 'string') choice[key] = seal(sealing, value, index, key);
      else if (value !== null && value !== undefined) throw unencryptable(`choices[${position}].text`);
    } else {
      checkClear(choice, key, CLEAR_CHOICE, `choices[${position}].`);
    }
  }
}

function encryptMessage(
  sealing: Sealing,
  fields: Record<string, unknown>,
  index: number,
  position: number,
): void {
  if (sealing.part === 'delta' && fields.content === '') delete fields.content;
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if ((ENCRYPTED_RESPONSE_FIELDS as readonly string[]).includes(key)) {
      if (typeof value === 'string') fields[key] = seal(sealing, value, index, key);
      else if (key === 'content' && Array.isArray(value))
        fields[key] = seal(sealing, JSON.stringify(value), index, key);
      else if (value !== null && value !== undefined)
        throw unencryptable(`choices[${position}].${sealing.part}.${key}`);
      continue;
    }
    checkClear(fields, key, CLEAR_MESSAGE, `choices[${position}].${sealing.part}.`);
    if (
      sealing.refuseToolCalls &&
      (key === 'tool_calls' || key === 'function_call') &&
      !carriesNoText(value) &&
      value !== undefined
    ) {
      throw new ApiError(
        502,
        'e2ee_tool_call_refused',
        'The response contains a tool call, whose name and arguments E2EE would carry in the clear; refused by e2ee.refuse_tool_calls',
      );
    }
  }
}
