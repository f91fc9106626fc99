import { announceAndStopOnSignals, parsePort } from '@confidential-ai/server-kit';
import { addTeeGatewayCommand } from '@confidential-ai/tee-gateway'; // TEE gateway (issue 6)
// BEGIN Venice E2EE proxy (issue 7)
import { registerVeniceCommand } from '@confidential-ai/venice-proxy';
import { Command } from 'commander';
import { CONFIG_ENV_VARS, describeConfig, loadConfig } from './config.js';
import { ConfigError, ProxyServerError } from './errors.js';
import { type RunningServer, startServer } from './server.js';
// END Venice E2EE proxy (issue 7)
import { VERSION } from './version.js';

/** Streams and hooks the CLI uses (injectable for tests). */
export interface CliIo {
  /** Standard output (the one ready line, `--json` reports). */
  stdout: (text: string) => void;
  /** Standard error (one-line failure reasons). */
  stderr: (text: string) => void;
  /** Environment variables. */
  env: Readonly<Record<string, string | undefined>>;
  /** Called with the running server (tests); the CLI itself waits for SIGTERM/SIGINT. */
  onServer?: (server: RunningServer) => void;
  /** Install SIGTERM/SIGINT handlers that close the server and exit (default true). */
  handleSignals?: boolean;
}

function oneLine(error: unknown): string {
  if (error instanceof ConfigError) {
    return `invalid configuration: ${error.issues
      .map((issue) => `${issue.tomlKey}${issue.envVar ? ` (env ${issue.envVar})` : ''}: ${issue.message}`)
      .join('; ')}`;
  }
  if (ProxyServerError.isInstance(error)) return error.message;
  return error instanceof Error ? `${error.name}: ${error.message.split('\n')[0]}` : String(error);
}

/**
 * Builds the `confidential-proxy` command line: `serve --config file.toml [--host] [--port] [--json]` and
 * `config --config file.toml [--json]` (prints the validated configuration with secrets hidden).
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
    .option('--json', 'print the ready line as JSON ({"url": ...})')
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
    .option('--json', 'print JSON')
    .action((flags: { config?: string; json?: boolean }) => {
      const config = loadConfig({ ...(flags.config ? { file: flags.config } : {}), env: io.env });
      const summary = describeConfig(config);
      io.stdout(flags.json ? `${JSON.stringify(summary)}\n` : `${JSON.stringify(summary, null, 2)}\n`);
    });
  // BEGIN Venice E2EE proxy (issue 7): `venice [config.toml]`
  registerVeniceCommand(program, io);
  // END Venice E2EE proxy (issue 7)
  // BEGIN TEE gateway (issue 6): `tee-gateway [--simulate] [--no-x402] [--opg-price-usd N]`
  addTeeGatewayCommand(program, {
    stdout: io.stdout,
    env: io.env,
    ...(io.handleSignals !== undefined ? { handleSignals: io.handleSignals } : {}),
  });
  // END TEE gateway (issue 6)
  return program;
}

/**
 * Runs the CLI with `argv` (as `process.argv`). Resolves to the exit code for failures and for commands
 * that finish; `serve` keeps running until SIGTERM/SIGINT.
 *
 * @example
 * ```ts
 * const code = await runCli(process.argv);
 * if (code !== 0) process.exitCode = code;
 * ```
 */
export async function runCli(argv: readonly string[], io?: Partial<CliIo>): Promise<number> {
  // A reader that went away (EPIPE on stdout/stderr) must not crash a running server.
  if (!io?.stdout) process.stdout.on('error', () => {});
  if (!io?.stderr) process.stderr.on('error', () => {});
  const full: CliIo = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    ...io,
  };
  const program = createProgram(full);
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (error) {
    const commanderError = error as { code?: string; exitCode?: number };
    if (typeof commanderError.code === 'string' && commanderError.code.startsWith('commander.')) {
      return commanderError.exitCode ?? 1;
    }
    full.stderr(`error: ${oneLine(error)}\n`);
    return 1;
  }
}
