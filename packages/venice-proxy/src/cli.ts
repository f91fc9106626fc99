import {
  announceAndStopOnSignals,
  cliStreams,
  parsePort,
  runProgram,
  type ServeIo,
} from '@confidential-ai/server-kit';
import { Command } from 'commander';
import { loadVeniceProxyConfig } from './config.js';
import { type RunningVeniceProxy, startVeniceProxy } from './server.js';
import { VERSION } from './version.js';

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
  return configureVeniceCommand(program.command('venice'), io, hooks);
}

/**
 * The `venice-e2ee-proxy` command line (the package's bin, named as the crate's): `venice-e2ee-proxy [config.toml]
 * [--host] [--port] [--json] [--insecure-no-auth]`, with `--version` and `--help`, so the crate's documented
 * invocation `venice-e2ee-proxy config.toml` works unchanged.
 * @example
 * ```ts
 * await createVeniceProxyProgram({ stdout, stderr, env: process.env }).parseAsync(process.argv);
 * ```
 */
export function createVeniceProxyProgram(io: VeniceCliIo, hooks: VeniceCommandHooks = {}): Command {
  const program = new Command('venice-e2ee-proxy')
    .version(VERSION)
    .configureOutput({ writeOut: io.stdout, ...(io.stderr ? { writeErr: io.stderr } : {}) })
    .exitOverride();
  return configureVeniceCommand(program, io, hooks);
}

/**
 * Runs the `venice-e2ee-proxy` command line with `argv` (as `process.argv`): what the bin does, and what
 * `confidential-proxy venice ...` (an alias) calls. Resolves to the exit code for failures and for `--help`; a
 * started proxy keeps running until SIGTERM/SIGINT.
 * @example
 * ```ts
 * const code = await runVeniceProxyCli(['node', 'venice-e2ee-proxy', 'config.toml']);
 * ```
 */
export async function runVeniceProxyCli(
  argv: readonly string[],
  io?: Partial<VeniceCliIo> & VeniceCommandHooks,
): Promise<number> {
  const full = cliStreams<Omit<VeniceCliIo, 'stdout' | 'stderr' | 'env'> & VeniceCommandHooks>(io);
  return runProgram(createVeniceProxyProgram(full), argv, full);
}

function configureVeniceCommand(command: Command, io: VeniceCliIo, hooks: VeniceCommandHooks): Command {
  return command
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
    .option('--json', 'print the ready line and failures as one-line JSON ({"ok": true, "url": ...})')
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
