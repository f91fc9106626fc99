import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadVeniceProxyConfig, parseHumantimeDuration, pinoLevelFromFilter } from '../src/config.js';
import { VeniceProxyConfigError as ConfigError } from '../src/errors.js';

const DEFAULT_TOML = fileURLToPath(new URL('../config/default.toml', import.meta.url));

/** The crate's defaults (spec section 5.1 table), durations in ms. */
const DEFAULTS = {
  server: { host: '0.0.0.0', port: 8080, authToken: '', allowUnauthenticatedPublicListen: false },
  logging: { level: 'info' },
  venice: { baseUrl: 'https://api.venice.ai/api/v1', apiKey: '', requestTimeoutMs: 30_000, simulate: true },
  keys: { generateProxyInstanceKeyOnStartup: true },
  session: {
    idleTtlMs: 600_000,
    maxTtlMs: 1_800_000,
    maxRequests: 100,
    fallbackScope: 'request',
    headers: { incomingSessionId: 'X-Venice-Proxy-Session-Id' },
  },
  attestation: {
    mode: 'independent',
    requireTdx: false,
    requireNvidia: 'never',
    allowDebug: false,
    pccsUrl: '',
  },
  e2ee: { hkdfInfo: 'ecdsa_encryption', requireEncryptedResponseContent: true },
  tools: {
    enabled: true,
    mode: 'emulated',
    maxRetries: 2,
    toolCallMaxBytes: 65_536,
    toolCallMarkerTimeoutMs: 30_000,
    validateJsonSchema: true,
  },
};

function issuesOf(run: () => unknown) {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

function tempFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'venice-config-'));
  const path = join(dir, 'venice.toml');
  writeFileSync(path, text);
  return path;
}

