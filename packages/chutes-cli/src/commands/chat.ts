import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { ChutesCliError } from '../errors.js';
import { httpError } from '../sdk/client.js';
import { loadConfig } from '../sdk/config.js';
import { readSseJson } from '../sdk/sse.js';
import { addFlag } from './shared.js';

/** Default base URL of the OpenAI-compatible LLM router (model list). */
export const DEFAULT_LLM_BASE_URL = 'https://llm.chutes.ai';

interface ChatOptions {
  apiKey?: string;
  apiBase?: string;
  modelsBase?: string;
  configPath?: string;
  system?: string;
  maxTokens?: number;
  temperature?: number;
  stream?: boolean;
  json?: boolean;
}

function transportError(original: unknown): never {
  let error = original;
  for (let cause = original; cause; cause = (cause as { cause?: unknown }).cause) {
    if ((cause as { name?: string })?.name === 'ChutesTransportError') {
      error = cause;
      break;
    }
  }
  if ((error as { name?: string })?.name === 'ChutesTransportError') {
    const transport = error as { code: string; status?: number; message: string };
    const status = transport.status;
    if (transport.code === 'ERR_MODEL_NOT_FOUND') {
      throw new ChutesCliError('ERR_HTTP', `chat failed: ${transport.message}`, {
        status: 404,
        cause: error,
      });
    }
    if (status !== undefined)
      throw new ChutesCliError('ERR_HTTP', `chat failed with HTTP ${status}: ${transport.message}`, {
        status,
        cause: error,
      });
    throw new ChutesCliError('ERR_STREAM', `chat failed (${transport.code}): ${transport.message}`, {
      cause: error,
    });
  }
  if (ChutesCliError.isInstance(error)) throw error;
  if (error instanceof TypeError) {
    throw new ChutesCliError(
      'ERR_NETWORK',
      `chat failed: cannot reach the Chutes API (${(error.cause as { code?: string })?.code ?? error.message})`,
      { cause: error },
    );
  }
  throw error;
}

/** The error event of a stream (the relay's `e2e_error`, as chutes-transport hands it on) as a CLI error. */
function modelError(error: unknown): ChutesCliError {
  const record = (error && typeof error === 'object' ? error : {}) as {
    message?: unknown;
    type?: unknown;
    code?: unknown;
  };
  const message =
    typeof record.message === 'string'
      ? record.message
      : typeof error === 'string'
        ? error
        : JSON.stringify(error);
  const type =
    typeof record.type === 'string'
      ? ` (${record.type}${record.code !== undefined ? ` ${String(record.code)}` : ''})`
      : '';
  return new ChutesCliError('ERR_STREAM', `chat failed: the model answered with an error${type}: ${message}`);
}

/** `chutes chat MODEL [PROMPT...]`: one end-to-end encrypted chat completion through chutes-transport. */
export function registerChatCommand(program: Command, ctx: CliContext): void {
  const command = program
    .command('chat')
    .description(
      'Send a prompt to a deployed model end-to-end encrypted (ML-KEM + ChaCha20-Poly1305) and stream the answer',
    )
    .argument('<model>', 'model name, as listed by /v1/models')
    .argument('[prompt...]', 'the prompt (read from stdin when omitted)')
    .option('--api-key <key>', 'Chutes API key (cpk_...); also CHUTES_API_KEY')
    .option(
      '--api-base <url>',
      'API base for /e2e/* (default: config [api] base_url, CHUTES_API_URL, or https://api.chutes.ai)',
    )
    .option('--models-base <url>', `base of /v1/models (default: CHUTES_LLM_URL or ${DEFAULT_LLM_BASE_URL})`)
    .option('--config-path <path>', 'custom path to the chutes config (only its base_url is used)')
    .option('--system <text>', 'system message')
    .option('--max-tokens <n>', 'max_tokens', (value) => Number.parseInt(value, 10))
    .option('--temperature <t>', 'temperature', (value) => Number(value))
    .option('--stream', 'stream the answer (default)')
    .option('--no-stream', 'wait for the whole answer')
    .option('--json', 'print {model, content, usage} as JSON instead of streaming text');
  addFlag(command, 'debug', 'enable debug logging');
  command.action(async (model: string, promptWords: string[], options: ChatOptions) => {
    const apiKey = options.apiKey || ctx.io.env['CHUTES_API_KEY'];
    if (!apiKey)
      throw new ChutesCliError(
        'ERR_AUTH_REQUIRED',
        'chat needs an API key: pass --api-key or set CHUTES_API_KEY (create one with "chutes keys create")',
      );
    const config = await loadConfig({
      configPath: options.configPath,
      env: ctx.io.env,
      home: ctx.io.home,
      allowMissing: true,
    });
    const apiBase = (options.apiBase ?? config.apiBaseUrl).replace(/\/+$/, '');
    const modelsBase = (options.modelsBase ?? ctx.io.env['CHUTES_LLM_URL'] ?? DEFAULT_LLM_BASE_URL).replace(
      /\/+$/,
      '',
    );
    const prompt = promptWords.length > 0 ? promptWords.join(' ') : (await ctx.io.prompt('> ')).trim();
    if (!prompt) throw new ChutesCliError('ERR_VALIDATION', 'the prompt is empty');
    const stream = options.stream !== false;
    const messages = [
      ...(options.system ? [{ role: 'system', content: options.system }] : []),
      { role: 'user', content: prompt },
    ];
    const body: Record<string, unknown> = { model, messages, stream };
    if (options.maxTokens !== undefined) body['max_tokens'] = options.maxTokens;
    if (options.temperature !== undefined) body['temperature'] = options.temperature;
    const { createChutesFetch } = await import('@confidential-ai/chutes-transport');
    const fetch = createChutesFetch({
      apiKey,
      apiBase,
      modelsBase,
      // Bodies carry the prompt and the answer: never logged, even with --debug.
      fetch: ctx.fetchFor(options, { bodies: false }),
      now: ctx.io.now,
    });
    let content = '';
    let usage: unknown = null;
    try {
      const response = await fetch(`${modelsBase}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
        body: JSON.stringify(body),
      });
      if (response.status !== 200) throw await httpError(response, 'chat');
      if (stream) {
        for await (const event of readSseJson(response.body)) {
          const chunk = event as {
            choices?: Array<{ delta?: { content?: unknown } }>;
            usage?: unknown;
            error?: unknown;
          };
          if (chunk.error !== undefined) {
            if (!options.json && content) ctx.io.stdout('\n');
            throw modelError(chunk.error);
          }
          const delta = chunk.choices?.[0]?.delta?.content;
          if (typeof delta === 'string' && delta.length > 0) {
            content += delta;
            if (!options.json) ctx.io.stdout(delta);
          }
          if (chunk.usage) usage = chunk.usage;
        }
        if (!options.json) ctx.io.stdout('\n');
      } else {
        const data = (await response.json()) as {
          choices?: Array<{ message?: { content?: unknown } }>;
          usage?: unknown;
          error?: unknown;
        };
        if (data.error !== undefined) throw modelError(data.error);
        const text = data.choices?.[0]?.message?.content;
        content = typeof text === 'string' ? text : '';
        usage = data.usage ?? null;
        if (!options.json) ctx.io.stdout(`${content}\n`);
      }
    } catch (error) {
      transportError(error);
    }
    if (options.json) ctx.result(options, { model, content, usage }, '');
  });
}
