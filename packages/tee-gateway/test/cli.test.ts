import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSilentLogger } from '@confidential-ai/server-kit';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addTeeGatewayCommand, loadTeeGatewayConfig, type RunningTeeGatewayServer } from '../src/index.js';

describe('tee-gateway command', () => {
  it('serves with --port 0 --json, prints one ready line, and the server answers', async () => {
    const lines: string[] = [];
    let running: RunningTeeGatewayServer | undefined;
    const program = new Command('confidential-proxy').exitOverride();
    addTeeGatewayCommand(program, {
      stdout: (text) => lines.push(text),
      env: {},
      handleSignals: false,
      logger: createSilentLogger(),
      onTeeGateway: (server) => {
        running = server;
      },
    });
    await program.parseAsync(
      ['tee-gateway', '--port', '0', '--simulate', '--no-x402', '--opg-price-usd', '1', '--json'],
      { from: 'user' },
    );
    expect(lines).toHaveLength(1);
    const { url } = JSON.parse(lines[0]!) as { url: string };
    expect(url).toBe(running!.url);
    const health = (await (await fetch(`${url}/health`)).json()) as {
      status: string;
      price_feed: { price_usd: string };
    };
    expect(health).toMatchObject({ status: 'OK', price_feed: { price_usd: '1' } });
    await running!.close();
  });

  it('merges flags over env over the TOML [tee_gateway] table and rejects bad values with one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tee-gw-'));
    const file = join(dir, 'proxy.toml');
    writeFileSync(
      file,
      '[tee_gateway]\nfacilitator_url = "http://toml.test"\npay_to = "0x0000000000000000000000000000000000000001"\nmax_timeout_seconds = 600\n',
    );
    const config = loadTeeGatewayConfig({
      file,
      env: { FACILITATOR_URL: 'http://env.test/' },
      overrides: { facilitator_url: undefined },
    });
    expect(config.facilitator_url).toBe('http://env.test');
    expect(config.pay_to).toBe('0x0000000000000000000000000000000000000001');
    expect(config.max_timeout_seconds).toBe(600);
    expect(() => loadTeeGatewayConfig({ overrides: { pay_to: 'nope' } })).toThrow(/tee_gateway\.pay_to/);
    expect(() =>
      loadTeeGatewayConfig({ overrides: { max_timeout_seconds: 60, session_stop_margin_seconds: 60 } }),
    ).toThrow(/margins/);
  });
});

describe('the tee-gateway bin', () => {
  it('prints one ready line, serves, and exits 0 on SIGTERM; bad flags exit with a usage error', async () => {
    const { spawn } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const bin = fileURLToPath(new URL('../bin/tee-gateway.js', import.meta.url));
    const child = spawn(
      process.execPath,
      [bin, '--port', '0', '--simulate', '--no-x402', '--opg-price-usd', '1'],
      {
        env: { PATH: process.env['PATH'] ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      let stdout = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout!.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          const line = /^listening on (http:\/\/\S+)\n/.exec(stdout);
          if (line) resolve(line[1]!);
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
    const { runTeeGatewayCli } = await import('../src/index.js');
    let stderr = '';
    const code = await runTeeGatewayCli(['node', 'tee-gateway', '--port', 'http'], {
      stdout: () => {},
      stderr: (text) => {
        stderr += text;
      },
      env: {},
      handleSignals: false,
    });
    expect(code).toBe(2);
    expect(stderr).toContain('expected a port number 0-65535');
  }, 60_000);
});
