import {
  createFakeChutesServer,
  type FakeChutesServer,
  simulatedReplyText,
} from '@confidential-ai/chutes-transport/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../src/index.js';

const API_KEY = `cpk_${'a'.repeat(32)}.${'b'.repeat(32)}.${'C'.repeat(32)}`;
const MODEL = 'fake/echo-model';

let server: FakeChutesServer;
beforeEach(async () => {
  server = await createFakeChutesServer({ apiKey: API_KEY, models: [MODEL] });
});
afterEach(async () => {
  await server.close();
});

async function chat(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(['node', 'chutes', 'chat', ...args], {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    prompt: async () => 'from stdin',
    env: { CHUTES_ALLOW_MISSING: 'true', CHUTES_CONFIG_PATH: '/nonexistent/config.ini', ...env },
  });
  return { code, stdout, stderr };
}

describe('chutes chat through chutes-transport (E2EE) against its fake server', () => {
  it('streams the decrypted answer', async () => {
    const result = await chat([
      MODEL,
      'hello',
      'encrypted',
      'world',
      '--api-key',
      API_KEY,
      '--api-base',
      server.url,
      '--models-base',
      server.url,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `${simulatedReplyText({ messages: [{ role: 'user', content: 'hello encrypted world' }] })}\n`,
    );
    expect(server.stats.streams).toBe(1);
    expect(server.nonceLog.filter((entry) => entry.outcome === 'accepted')).toHaveLength(1);
  });

  it('non-stream --json, prompt from stdin, key from CHUTES_API_KEY', async () => {
    const result = await chat(
      [MODEL, '--no-stream', '--json', '--api-base', server.url, '--models-base', server.url],
      { CHUTES_API_KEY: API_KEY },
    );
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as { content: string; model: string; usage: unknown };
    expect(output.content).toBe(simulatedReplyText({ messages: [{ role: 'user', content: 'from stdin' }] }));
    expect(output.model).toBe(MODEL);
    expect(output.usage).toBeTruthy();
  });

  it('fails clearly without a key, for an unknown model, a wrong key and an unreachable API', async () => {
    let result = await chat([MODEL, 'hi']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('chat needs an API key');
    result = await chat([
      'no/such-model',
      'hi',
      '--api-key',
      API_KEY,
      '--api-base',
      server.url,
      '--models-base',
      server.url,
    ]);
    expect(result.code).toBe(5);
    result = await chat([
      MODEL,
      'hi',
      '--api-key',
      `${API_KEY.slice(0, -1)}D`,
      '--api-base',
      server.url,
      '--models-base',
      server.url,
    ]);
    expect([4, 8]).toContain(result.code);
    expect(result.stderr).toMatch(/^chutes: ERR_HTTP: chat failed/);
    result = await chat([
      MODEL,
      'hi',
      '--api-key',
      API_KEY,
      '--api-base',
      'http://127.0.0.1:1',
      '--models-base',
      'http://127.0.0.1:1',
    ]);
    expect([8, 9]).toContain(result.code);
    expect(result.stderr).toMatch(/^chutes: ERR_[A-Z_]+: /);
  });

  it('tampered stream chunks are a stream error, not plaintext', async () => {
    server.inject({ type: 'tamper-chunk', chunkIndex: 1 });
    const result = await chat([
      MODEL,
      'secret',
      '--api-key',
      API_KEY,
      '--api-base',
      server.url,
      '--models-base',
      server.url,
      '--json',
    ]);
    expect(result.code).toBe(8);
    // Only the failure document reaches stdout: no plaintext of the tampered answer.
    expect(JSON.parse(result.stdout)).toEqual({
      ok: false,
      error: { code: 'ERR_STREAM', message: expect.stringMatching(/^chat failed \(ERR_STREAM_DECRYPT\)/) },
    });
    expect(result.stderr).toMatch(/^chutes: ERR_STREAM: chat failed \(ERR_STREAM_DECRYPT\)/);
  });
});
