import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureOutput } from '@confidential-ai/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.js';
import { TOKEN } from './helpers.js';
import { killAllSpawned, spawnServer } from './processes.js';

/** Runs the CLI in-process (same code as the bin) with captured output. */
const run = (args: string[], env: Record<string, string> = {}) =>
  captureOutput((sinks) =>
    runCli(['node', 'confidential-proxy', ...args], { env, ...sinks, handleSignals: false }),
  );

describe('confidential-proxy CLI', () => {
  afterAll(() => killAllSpawned());

  it('serve --config --json: one ready line on stdout, serves, stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'proxy-cli-'));
    const file = join(dir, 'proxy.toml');
    writeFileSync(file, `[auth]\ntoken = "${TOKEN}"\n[log]\nlevel = "warn"\n`);
    const server = await spawnServer({}, ['--config', file, '--host', '127.0.0.1', '--json']);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const root = await fetch(`${server.url}/`);
    expect(await root.json()).toEqual({});
    const models = await fetch(`${server.url}/v1/models`);
    expect(models.status).toBe(200);
    const report = await fetch(`${server.url}/v1/attestation/report`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(report.status).toBe(200);
    expect(await server.stop()).toBe(0);
    expect(server.stderr()).toContain('BUILT-IN SIMULATED vLLM');
    expect(server.stderr()).not.toContain(TOKEN);
  }, 120_000);

  it('SIGTERM with SHUTDOWN_DRAIN_MS: keeps serving (the fast path too) while /health says draining, then exits 0', async () => {
    const server = await spawnServer({ TOKEN, SHUTDOWN_DRAIN_MS: '1500', LOG_LEVEL: 'info' });
    const chat = () =>
      fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }] }),
      });
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const exited = server.stop();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ status: 'draining' });
    const answered = await chat();
    expect(answered.status).toBe(200);
    expect(answered.headers.get('connection')).toBe('close');
    expect(((await answered.json()) as { object: string }).object).toBe('chat.completion');
    expect(
      (await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${TOKEN}` } })).status,
    ).toBe(200);
    expect(await exited).toBe(0);
    await expect(chat()).rejects.toThrow();
    const shuttingDown = server
      .stderr()
      .split('\n')
      .filter((line) => line.includes('shutting down'))
      .map((line) => JSON.parse(line) as { drainMs?: number });
    expect(shuttingDown).toMatchObject([{ drainMs: 1500 }]);
  }, 120_000);

  it('invalid configuration: exit 1 with one line on stderr naming the key and env var', async () => {
    const result = await run(['serve', '--port', '0'], {
      CHUTES_ENABLED: 'perhaps',
      TOKEN: 'super-secret-token',
    });
    expect(result.status).toBe(1);
    expect(JSON.parse(result.stdout).error.code).toBe('ERR_CONFIG_INVALID');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('chutes.enabled (env CHUTES_ENABLED)');
    expect(result.stderr).not.toContain('super-secret-token');
  });

  it('config --json prints the validated configuration without secrets', async () => {
    const result = await run(['config', '--json'], {
      TOKEN: 'super-secret-token',
      CHUTES_API_KEY: 'cpk-secret',
    });
    expect(result.status).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.ok).toBe(true);
    expect(summary.auth).toEqual({ tokenSet: true });
    expect(result.stdout).not.toContain('super-secret-token');
    expect(result.stdout).not.toContain('cpk-secret');
  });

  it('--help lists the options and the env names', async () => {
    const help = await run(['serve', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--config <file>');
    expect(help.stdout).toContain('VLLM_BASE_URL');
  });

  it("venice and tee-gateway are aliases of the packages' own command lines (same options, help, exit codes)", async () => {
    const top = await run(['--help']);
    expect(top.stdout).toMatch(/venice .*Alias of `venice-e2ee-proxy`/);
    expect(top.stdout).toMatch(/tee-gateway .*Alias of `tee-gateway`/);
    const venice = await run(['venice', '--help']);
    expect(venice.status).toBe(0);
    expect(venice.stdout).toContain('Usage: venice-e2ee-proxy [options] [config]');
    expect(venice.stdout).toContain('--insecure-no-auth');
    const gateway = await run(['tee-gateway', '--help']);
    expect(gateway.status).toBe(0);
    expect(gateway.stdout).toContain('Usage: tee-gateway [options]');
    expect(gateway.stdout).toContain('--no-x402');
    const missing = await run(['venice', '/nonexistent-dir/venice.toml']);
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain('/nonexistent-dir/venice.toml');
    const badPort = await run(['tee-gateway', '--port', 'http']);
    expect(badPort.status).toBe(2);
    expect(badPort.stderr).toContain('expected a port number 0-65535');
  });
});
