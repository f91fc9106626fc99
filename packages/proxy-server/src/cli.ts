import {
  announceAndStopOnSignals,
  type CliStreams,
  cliStreams,
  parsePort,
  runProgram,
} from '@confidential-ai/server-kit';
import { Command } from 'commander';
import { CONFIG_ENV_VARS, describeConfig, loadConfig } from './config.js';
import { type RunningServer, startServer } from './server.js';
import { VERSION } from './version.js';

/** Streams and hooks the CLI uses (injectable for tests). */
export interface CliIo extends CliStreams {
  /** Called with the running server (tests); the CLI itself waits for SIGTERM/SIGINT. */
  onServer?: (server: RunningServer) => void;
  /** Install SIGTERM/SIGINT handlers that close the server and exit (default true). */
  handleSignals?: boolean;
}

/**
 * The commands of other packages that `confidential-proxy` keeps as aliases: `confidential-proxy venice ARGS` runs
 * `venice-e2ee-proxy ARGS` (`@confidential-ai/venice-proxy`) and `confidential-proxy tee-gateway ARGS` runs
 * `tee-gateway ARGS` (`@confidential-ai/tee-gateway`), with the same options, help and exit codes. The package is
 * imported only when its alias runs.
 */
const ALIASES = {
  venice: {
    bin: 'venice-e2ee-proxy',
    description:
      'Alias of `venice-e2ee-proxy` (@confidential-ai/venice-proxy): the Venice E2EE proxy on its own',
    run: async (argv: string[], io: Partial<CliIo>) =>
      (await import('@confidential-ai/venice-proxy')).runVeniceProxyCli(argv, io),
  },
  'tee-gateway': {
    bin: 'tee-gateway',
    description: 'Alias of `tee-gateway` (@confidential-ai/tee-gateway): the TEE gateway on its own',
    run: async (argv: string[], io: Partial<CliIo>) =>
      (await import('@confidential-ai/tee-gateway')).runTeeGatewayCli(argv, io),
  },
} as const;

/**
 * Builds the `confidential-proxy` command line: `serve --config file.toml [--host] [--port] [--json]`,
 * `config --config file.toml [--json]` (prints the validated configuration with secrets hidden), and the aliases
 * `venice` and `tee-gateway` (see {@link runCli}; they are dispatched before this program is parsed).
 */
export function createProgram(io: CliIo): Command {
  const program = new Command('confidential-proxy')
    .description('vllm-proxy compatible confidential inference proxy (E2EE, signing, Chutes sidecar)')
    .version(VERSION)
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();

  program
    .command('serve')
    .description(
      `Serve the proxy. Configuration: flags, then env (${CONFIG_ENV_VARS.join(', ')}), then the TOML file, then defaults. ` +
        'With no upstream configured, built-in simulated upstreams are started.',
    )
    .option('-c, --config <file>', 'TOML configuration file')
    .option('--host <host>', 'interface to bind (default 127.0.0.1)')
    .option('--port <port>', 'port to bind, 0 for a free one (default 8000)', parsePort)
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
    .option('--json', 'print the ready line and failures as one-line JSON ({"ok": true, "url": ...})')
    .action(
      async (flags: { config?: string; host?: string; port?: number; logLevel?: string; json?: boolean }) => {
        const config = loadConfig({
          ...(flags.config ? { file: flags.config } : {}),
          env: io.env,
          overrides: { server: { host: flags.host, port: flags.port }, log: { level: flags.logLevel } },
        });
        const server = await startServer({ config });
        announceAndStopOnSignals(io, server, flags.json);
        io.onServer?.(server);
      },
    );

  program
    .command('config')
    .description('Validate the configuration and print it with secrets hidden')
    .option('-c, --config <file>', 'TOML configuration file')
    .option('--json', 'print one-line JSON instead of pretty-printed JSON')
    .action((flags: { config?: string; json?: boolean }) => {
      const config = loadConfig({ ...(flags.config ? { file: flags.config } : {}), env: io.env });
      const report = { ok: true, ...describeConfig(config) };
      io.stdout(`${JSON.stringify(report, null, flags.json ? undefined : 2)}\n`);
    });

  // Listed for --help; `runCli` hands these to the other package's command line before parsing.
  for (const [name, alias] of Object.entries(ALIASES)) {
    program
      .command(name)
      .description(`${alias.description}; \`confidential-proxy ${name} --help\` shows its options`)
      .allowUnknownOption()
      .helpOption(false)
      .argument('[args...]');
  }
  return program;
}

/**
 * Runs the CLI with `argv` (as `process.argv`). Resolves to the exit code for failures and for commands
 * that finish; `serve` keeps running until SIGTERM/SIGINT. `venice ...` and `tee-gateway ...` run the
 * `venice-e2ee-proxy` and `tee-gateway` command lines of their own packages with the remaining arguments.
 *
 * @example
 * ```ts
 * const code = await runCli(process.argv);
 * if (code !== 0) process.exitCode = code;
 * ```
 */
export async function runCli(argv: readonly string[], io?: Partial<CliIo>): Promise<number> {
  const alias = ALIASES[argv[2] as keyof typeof ALIASES];
  if (alias) return alias.run([argv[0] ?? 'node', alias.bin, ...argv.slice(3)], io ?? {});
  const full = cliStreams<Omit<CliIo, keyof CliStreams>>(io);
  return runProgram(createProgram(full), argv, full);
}
