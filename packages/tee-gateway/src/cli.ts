import { readFileSync } from 'node:fs';
import {
  announceAndStopOnSignals,
  type ConfigIssue,
  cliStreams,
  createLogger,
  isLoopbackHost,
  type Logger,
  parsePort,
  runProgram,
} from '@confidential-ai/server-kit';
import { Command, InvalidArgumentError } from 'commander';
import { parse as parseToml } from 'smol-toml';
import { ZodError } from 'zod';
import { createTeeGateway } from './app.js';
import { parseTeeGatewayConfig, TEE_GATEWAY_ENV, type TeeGatewayConfigInput } from './config.js';
import { TeeGatewayConfigError } from './errors.js';
import { type RunningTeeGatewayServer, startTeeGatewayServer } from './server.js';
import { VERSION } from './version.js';

/** Streams and hooks of the `tee-gateway` command (injectable for tests). */
export interface TeeGatewayCliIo {
  /** Standard output (the one ready line). */
  stdout: (text: string) => void;
  /** Standard error (one-line failure reasons of {@link runTeeGatewayCli}, usage errors). */
  stderr?: (text: string) => void;
  /** Environment (`NITRIDING_URL`, `FACILITATOR_URL`, `EVM_PAYMENT_ADDRESS`, `OPG_PRICE_USD`, `TOKEN`). */
  env: Readonly<Record<string, string | undefined>>;
  /** Called with the running server (tests). */
  onTeeGateway?: (server: RunningTeeGatewayServer) => void;
  /** Install SIGTERM/SIGINT handlers that close the server and exit (default true). */
  handleSignals?: boolean;
  /** Logger override (tests); default a redacting pino logger on stderr. */
  logger?: Logger;
}

interface Flags {
  config?: string;
  host?: string;
  port?: number;
  simulate?: boolean;
  x402?: boolean;
  opgPriceUsd?: string;
  nitridingUrl?: string;
  facilitatorUrl?: string;
  registerWithNitriding?: boolean;
  logLevel?: LogLevelName;
  json?: boolean;
  insecureNoAuth?: boolean;
}

type LogLevelName = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

