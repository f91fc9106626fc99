// Configuration that used to fail open in the composed server: gateway booleans read "ture" as false, a zero OPG
// price made every request free, a configured Chutes key was answered by the simulator. (The standalone faces'
// cases live in their packages' tests; here the aliases that run them.)
import { createLogger } from '@confidential-ai/server-kit';
import { startRecorder } from '@confidential-ai/tee-gateway/testing';
import { captureOutput, configIssuesOf } from '@confidential-ai/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.js';
import { loadConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';
import { type RunningServer, startServer } from '../src/server.js';
import { captureLogs, TOKEN } from './helpers.js';

const issuesOf = (run: () => unknown) => configIssuesOf(run, ConfigError);

const runQuiet = (args: string[], env: Record<string, string>) =>
  captureOutput((sinks) =>
    runCli(['node', 'confidential-proxy', ...args], { env, ...sinks, handleSignals: false }),
  );

describe('one strict boolean for every face', () => {
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
});

describe('vllm.simulate = false: no simulated vLLM, ever', () => {
  it('without VLLM_BASE_URL start-up stops, naming the key and its env var', async () => {
    const issues = issuesOf(() => loadConfig({ env: { VLLM_SIMULATE: 'false' } }));
    expect(issues).toEqual([expect.objectContaining({ tomlKey: 'vllm.base_url', envVar: 'VLLM_BASE_URL' })]);
    const refused = await runQuiet(['serve', '--port', '0'], { TOKEN, VLLM_SIMULATE: '0' });
    expect(refused.status).toBe(1);
    expect(refused.stdout).not.toContain('listening');
    expect(refused.stderr).toContain('vllm.base_url (env VLLM_BASE_URL)');
    expect(refused.stderr).not.toContain('SIMULATED vLLM');
  });

  it('a configuration built in code is refused by startServer too', async () => {
    const config = loadConfig({ env: { TOKEN, PROXY_PORT: '0' } });
    const noSimulator = { ...config, vllm: { ...config.vllm, simulate: false } };
    const logs = captureLogs();
    await expect(
      startServer({
        config: noSimulator,
        logger: createLogger({ level: 'info', destination: logs.destination }),
        processMetrics: false,
      }),
    ).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID' });
    expect(logs.text()).not.toContain('SIMULATED vLLM');
  });

  it('a configured VLLM_BASE_URL is used with VLLM_SIMULATE=false; a typo in the boolean is refused', () => {
    const config = loadConfig({ env: { VLLM_SIMULATE: 'false', VLLM_BASE_URL: 'http://127.0.0.1:9' } });
    expect(config.vllm).toMatchObject({ baseUrl: 'http://127.0.0.1:9', simulate: false });
    expect(issuesOf(() => loadConfig({ env: { VLLM_SIMULATE: 'flase' } }))).toEqual([
      expect.objectContaining({ tomlKey: 'vllm.simulate', envVar: 'VLLM_SIMULATE' }),
    ]);
  });
});

describe('the aliases run the standalone faces, which refuse an unprotected public listener', () => {
  it('confidential-proxy venice: a non-loopback host needs server.auth_token', async () => {
    const refused = await runQuiet(['venice', '--host', '0.0.0.0', '--port', '0'], {});
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('server.auth_token (env VENICE_E2EE_PROXY__SERVER__AUTH_TOKEN)');
  });

  it('confidential-proxy tee-gateway: a non-loopback host needs x402, TOKEN, or --insecure-no-auth', async () => {
    const refused = await runQuiet(
      ['tee-gateway', '--host', '0.0.0.0', '--port', '0', '--no-x402', '--opg-price-usd', '1'],
      {},
    );
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('auth.token (env TOKEN)');
    expect(refused.stderr).toContain('refusing to listen on 0.0.0.0');
  });
});
