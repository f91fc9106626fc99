// Configuration that used to fail open, on the standalone gateway: booleans read "ture" as false, a facilitator
// URL that was not a URL, the simulator answering next to real providers, and a public listener without any
// access control.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@confidential-ai/server-kit';
import { captureOutput, configIssuesOf } from '@confidential-ai/test-kit';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  addTeeGatewayCommand,
  createTeeGateway,
  loadTeeGatewayConfig,
  runTeeGatewayCli,
  TeeGatewayConfigError,
} from '../src/index.js';

const issuesOf = (run: () => unknown) => configIssuesOf(run, TeeGatewayConfigError);

const runQuiet = (args: string[], env: Record<string, string>) =>
  captureOutput((sinks) =>
    runTeeGatewayCli(['node', 'tee-gateway', ...args], { env, ...sinks, handleSignals: false }),
  );

// The refusal is decided on the configured host before anything is bound. To run the accepted cases without a
// public socket, they bind the IPv4-mapped loopback written in hex (`::ffff:7f00:1`): the check counts every
// address it cannot prove to be loopback as public, so it treats this one as public too.
const LOOPBACK_IN_DISGUISE = '::ffff:7f00:1';

describe('the standalone gateway fails closed', () => {
  it('the standalone tee-gateway command names key and env var the same way', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gateway-bool-'));
    const file = join(dir, 'gateway.toml');
    writeFileSync(file, '[tee_gateway]\nx402_enabled = "ture"\n');
    const issues = issuesOf(() => loadTeeGatewayConfig({ file, env: {} }));
    expect(issues).toEqual([expect.objectContaining({ tomlKey: 'tee_gateway.x402_enabled' })]);
    const price = issuesOf(() => loadTeeGatewayConfig({ env: { OPG_PRICE_USD: 'cheap' } }));
    expect(price.length).toBeGreaterThan(0);
    for (const issue of price) {
      expect(issue).toMatchObject({ tomlKey: 'tee_gateway.opg_price_usd', envVar: 'OPG_PRICE_USD' });
    }
  });

  it('POST /v1/keys refuses a facilitator_url that is not an http(s) URL, without using up the one call', async () => {
    const gateway = await createTeeGateway({
      config: { enabled: true, x402_enabled: false, opg_price_usd: '1' },
    });
    const { serveApp } = await import('../../tee-gateway/test/helpers.js');
    const served = await serveApp(gateway.app);
    try {
      const keys = (body: unknown) =>
        fetch(`${served.url}/v1/keys`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const bad = await keys({ openai_api_key: 'k', facilitator_url: 'javascript:alert(1)' });
      expect(bad.status).toBe(400);
      expect(gateway.isInitialized()).toBe(false);
      const good = await keys({ openai_api_key: 'k', facilitator_url: 'https://facilitator.test/' });
      expect(good.status).toBe(200);
    } finally {
      await served.close();
      await gateway.close();
    }
  });

  it('the gateway simulator stops answering once a real provider key is injected', async () => {
    const gateway = await createTeeGateway({
      config: { enabled: true, simulate: true, x402_enabled: false, opg_price_usd: '1' },
    });
    const { serveApp } = await import('../../tee-gateway/test/helpers.js');
    const served = await serveApp(gateway.app);
    const chat = (model: string) =>
      fetch(`${served.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
      });
    try {
      expect((await chat('claude-sonnet-4-5')).status).toBe(200);
      const keys = await fetch(`${served.url}/v1/keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ openai_api_key: 'sk-real' }),
      });
      expect(keys.status).toBe(200);
      const anthropic = await chat('claude-sonnet-4-5');
      expect(anthropic.status).toBe(503);
      expect(await anthropic.json()).toEqual({ error: "Provider 'anthropic' is not configured" });
    } finally {
      await served.close();
      await gateway.close();
    }
  });

  it('tee-gateway with TOKEN: serves a non-loopback host, the token guards every non-public route', async () => {
    let running: { url: string; close(): Promise<void> } | undefined;
    const program = new Command('confidential-proxy').exitOverride();
    addTeeGatewayCommand(program, {
      stdout: () => {},
      env: { TOKEN: 'gateway-client-token' },
      handleSignals: false,
      logger: createLogger({ level: 'silent' }),
      onTeeGateway: (server) => {
        running = server;
      },
    });
    await program.parseAsync(
      [
        'tee-gateway',
        '--host',
        LOOPBACK_IN_DISGUISE,
        '--port',
        '0',
        '--simulate',
        '--no-x402',
        '--opg-price-usd',
        '1',
      ],
      { from: 'user' },
    );
    try {
      const base = `http://127.0.0.1:${new URL(running!.url).port}`;
      expect((await fetch(`${base}/health`)).status).toBe(200);
      const chat = (headers: Record<string, string>) =>
        fetch(`${base}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }),
        });
      expect((await chat({})).status).toBe(401);
      expect((await chat({ authorization: 'Bearer gateway-client-token' })).status).toBe(200);
      const keys = await fetch(`${base}/v1/keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ openai_api_key: 'sk-attacker' }),
      });
      expect(keys.status).toBe(401);
    } finally {
      await running?.close();
    }
  });

  it('tee-gateway: a non-loopback host needs x402, TOKEN, or --insecure-no-auth', async () => {
    const refused = await runQuiet(
      ['--host', '0.0.0.0', '--port', '0', '--no-x402', '--opg-price-usd', '1'],
      {},
    );
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('auth.token (env TOKEN)');
    expect(refused.stderr).toContain('refusing to listen on 0.0.0.0');
  });
});
