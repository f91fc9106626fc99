import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeConfig, loadConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

function issues(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('ERR_CONFIG_INVALID');
    return (error as ConfigError).issues.map((issue) => `${issue.tomlKey}|${issue.envVar ?? ''}`);
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('has the reference defaults', () => {
    const config = loadConfig({ env: {} });
    expect(config.server).toEqual({
      host: '127.0.0.1',
      port: 8000,
      maxRequestBytes: 10 * 1024 * 1024,
      shutdownTimeoutMs: 10_000,
      shutdownDrainMs: 0,
    });
    expect(config.e2ee).toEqual({
      replayWindowSeconds: 300,
      replayCacheSize: 100_000,
      refuseToolCalls: false,
    });
    expect(config.signing.chatCacheExpirationSeconds).toBe(1200);
    expect(config.redis).toMatchObject({ host: undefined, port: 6379, db: 0 });
    expect(config.chutes).toMatchObject({
      enabled: false,
      e2ee: false,
      fallbackModelName: 'chutes',
      baseUrl: undefined,
    });
    expect(config.auth.token).toBeUndefined();
    expect(Object.isFrozen(config.server)).toBe(true);
  });

  it('reads the reference env names; empty values count as unset', () => {
    const config = loadConfig({
      env: {
        TOKEN: 'tok',
        VLLM_BASE_URL: 'http://vllm:8000/',
        MODEL_NAME: 'm',
        CHUTES_ENABLED: 'YES',
        CHUTES_BASE_URL: 'https://llm.example/',
        CHUTES_API_KEY: 'cpk',
        CHUTES_E2EE: 'on',
        REDIS_HOST: 'redis',
        REDIS_PORT: '6380',
        REDIS_PASSWORD: 'pw',
        REDIS_DB: '2',
        E2EE_REPLAY_WINDOW_SECONDS: '60',
        E2EE_REFUSE_TOOL_CALLS: 'yes',
        CHAT_CACHE_EXPIRATION: '30',
        SIGNING_KEY_SEED: 'AB'.repeat(32),
        MODEL_NAME_UNUSED: 'x',
        LOG_LEVEL: '',
        SHUTDOWN_DRAIN_MS: '3000',
      },
    });
    expect(config.server.shutdownDrainMs).toBe(3000);
    expect(config.auth.token).toBe('tok');
    expect(config.vllm).toEqual({ baseUrl: 'http://vllm:8000', modelName: 'm', simulate: true });
    expect(config.chutes).toMatchObject({
      enabled: true,
      baseUrl: 'https://llm.example',
      apiKey: 'cpk',
      e2ee: true,
    });
    expect(config.redis).toMatchObject({ host: 'redis', port: 6380, password: 'pw', db: 2 });
    expect(config.e2ee.replayWindowSeconds).toBe(60);
    expect(config.e2ee.refuseToolCalls).toBe(true);
    expect(loadConfig({ toml: '[e2ee]\nrefuse_tool_calls = true\n' }).e2ee.refuseToolCalls).toBe(true);
    expect(config.signing).toMatchObject({ chatCacheExpirationSeconds: 30, keySeed: 'ab'.repeat(32) });
    expect(config.log.level).toBe('info');
  });

  it('precedence: flags > env > TOML > defaults', () => {
    const toml =
      '[server]\nport = 1111\nhost = "0.0.0.0"\n[vllm]\nmodel_name = "from-toml"\n[chutes]\nenabled = true\n';
    const fromToml = loadConfig({ toml, env: {} });
    expect(fromToml.server.port).toBe(1111);
    expect(fromToml.chutes.enabled).toBe(true);
    const fromEnv = loadConfig({
      toml,
      env: { PROXY_PORT: '2222', MODEL_NAME: 'from-env', CHUTES_ENABLED: 'false' },
    });
    expect(fromEnv.server.port).toBe(2222);
    expect(fromEnv.vllm.modelName).toBe('from-env');
    expect(fromEnv.chutes.enabled).toBe(false);
    const fromFlags = loadConfig({
      toml,
      env: { PROXY_PORT: '2222' },
      overrides: { server: { port: 0, host: undefined } },
    });
    expect(fromFlags.server.port).toBe(0);
    expect(fromFlags.server.host).toBe('0.0.0.0');
  });

  it('reads a TOML file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'proxy-config-'));
    const file = join(dir, 'proxy.toml');
    writeFileSync(file, '[auth]\ntoken = "file-token"\n[e2ee]\nreplay_cache_size = 5\n');
    const config = loadConfig({ file, env: {} });
    expect(config.auth.token).toBe('file-token');
    expect(config.e2ee.replayCacheSize).toBe(5);
    expect(issues(() => loadConfig({ file: join(dir, 'missing.toml'), env: {} }))).toEqual(['(file)|']);
  });

  it('reads relative file paths in the TOML file against that file, env paths against the cwd', () => {
    const dir = mkdtempSync(join(tmpdir(), 'proxy-config-'));
    mkdirSync(join(dir, 'conf'));
    writeFileSync(join(dir, 'conf', 'venice.toml'), '[attestation]\nrequire_tdx = true\n');
    const file = join(dir, 'conf', 'proxy.toml');
    writeFileSync(file, '[venice]\nenabled = true\nconfig = "venice.toml"\n');
    const config = loadConfig({ file, env: {} });
    expect(config.venice.proxy?.attestation.requireTdx).toBe(true);
    // The same relative path from the environment is relative to the working directory (not found there).
    expect(
      issues(() => loadConfig({ file, env: { VENICE_CONFIG: 'venice.toml' } })).some((issue) =>
        issue.startsWith('venice.config'),
      ),
    ).toBe(true);
  });

  it('lists every problem with its TOML key and env var, never the value', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({
        toml: '[server]\nport = "x"\nprot = 1\n[nope]\na = 1\n',
        env: {
          CHUTES_ENABLED: 'maybe',
          E2EE_REFUSE_TOOL_CALLS: 'sometimes',
          VLLM_BASE_URL: 'ftp://user:secretpw@host',
          REDIS_PORT: '99999',
          SIGNING_KEY_SEED: 'short-secret',
          SHUTDOWN_DRAIN_MS: '3s',
        },
      });
    } catch (caught) {
      error = caught as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const keys = error!.issues.map((issue) => `${issue.tomlKey}|${issue.envVar ?? ''}`);
    expect(keys).toEqual(
      expect.arrayContaining([
        'nope|',
        'server.port|PROXY_PORT',
        'server.prot|',
        'vllm.base_url|VLLM_BASE_URL',
        'signing.key_seed|SIGNING_KEY_SEED',
        'redis.port|REDIS_PORT',
        'chutes.enabled|CHUTES_ENABLED',
        'e2ee.refuse_tool_calls|E2EE_REFUSE_TOOL_CALLS',
        'server.shutdown_drain_ms|SHUTDOWN_DRAIN_MS',
      ]),
    );
    expect(error!.message).toContain('chutes.enabled (env CHUTES_ENABLED): expected a boolean');
    expect(error!.message).not.toContain('secretpw');
    expect(error!.message).not.toContain('short-secret');
  });

  it('a TOML syntax error reports only the position (the line may hold a secret)', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({ toml: '[auth]\ntoken = "unterminated-secret\n', env: {} });
    } catch (caught) {
      error = caught as ConfigError;
    }
    expect(error!.message).toMatch(/TOML syntax error at line \d+, column \d+/);
    expect(error!.message).not.toContain('unterminated-secret');
  });

  it('describeConfig hides secrets', () => {
    const config = loadConfig({
      env: {
        TOKEN: 'tok-secret',
        CHUTES_API_KEY: 'cpk-secret',
        REDIS_HOST: 'r',
        REDIS_PASSWORD: 'pw-secret',
        SIGNING_KEY_SEED: 'cd'.repeat(32),
      },
    });
    const text = JSON.stringify(describeConfig(config));
    for (const secret of ['tok-secret', 'cpk-secret', 'pw-secret', 'cd'.repeat(32)])
      expect(text).not.toContain(secret);
    expect(text).toContain('"tokenSet":true');
  });
});
