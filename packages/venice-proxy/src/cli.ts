import { announceAndStopOnSignals, parsePort, type ServeIo } from '@confidential-ai/server-kit';
import type { Command } from 'commander';
import { loadVeniceProxyConfig } from './config.js';
import { type RunningVeniceProxy, startVeniceProxy } from './server.js';

/** Streams the `venice` command uses (injectable for tests). */
export interface VeniceCliIo extends ServeIo {
  /** Environment (`VENICE_E2EE_PROXY__*`). */
  env: Readonly<Record<string, string | undefined>>;
  /** Standard error (one-line failure reasons). */
  stderr?: (text: string) => void;
}

/** Hooks of {@link registerVeniceCommand} (also read from the `io` object, so `runCli(argv, io)` can pass them). */
export interface VeniceCommandHooks {
  /** Called with the running proxy (tests). */
  onVeniceProxy?: (proxy: RunningVeniceProxy) => void;
}

/**
 * Adds `venice [config.toml]` to a commander program: the `venice-e2ee-proxy` compatible standalone proxy.
 * The configuration path is the single positional argument (or `--config`); `VENICE_E2EE_PROXY__*`
 * variables override it. `--host`/`--port` override `[server]`. Prints one ready line
 * (`listening on http://HOST:PORT`, or `{"url":...}` with `--json`) and stops cleanly on SIGTERM/SIGINT.
 * With no Venice key, the embedded fake Venice server is the upstream. A non-loopback `--host`/`server.host`
 * needs `server.auth_token` (clients send it as a Bearer token) or the loud opt-out `--insecure-no-auth`.
 * @example
 * ```ts
 * const program = new Command('confidential-proxy');
 * registerVeniceCommand(program, { stdout, stderr, env: process.env });
 * ```
 */
export function registerVeniceCommand(
  program: Command,
  io: VeniceCliIo,
  hooks: VeniceCommandHooks = {},
): Command {
  return program
    .command('venice')
    .description(
      'Serve the Venice E2EE proxy (venice-e2ee-proxy 0.1.1 compatible). Configuration: the TOML file, then ' +
        'VENICE_E2EE_PROXY__SECTION__KEY variables. With no venice.api_key, a built-in simulated Venice server is used.',
    )
    .argument('[config]', 'TOML configuration file (like the crate’s positional argument)')
    .option('-c, --config <file>', 'TOML configuration file')
    .option(
      '--host <host>',
      'interface to bind (overrides server.host; 127.0.0.1 when no config file is given)',
    )
    .option('--port <port>', 'port to bind, 0 for a free one (overrides server.port)', parsePort)
    .option('--json', 'print the ready line as JSON ({"url": ...})')
    .option(
      '--insecure-no-auth',
      'listen on a non-loopback address without server.auth_token (an open proxy that spends the Venice key; logged at warn)',
    )
    .action(
      async (
        positional: string | undefined,
        flags: { config?: string; host?: string; port?: number; json?: boolean; insecureNoAuth?: boolean },
      ) => {
        const path = positional ?? flags.config;
        const config = loadVeniceProxyConfig({ ...(path ? { path } : {}), env: io.env });
        // Without a configuration file (the offline demo) bind loopback unless told otherwise; with a file,
        // `server.host` decides, as in the crate (its default is 0.0.0.0).
        const host =
          flags.host ??
          (path === undefined && io.env['VENICE_E2EE_PROXY__SERVER__HOST'] === undefined
            ? '127.0.0.1'
            : undefined);
        const proxy = await startVeniceProxy({
          config,
          ...(host === undefined ? {} : { host }),
          ...(flags.port === undefined ? {} : { port: flags.port }),
          ...(flags.insecureNoAuth ? { allowUnauthenticatedPublicListen: true } : {}),
        });
        announceAndStopOnSignals(io, proxy, flags.json);
        (hooks.onVeniceProxy ?? (io as VeniceCliIo & VeniceCommandHooks).onVeniceProxy)?.(proxy);
      },
    );
}
