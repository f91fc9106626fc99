import { Writable } from 'node:stream';
import { createLogger } from '@confidential-ai/server-kit';
import OpenAI from 'openai';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createVeniceProxyApp } from '../src/app.js';
import { loadVeniceProxyConfig } from '../src/config.js';
import { VeniceProxyError } from '../src/errors.js';
import { startVeniceProxy } from '../src/server.js';
import { postChat, startHarness, VENICE_KEY } from './helpers.js';

function sink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return { stream, text: () => lines.join('') };
}

describe('standalone server', () => {
  it('with no Venice key, the embedded fake Venice server is the upstream (offline demo)', async () => {
    const logs = sink();
    const proxy = await startVeniceProxy({
      config: loadVeniceProxyConfig({ env: {} }),
      host: '127.0.0.1',
      port: 0,
      logger: pino({ level: 'info' }, logs.stream),
    });
    try {
      expect(proxy.embeddedVeniceUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
      const openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      const models = await openai.models.list();
      expect(models.data.map((model) => model.id)).toContain('e2ee-qwen3-6-27b');
      const completion = await openai.chat.completions.create({
        model: 'e2ee-qwen3-6-27b',
        messages: [{ role: 'user', content: 'offline' }],
      });
      expect(completion.choices[0]!.message.content).toBe('You said: offline');
      expect(logs.text()).toContain('BUILT-IN SIMULATED Venice');
    } finally {
      await proxy.close();
      await proxy.close();
    }
  });

  it('an empty key with a real base URL stops startup: "Venice API key is not configured"', async () => {
    const config = loadVeniceProxyConfig({
      text: '[venice]\nbase_url = "http://127.0.0.1:9/api/v1"',
      env: {},
    });
    await expect(startVeniceProxy({ config, port: 0, host: '127.0.0.1' })).rejects.toSatisfy(
      (error) =>
        VeniceProxyError.isInstance(error) && (error as Error).message === 'Venice API key is not configured',
    );
  });

  it('venice.simulate = false: no API key stops startup instead of starting the simulated Venice', async () => {
    const config = loadVeniceProxyConfig({ env: { VENICE_E2EE_PROXY__VENICE__SIMULATE: 'false' } });
    expect(config.venice.simulate).toBe(false);
    await expect(startVeniceProxy({ config, port: 0, host: '127.0.0.1' })).rejects.toSatisfy(
      (error) =>
        VeniceProxyError.isInstance(error) &&
        (error as Error).message.includes('venice.api_key (env VENICE_E2EE_PROXY__VENICE__API_KEY)') &&
        (error as Error).message.includes('VENICE_E2EE_PROXY__VENICE__SIMULATE'),
    );
    expect(() => loadVeniceProxyConfig({ env: { VENICE_E2EE_PROXY__VENICE__SIMULATE: 'nope' } })).toThrow(
      /venice\.simulate/,
    );
  });

  it('the redacting logger scrubs the key even if some line carried it', async () => {
    const logs = sink();
    const logger = createLogger({ level: 'debug', secrets: [VENICE_KEY], destination: logs.stream as never });
    logger.info({ header: `Bearer ${VENICE_KEY}` }, 'probe');
    logger.flush?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(logs.text()).toContain('[REDACTED]');
    expect(logs.text()).not.toContain(VENICE_KEY);
  });
});

describe('the Venice key never reaches the logs', () => {
  it('over success, validation, attestation, upstream and tool failures at trace level', async () => {
    const harness = await startHarness();
    try {
      await harness.openai.models.list();
      await harness.openai.chat.completions.create({
        model: 'e2ee-qwen3-6-27b',
        messages: [{ role: 'user', content: `my key is not ${VENICE_KEY.slice(0, 6)}` }],
      });
      await postChat(harness, { model: 'x', messages: [], seed: 1 });
      harness.fake.setFault('not-verified');
      await postChat(harness, { model: 'e2ee-qwen3-6-27b', messages: [{ role: 'user', content: 'x' }] });
      harness.fake.clearFaults();
      harness.fake.setFault('chat-401');
      await postChat(harness, { model: 'e2ee-qwen3-6-27b', messages: [{ role: 'user', content: 'x' }] });
      harness.fake.clearFaults();
      harness.fake.setFault('broken-stream');
      const cut = await postChat(harness, {
        model: 'e2ee-qwen3-6-27b',
        messages: [{ role: 'user', content: 'x' }],
        stream: true,
      });
      await cut.text().catch(() => undefined);
      harness.fake.clearFaults();
      harness.fake.setResponder(() => 'no tool here');
      await postChat(harness, {
        model: 'e2ee-qwen3-6-27b',
        messages: [{ role: 'user', content: 'x' }],
        tools: [{ type: 'function', function: { name: 'f' } }],
        tool_choice: 'required',
      });
    } finally {
      await harness.close();
    }
    const text = harness.logs.text();
    expect(text.length).toBeGreaterThan(0);
    expect(text).toContain('venice request');
    expect(text).not.toContain(VENICE_KEY);
    // No prompt plaintext either.
    expect(text).not.toContain('my key is not');
  });
});

describe('createVeniceProxyApp in process', () => {
  it('serves through app.request and can be mounted under a prefix', async () => {
    const { Hono } = await import('hono');
    const { createFakeVeniceServer } = await import('@confidential-ai/venice-e2ee/testing');
    const fake = await createFakeVeniceServer();
    try {
      const config = loadVeniceProxyConfig({
        text: `[venice]\nbase_url = "${fake.baseUrl}"\napi_key = "k-1234"`,
        env: {},
      });
      const venice = createVeniceProxyApp({ config });
      const root = new Hono();
      root.route('/venice', venice);
      const models = await root.request('/venice/v1/models');
      expect(models.status).toBe(200);
      const chat = await root.request('/venice/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'e2ee-gemma-4-31b', messages: [{ role: 'user', content: 'mounted' }] }),
      });
      const body = (await chat.json()) as { choices: Array<{ message: { content: string } }> };
      expect(body.choices[0]!.message.content).toBe('You said: mounted');
    } finally {
      await fake.close();
    }
  });
});