const LOG_LEVELS: readonly LogLevelName[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function parseLogLevel(value: string): LogLevelName {
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${LOG_LEVELS.join(', ')}`);
  }
  return value as LogLevelName;
}

function readTomlFile(file: string): Record<string, unknown> {
  try {
    return parseToml(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new TeeGatewayConfigError(
      [{ tomlKey: '(file)', envVar: undefined, message: `cannot read or parse ${file}` }],
      { cause },
    );
  }
}

function tableOf(document: Record<string, unknown>, name: string): Record<string, unknown> {
  const table = document[name];
  if (table === undefined) return {};
  if (typeof table !== 'object' || table === null || Array.isArray(table)) {
    throw new TeeGatewayConfigError([{ tomlKey: name, envVar: undefined, message: 'expected a table' }]);
  }
  return table as Record<string, unknown>;
}

/**
 * The client token of the standalone gateway: env `TOKEN`, else `[auth] token` of the TOML file (the same names
 * as the composed server, so one file serves both). Undefined when neither is set.
 * @throws {TeeGatewayConfigError} `ERR_CONFIG_INVALID` when `[auth] token` is not a non-empty string.
 */
export function loadTeeGatewayClientToken(options: {
  file?: string;
  env?: Readonly<Record<string, string | undefined>>;
}): string | undefined {
  const fromEnv = options.env?.['TOKEN'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!options.file) return undefined;
  const token = tableOf(readTomlFile(options.file), 'auth')['token'];
  if (token === undefined) return undefined;
  if (typeof token !== 'string' || token === '') {
    throw new TeeGatewayConfigError([
      { tomlKey: 'auth.token', envVar: 'TOKEN', message: 'expected a non-empty string' },
    ]);
  }
  return token;
}

/**
 * Builds the `[tee_gateway]` configuration from (highest first) flags, env, the TOML file's `[tee_gateway]`
 * table, then defaults.
 * @throws {TeeGatewayConfigError} `ERR_CONFIG_INVALID` listing every issue with its TOML key and env var (never the value).
 */
export function loadTeeGatewayConfig(options: {
  file?: string;
  env?: Readonly<Record<string, string | undefined>>;
  overrides?: TeeGatewayConfigInput;
}) {
  const fromFile = options.file ? tableOf(readTomlFile(options.file), 'tee_gateway') : {};
  const env = options.env ?? {};
  const fromEnv: Record<string, unknown> = {};
  for (const [name, key] of TEE_GATEWAY_ENV) {
    if (env[name]) fromEnv[key] = env[name];
  }
  const overrides = Object.fromEntries(
    Object.entries(options.overrides ?? {}).filter(([, value]) => value !== undefined),
  );
  try {
    return parseTeeGatewayConfig({
      enabled: true,
      ...fromFile,
      ...fromEnv,
      ...overrides,
    } as TeeGatewayConfigInput);
  } catch (error) {
    if (error instanceof ZodError) {
      const issues: ConfigIssue[] = [];
      for (const issue of error.issues) {
        const keys = issue.code === 'unrecognized_keys' ? issue.keys : [issue.path.map(String).join('.')];
        for (const key of keys) {
          issues.push({
            tomlKey: key ? `tee_gateway.${key}` : 'tee_gateway',
            envVar: TEE_GATEWAY_ENV.find(([, name]) => name === key)?.[0],
            message: issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message,
          });
        }
      }
      throw new TeeGatewayConfigError(issues, { cause: error });
    }
    throw error;
  }
}

/**
 * Adds the `tee-gateway` command to a commander program: serves the gateway on its own listener and prints
 * one ready line (`listening on URL`, or `{"url": ...}` with `--json`); SIGTERM/SIGINT close it.
 *
 * @example
 * ```ts
 * addTeeGatewayCommand(program, { stdout: (text) => process.stdout.write(text), env: process.env });
 * // my-cli tee-gateway --simulate --no-x402 --opg-price-usd 1 --port 8000
 * ```
 */
export function addTeeGatewayCommand(program: Command, io: TeeGatewayCliIo): Command {
  return configureTeeGatewayCommand(program.command('tee-gateway'), io);
}

/**
 * The `tee-gateway` command line itself (the package's bin): `tee-gateway [--config file.toml] [--host] [--port]
 * [--simulate] [--no-x402] ...`, with `--version` and `--help`.
 * @example
 * ```ts
 * await createTeeGatewayProgram({ stdout, stderr, env: process.env }).parseAsync(process.argv);
 * ```
 */
export function createTeeGatewayProgram(io: TeeGatewayCliIo): Command {
  const program = new Command('tee-gateway')
    .version(VERSION)
    .configureOutput({ writeOut: io.stdout, ...(io.stderr ? { writeErr: io.stderr } : {}) })
    .exitOverride();
  return configureTeeGatewayCommand(program, io);
}

/**
 * Runs the `tee-gateway` command line with `argv` (as `process.argv`): what the bin does, and what
 * `confidential-proxy tee-gateway ...` (an alias) calls. Resolves to the exit code for failures and for `--help`;
 * a started gateway keeps running until SIGTERM/SIGINT.
 * @example
 * ```ts
 * const code = await runTeeGatewayCli(['node', 'tee-gateway', '--simulate', '--no-x402', '--opg-price-usd', '1']);
 * ```
 */
export async function runTeeGatewayCli(
  argv: readonly string[],
  io?: Partial<TeeGatewayCliIo>,
): Promise<number> {
  const full = cliStreams<Omit<TeeGatewayCliIo, 'stdout' | 'stderr' | 'env'>>(io);
  return runProgram(createTeeGatewayProgram(full), argv, full);
}

function configureTeeGatewayCommand(command: Command, io: TeeGatewayCliIo): Command {
  return command
    .description(
      'Serve the OpenGradient-compatible TEE gateway (signed responses, /v1/keys, x402). Configuration: flags, then env ' +
        '(NITRIDING_URL, FACILITATOR_URL, EVM_PAYMENT_ADDRESS, OPG_PRICE_USD), then the [tee_gateway] table of the TOML file.',
    )
    .option('-c, --config <file>', 'TOML configuration file ([tee_gateway] table)')
    .option('--host <host>', 'interface to bind (default 127.0.0.1)')
    .option('--port <port>', 'port to bind, 0 for a free one (default 8000)', parsePort)
    .option('--simulate', 'start initialised with the built-in simulated provider (demo)')
    .option('--no-x402', 'serve inference without x402 payment')
    .option('--opg-price-usd <usd>', 'static OPG price in USD instead of the price feed')
    .option('--nitriding-url <url>', 'public nitriding URL for /enclave/attestation')
    .option('--facilitator-url <url>', 'x402 facilitator URL')
    .option('--register-with-nitriding', 'register the key hash with nitriding at startup')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent', parseLogLevel, 'info')
    .option('--json', 'print the ready line and failures as one-line JSON ({"ok": true, "url": ...})')
    .option(
      '--insecure-no-auth',
      'listen on a non-loopback address with neither x402 nor a client token (TOKEN); logged at warn',
    )
    .action(async (flags: Flags) => {
      const config = loadTeeGatewayConfig({
        ...(flags.config ? { file: flags.config } : {}),
        env: io.env,
        overrides: {
          simulate: flags.simulate,
          x402_enabled: flags.x402 === false ? false : undefined,
          opg_price_usd: flags.opgPriceUsd,
          nitriding_url: flags.nitridingUrl,
          facilitator_url: flags.facilitatorUrl,
          register_with_nitriding: flags.registerWithNitriding,
          allow_unauthenticated_public_listen: flags.insecureNoAuth ? true : undefined,
        },
      });
      const clientToken = loadTeeGatewayClientToken({
        ...(flags.config ? { file: flags.config } : {}),
        env: io.env,
      });
      const host = flags.host ?? '127.0.0.1';
      const open = !isLoopbackHost(host) && !config.x402_enabled && clientToken === undefined;
      // A public gateway with neither payment nor a token would let anyone spend the provider keys.
      if (open && !config.allow_unauthenticated_public_listen) {
        throw new TeeGatewayConfigError([
          {
            tomlKey: 'auth.token',
            envVar: 'TOKEN',
            message:
              `refusing to listen on ${host} (not loopback) with neither x402 nor a client token; set TOKEN, keep ` +
              'x402_enabled, bind 127.0.0.1, or accept an open gateway with tee_gateway.allow_unauthenticated_public_listen = true (--insecure-no-auth)',
          },
        ]);
      }
      const logger =
        io.logger ??
        createLogger({
          level: flags.logLevel ?? 'info',
          secrets: clientToken ? [clientToken] : [],
          name: 'tee-gateway',
        });
      if (open) {
        logger.warn(
          { host },
          'INSECURE: the TEE gateway listens on a non-loopback address with NEITHER x402 NOR A CLIENT TOKEN (allow_unauthenticated_public_listen): anyone who reaches it can spend the provider keys',
        );
      }
      const gateway = await createTeeGateway({
        config,
        logger,
        ...(clientToken !== undefined ? { clientToken } : {}),
      });
      let server: RunningTeeGatewayServer;
      try {
        server = await startTeeGatewayServer({
          gateway,
          host,
          port: flags.port ?? 8000,
        });
      } catch (error) {
        await gateway.close();
        throw error;
      }
      if (config.simulate)
        logger.warn('TEE gateway runs with the SIMULATED provider: answers are not from an LLM');
      announceAndStopOnSignals(io, server, flags.json);
      io.onTeeGateway?.(server);
    });
}
