// Configuration that used to fail open, on the standalone Venice proxy: env booleans, URLs with credentials, and
// a public listener without a client token.
import { createLogger } from '@confidential-ai/server-kit';
import { captureOutput, configIssuesOf } from '@confidential-ai/test-kit';
import { describe, expect, it } from 'vitest';
import { loadVeniceProxyConfig } from '../src/config.js';
import { VeniceProxyConfigError } from '../src/errors.js';
import { runVeniceProxyCli } from '../src/index.js';
import { startVeniceProxy } from '../src/server.js';

const issuesOf = (run: () => unknown) => configIssuesOf(run, VeniceProxyConfigError);

const runQuiet = (args: string[], env: Record<string, string>) =>
  captureOutput((sinks) =>
    runVeniceProxyCli(['node', 'venice-e2ee-proxy', ...args], { env, ...sinks, handleSignals: false }),
  );

function captureLogs() {
  const lines: string[] = [];
  return { destination: { write: (line: string) => void lines.push(line) }, text: () => lines.join('') };
}

// The refusal is decided on the configured host before anything is bound. To run the accepted cases without a
// public socket, they bind the IPv4-mapped loopback written in hex (`::ffff:7f00:1`): the check counts every
// address it cannot prove to be loopback as public, so it treats this one as public too.
const LOOPBACK_IN_DISGUISE = '::ffff:7f00:1';

describe('the standalone Venice proxy fails closed', () => {
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

  it('Venice URLs must parse and carry no credentials', () => {
    for (const url of ['https://exa mple.test/api/v1', 'https://user:pw@api.venice.test/api/v1']) {
      const issues = issuesOf(() =>
        loadVeniceProxyConfig({ env: { VENICE_E2EE_PROXY__VENICE__BASE_URL: url } }),
      );
      expect(issues.map((issue) => issue.tomlKey)).toEqual(['venice.base_url']);
    }
  });

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
    const refused = await runQuiet(['--host', '0.0.0.0', '--port', '0'], {});
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('server.auth_token (env VENICE_E2EE_PROXY__SERVER__AUTH_TOKEN)');
  });
});