describe('the `venice` command', () => {
  it('serves with the positional config path and prints one ready line', async () => {
    const { Command } = await import('commander');
    const { registerVeniceCommand } = await import('../src/cli.js');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'venice-cli-'));
    const file = join(dir, 'venice.toml');
    writeFileSync(file, '[server]\nhost = "127.0.0.1"\nport = 0\n[logging]\nlevel = "off"\n');
    const out: string[] = [];
    let running: import('../src/server.js').RunningVeniceProxy | undefined;
    const program = new Command('test').exitOverride();
    registerVeniceCommand(
      program,
      { stdout: (text) => out.push(text), stderr: () => {}, env: {}, handleSignals: false },
      { onVeniceProxy: (proxy) => (running = proxy) },
    );
    await program.parseAsync(['node', 'test', 'venice', file, '--json']);
    try {
      expect(out).toHaveLength(1);
      const { url } = JSON.parse(out[0]!) as { url: string };
      expect(url).toBe(running!.url);
      const models = await fetch(`${url}/v1/models`);
      expect(models.status).toBe(200);
    } finally {
      await running?.close();
    }
    const missing = new Command('test').exitOverride();
    registerVeniceCommand(missing, { stdout: () => {}, stderr: () => {}, env: {}, handleSignals: false });
    await expect(
      missing.parseAsync(['node', 'test', 'venice', '--config', join(dir, 'nope.toml')]),
    ).rejects.toThrow(/nope\.toml/);
  });
});

describe('the built CLI (`venice-e2ee-proxy`, named as the crate)', () => {
  it('prints one ready line, serves, and exits 0 on SIGTERM; a missing file exits 1 naming it', async () => {
    const { spawn } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const bin = fileURLToPath(new URL('../bin/venice-e2ee-proxy.js', import.meta.url));
    const child = spawn(process.execPath, [bin, '--port', '0', '--json'], {
      env: { PATH: process.env['PATH'] ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let stdout = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout!.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          const line = /^(\{.*\})\n/.exec(stdout);
          if (line) resolve((JSON.parse(line[1]!) as { url: string }).url);
        });
        child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: unknown[] };
      expect(models.data.length).toBeGreaterThan(0);
      const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
      expect(stdout.trim().split('\n')).toHaveLength(1);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    const failed = spawn(process.execPath, [bin, '/nonexistent-dir/venice.toml'], {
      env: { PATH: process.env['PATH'] ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    failed.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) =>
      failed.once('exit', (value) => resolve(value)),
    );
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('/nonexistent-dir/venice.toml');
  }, 90_000); // two child processes; slow only when the machine is saturated
});

describe('prepareVeniceMount', () => {
  it('mounts under a prefix of another app, with the embedded fake when no key is set', async () => {
    const { Hono } = await import('hono');
    const { prepareVeniceMount } = await import('../src/server.js');
    const logs = sink();
    const mount = await prepareVeniceMount({
      config: loadVeniceProxyConfig({ env: {} }),
      logger: pino({ level: 'info' }, logs.stream),
    });
    try {
      expect(mount.embeddedVeniceUrl).toBeDefined();
      const root = new Hono();
      root.get('/v1/models', (c) => c.json({ other: true }));
      root.route('/venice', mount.app);
      expect(await (await root.request('/v1/models')).json()).toEqual({ other: true });
      const response = await root.request('/venice/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'e2ee-glm-5-2-p', messages: [{ role: 'user', content: 'composed' }] }),
      });
      expect(response.headers.get('x-venice-proxy-e2ee')).toBe('verified');
      const body = (await response.json()) as { choices: Array<{ message: { content: string } }> };
      expect(body.choices[0]!.message.content).toBe('You said: composed');
    } finally {
      await mount.close();
    }
  });
});