describe('loadVeniceProxyConfig', () => {
  it('defaults: no file, no env → the crate defaults', () => {
    expect(loadVeniceProxyConfig({ env: {} })).toEqual(DEFAULTS);
  });

  it('the shipped config/default.toml equals the code defaults', () => {
    expect(loadVeniceProxyConfig({ path: DEFAULT_TOML, env: {} })).toEqual(DEFAULTS);
  });

  it('a file sets values; missing sections keep their defaults; the result is frozen', () => {
    const path = tempFile(
      [
        '[server]',
        'host = "127.0.0.1"',
        'port = 9000',
        '[venice]',
        'request_timeout = "1m 30s"',
        '[session]',
        'idle_ttl = "90s"',
        'fallback_scope = "agent"',
        '[session.headers]',
        'incoming_session_id = "X-Agent-Id"',
        '[attestation]',
        'require_nvidia = "when_present"',
        'pccs_url = "https://pccs.example/sgx/certification/v4/"',
        '[tools]',
        'tool_call_marker_timeout = "500ms"',
      ].join('\n'),
    );
    const config = loadVeniceProxyConfig({ path, env: {} });
    expect(config.server).toEqual({
      host: '127.0.0.1',
      port: 9000,
      authToken: '',
      allowUnauthenticatedPublicListen: false,
    });
    expect(config.venice.requestTimeoutMs).toBe(90_000);
    expect(config.session.idleTtlMs).toBe(90_000);
    expect(config.session.fallbackScope).toBe('agent');
    expect(config.session.headers.incomingSessionId).toBe('X-Agent-Id');
    expect(config.attestation.requireNvidia).toBe('when_present');
    expect(config.tools.toolCallMarkerTimeoutMs).toBe(500);
    expect(config.e2ee).toEqual(DEFAULTS.e2ee);
    expect(Object.isFrozen(config.session.headers)).toBe(true);
  });

  it('VENICE_E2EE_PROXY__SECTION__KEY overrides the file, nested tables included', () => {
    const path = tempFile('[server]\nport = 9000\n[tools]\nenabled = true\n');
    const config = loadVeniceProxyConfig({
      path,
      env: {
        VENICE_E2EE_PROXY__SERVER__PORT: '9100',
        VENICE_E2EE_PROXY__TOOLS__ENABLED: 'false',
        VENICE_E2EE_PROXY__VENICE__API_KEY: 'vk-from-env',
        VENICE_E2EE_PROXY__SESSION__HEADERS__INCOMING_SESSION_ID: 'X-From-Env',
        VENICE_E2EE_PROXY__SESSION__IDLE_TTL: '2m',
        UNRELATED_VARIABLE: 'x',
      },
    });
    expect(config.server.port).toBe(9100);
    expect(config.tools.enabled).toBe(false);
    expect(config.venice.apiKey).toBe('vk-from-env');
    expect(config.session.headers.incomingSessionId).toBe('X-From-Env');
    expect(config.session.idleTtlMs).toBe(120_000);
  });

  it('a bad duration is reported with its key and variable', () => {
    expect(
      issuesOf(() => loadVeniceProxyConfig({ text: '[venice]\nrequest_timeout = "30 parsecs"', env: {} })),
    ).toEqual([
      {
        tomlKey: 'venice.request_timeout',
        envVar: 'VENICE_E2EE_PROXY__VENICE__REQUEST_TIMEOUT',
        message: expect.stringContaining('unknown unit'),
      },
    ]);
    const fromEnv = issuesOf(() =>
      loadVeniceProxyConfig({ env: { VENICE_E2EE_PROXY__SESSION__MAX_TTL: '10' } }),
    );
    expect(fromEnv[0]).toMatchObject({
      tomlKey: 'session.max_ttl',
      envVar: 'VENICE_E2EE_PROXY__SESSION__MAX_TTL',
    });
    expect(
      issuesOf(() => loadVeniceProxyConfig({ text: '[session]\nidle_ttl = 600', env: {} }))[0]!.tomlKey,
    ).toBe('session.idle_ttl');
  });

  it('unknown keys and sections are rejected, from the file and from the environment', () => {
    const issues = issuesOf(() =>
      loadVeniceProxyConfig({
        text: '[server]\nhost = "h"\nworkers = 4\n[metrics]\nenabled = true\n',
        env: { VENICE_E2EE_PROXY__TOOLS__STRICT: 'true' },
      }),
    );
    expect(issues.map((issue) => issue.tomlKey).sort()).toEqual([
      'metrics',
      'server.workers',
      'tools.strict',
    ]);
  });

  it('a missing file is reported with its absolute path', () => {
    const path = join(tmpdir(), 'no-such-dir-venice', 'missing.toml');
    const issues = issuesOf(() => loadVeniceProxyConfig({ path, env: {} }));
    expect(issues[0]!.message).toContain(path);
    expect(issues[0]!.message).toContain('not found');
    // A relative path resolves against the working directory.
    const relative = issuesOf(() => loadVeniceProxyConfig({ path: 'missing-venice.toml', env: {} }));
    expect(relative[0]!.message).toContain(join(process.cwd(), 'missing-venice.toml'));
  });

  it('validation rules of the crate (spec 5.1)', () => {
    const cases: Array<[string, string]> = [
      ['[server]\nhost = ""', 'server.host'],
      ['[venice]\nbase_url = "ftp://venice"', 'venice.base_url'],
      ['[session]\nidle_ttl = "0s"', 'session.idle_ttl'],
      ['[session]\nidle_ttl = "1h"\nmax_ttl = "30m"', 'session.idle_ttl'],
      ['[session]\nmax_requests = 0', 'session.max_requests'],
      ['[session]\nfallback_scope = "global"', 'session.fallback_scope'],
      ['[session.headers]\nincoming_session_id = "bad header"', 'session.headers.incoming_session_id'],
      ['[attestation]\nmode = "delegated"', 'attestation.mode'],
      ['[attestation]\nrequire_nvidia = "always"', 'attestation.require_nvidia'],
      ['[attestation]\npccs_url = "pccs.local"', 'attestation.pccs_url'],
      ['[e2ee]\nhkdf_info = ""', 'e2ee.hkdf_info'],
      ['[tools]\nmode = "native"', 'tools.mode'],
      ['[tools]\ntool_call_max_bytes = 0', 'tools.tool_call_max_bytes'],
      ['[tools]\ntool_call_marker_timeout = "0s"', 'tools.tool_call_marker_timeout'],
      ['[tools]\nenabled = "yes"', 'tools.enabled'],
      ['[logging]\nlevel = "venice_e2ee_proxy=loud"', 'logging.level'],
      ['[logging]\nlevel = "a b"', 'logging.level'],
      ['server = 3', 'server'],
    ];
    for (const [text, key] of cases) {
      const issues = issuesOf(() => loadVeniceProxyConfig({ text, env: {} }));
      expect(
        issues.map((issue) => issue.tomlKey),
        text,
      ).toContain(key);
    }
    expect(issuesOf(() => loadVeniceProxyConfig({ text: '[server', env: {} }))[0]!.message).toMatch(
      /invalid TOML/,
    );
  });

  it('errors never echo values (the key may be a secret)', () => {
    const issues = issuesOf(() =>
      loadVeniceProxyConfig({ text: '[venice]\napi_key = 12345678901', env: {} }),
    );
    expect(JSON.stringify(issues)).not.toContain('12345678901');
  });
});

describe('parseHumantimeDuration (humantime crate semantics)', () => {
  it.each([
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['2h 37min', 9_420_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['1day', 86_400_000],
    ['2 weeks', 1_209_600_000],
    ['1sec 500msec', 1_500],
    ['0s', 0],
  ])('%s = %d ms', (text, ms) => {
    expect(parseHumantimeDuration(text)).toBe(ms);
  });

  it.each(['', '30', 's', '1.5s', '-1s', '10 lightyears', '1h x'])('rejects %j', (text) => {
    expect(() => parseHumantimeDuration(text)).toThrow(RangeError);
  });
});

describe('pinoLevelFromFilter', () => {
  it('maps EnvFilter directives to a pino level', () => {
    expect(pinoLevelFromFilter('info')).toBe('info');
    expect(pinoLevelFromFilter('venice_e2ee_proxy=debug,tower_http=warn')).toBe('debug');
    expect(pinoLevelFromFilter('warn,hyper=trace')).toBe('warn');
    expect(pinoLevelFromFilter('off')).toBe('silent');
  });
});
