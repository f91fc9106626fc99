// Configuration that used to fail open: gateway booleans read "ture" as false, a zero OPG price made every request
// free, a configured Chutes key was answered by the simulator, and the standalone faces listened publicly without
// any access control.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@confidential-ai/server-kit';
import { createTeeGateway, loadTeeGatewayConfig } from '@confidential-ai/tee-gateway';
import { loadVeniceProxyConfig, startVeniceProxy } from '@confidential-ai/venice-proxy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRecorder } from '../../tee-gateway/test/helpers.js';
import { runCli } from '../src/cli.js';
import { loadConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';
import { type RunningServer, startServer } from '../src/server.js';
import { captureLogs, TOKEN } from './helpers.js';

function issuesOf(run: () => unknown): { tomlKey: string; envVar: string | undefined; message: string }[] {
  try {
    run();
  } catch (error) {
    expect(ConfigError.isInstance(error) && error instanceof ConfigError).toBe(true);
    return [...(error as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

async function runQuiet(args: string[], env: Record<string, string>) {
  let stdout = '';
  let stderr = '';
  const status = await runCli(['node', 'confidential-proxy', ...args], {
    env,
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    handleSignals: false,
  });
  return { status, stdout, stderr };
}

describe('one strict boolean for every face', () => {
  it('parseBooleanWord knows eight words and nothing else', async () => {
    const { parseBooleanWord } = await import('@confidential-ai/server-kit');
    for (const word of ['1', 'true', 'YES', ' on ']) expect(parseBooleanWord(word)).toBe(true);
    for (const word of ['0', 'False', 'no', 'off']) expect(parseBooleanWord(word)).toBe(false);
    for (const word of ['ture', 'maybe', '', 'enabled', '2']) expect(parseBooleanWord(word)).toBeUndefined();
  });

  it('x402_enabled = "ture" is a startup error, not "payment off"', () => {
    const issues = issuesOf(() =>
      loadConfig({ toml: '[tee_gateway]\nenabled = true\nx402_enabled = "ture"\n', env: {} }),
    );
    expect(issues).toEqual([
      expect.objectContaining({
        tomlKey: 'tee_gateway.x402_enabled',
        message: expect.stringContaining('boolean'),
      }),
    ]);
    // Every other gateway boolean too.
    for (const key of ['simulate', 'register_with_nitriding', 'allow_unauthenticated_public_listen']) {
      const others = issuesOf(() => loadConfig({ toml: `[tee_gateway]\n${key} = "nope"\n`, env: {} }));
      expect(others.map((issue) => issue.tomlKey)).toEqual([`tee_gateway.${key}`]);
    }
  });

  it('TEE_GATEWAY_ENABLED=maybe names the key and the env var', () => {
    const issues = issuesOf(() => loadConfig({ env: { TEE_GATEWAY_ENABLED: 'maybe' } }));
    expect(issues).toEqual([
      expect.objectContaining({ tomlKey: 'tee_gateway.enabled', envVar: 'TEE_GATEWAY_ENABLED' }),
    ]);
  });

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

  it('the Venice face reads env booleans with the same parser (unknown words are errors)', () => {
    const on = loadVeniceProxyConfig({ env: { VENICE_E2EE_PROXY__ATTESTATION__REQUIRE_TDX: 'yes' } });
    expect(on.attestation.requireTdx).toBe(true);
    const issues = issuesOf(() =>
      loadVeniceProxyConfig({ env: { VENICE_E2EE_PROXY__ATTESTATION__REQUIRE_TDX: 'ture' } }),
    );
    expect(issues).toEqual([
      expect.objectContaining({
        tomlKey: 'attestation.require_tdx',
        envVar: 'VENICE_E2EE_PROXY__ATTESTATION__REQUIRE_TDX',
      }),
    ]);
  });
});

describe('numbers and URLs that failed open', () => {
  it('a zero OPG price is refused (failed cost calculations are not charged)', () => {
    for (const price of ['0', '0.0', '000.000']) {
      const issues = issuesOf(() =>
        loadConfig({ toml: `[tee_gateway]\nopg_price_usd = "${price}"\n`, env: {} }),
      );
      expect(issues.map((issue) => issue.tomlKey)).toEqual(['tee_gateway.opg_price_usd']);
    }
    expect(
      loadConfig({ toml: '[tee_gateway]\nopg_price_usd = "0.05"\n', env: {} }).teeGateway.opg_price_usd,
    ).toBe('0.05');
  });

  it('Venice URLs must parse and carry no credentials', () => {
    for (const url of ['https://exa mple.test/api/v1', 'https://user:pw@api.venice.test/api/v1']) {
      const issues = issuesOf(() =>
        loadVeniceProxyConfig({ env: { VENICE_E2EE_PROXY__VENICE__BASE_URL: url } }),
      );
      expect(issues.map((issue) => issue.tomlKey)).toEqual(['venice.base_url']);
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

  it('chutes.simulate cannot be combined with a configured Chutes URL', () => {
    const issues = issuesOf(() =>
      loadConfig({ env: { CHUTES_SIMULATE: '1', CHUTES_BASE_URL: 'https://llm.chutes.test' } }),
    );
    expect(issues).toEqual([
      expect.objectContaining({ tomlKey: 'chutes.base_url', envVar: 'CHUTES_BASE_URL' }),
    ]);
  });
});

describe('simulators never stand in for configured real upstreams', () => {
  let server: RunningServer;
  let chutes: Awaited<ReturnType<typeof startRecorder>>;
  const logs = captureLogs();
  beforeAll(async () => {
    // A stand-in for the real Chutes API: the configured key must reach it, not a simulator.
    chutes = await startRecorder((_call, res) => {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ object: 'list', data: [] }));
    });
  });
  afterAll(async () => {
    await server?.close();
    await chutes?.close();
  });

  it('CHUTES_ENABLED=1 with a key and no base URL uses the real default Chutes API, not the simulator', async () => {
    const config = loadConfig({
      env: { TOKEN, PROXY_PORT: '0', CHUTES_ENABLED: '1', CHUTES_API_KEY: 'cpk_real_key', LOG_LEVEL: 'info' },
    });
    server = await startServer({
      config,
      logger: createLogger({ level: 'info', destination: logs.destination }),
      processMetrics: false,
    });
    expect(server.embeddedChutesUrl).toBeUndefined();
    expect(server.deps.chutes.baseUrl).toBe('https://llm.chutes.ai');
    expect(config.chutes.simulate).toBe(false);
    expect(logs.text()).not.toContain('SIMULATED Chutes');
  });

  it('with a base URL the configured upstream gets the key', async () => {
    const config = loadConfig({
      env: {
        TOKEN,
        PROXY_PORT: '0',
        CHUTES_ENABLED: '1',
        CHUTES_API_KEY: 'cpk_real_key',
        CHUTES_BASE_URL: chutes.url,
        LOG_LEVEL: 'warn',
      },
    });
    const other = await startServer({
      config,
      logger: createLogger({ level: 'warn', destination: captureLogs().destination }),
      processMetrics: false,
    });
    try {
      const response = await fetch(`${other.url}/v1/chutes/models`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(response.status).toBe(200);
      expect(chutes.calls.at(-1)?.headers['authorization']).toBe('Bearer cpk_real_key');
    } finally {
      await other.close();
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
});

// The refusal is decided on the configured host before anything is bound. To run the accepted cases without a
// public socket, they bind the IPv4-mapped loopback written in hex (`::ffff:7f00:1`): the check counts every
// address it cannot prove to be loopback as public, so it treats this one as public too.
const LOOPBACK_IN_DISGUISE = '::ffff:7f00:1';

describe('standalone faces refuse an unprotected public listener', () => {
  it('venice: a non-loopback host needs server.auth_token or the loud opt-out', async () => {
    const config = loadVeniceProxyConfig({ env: {} });
    await expect(startVeniceProxy({ config, host: '0.0.0.0', port: 0 })).rejects.toThrow(
      /refusing to listen on 0\.0\.0\.0/,
    );
    await expect(startVeniceProxy({ config, host: LOOPBACK_IN_DISGUISE, port: 0 })).rejects.toThrow(
      /refusing to listen/,
    );
    const logs = captureLogs();
    const open = await startVeniceProxy({
      config,
      host: LOOPBACK_IN_DISGUISE,
      port: 0,
      allowUnauthenticatedPublicListen: true,
      logger: createLogger({ level: 'warn', destination: logs.destination }),
    });
    await open.close();
    expect(logs.text()).toContain('WITHOUT A CLIENT TOKEN');
    const guarded = await startVeniceProxy({
      config: loadVeniceProxyConfig({
        env: { VENICE_E2EE_PROXY__SERVER__AUTH_TOKEN: 'venice-client-token' },
      }),
      host: LOOPBACK_IN_DISGUISE,
      port: 0,
      logger: createLogger({ level: 'silent' }),
    });
    try {
      const port = new URL(guarded.url).port;
      const anonymous = await fetch(`http://127.0.0.1:${port}/v1/models`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('x-venice-proxy-error-code')).toBe('unauthorized');
      const allowed = await fetch(`http://127.0.0.1:${port}/v1/models`, {
        headers: { authorization: 'Bearer venice-client-token' },
      });
      expect(allowed.status).toBe(200);
    } finally {
      await guarded.close();
    }
  });

  it('the venice command: --insecure-no-auth is the explicit opt-out', async () => {
    const refused = await runQuiet(['venice', '--host', '0.0.0.0', '--port', '0'], {});
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('server.auth_token (env VENICE_E2EE_PROXY__SERVER__AUTH_TOKEN)');
  });

  it('tee-gateway with TOKEN: serves a non-loopback host, the token guards every non-public route', async () => {
    const { Command } = await import('commander');
    const { addTeeGatewayCommand } = await import('@confidential-ai/tee-gateway');
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
      ['tee-gateway', '--host', '0.0.0.0', '--port', '0', '--no-x402', '--opg-price-usd', '1'],
      {},
    );
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('auth.token (env TOKEN)');
    expect(refused.stderr).toContain('refusing to listen on 0.0.0.0');
  });
});
