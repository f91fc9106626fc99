import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseToml } from 'smol-toml';
import { ZodError } from 'zod';
import { announceAndStopOnSignals, parsePort } from '../cli-serve.js';
import { ProxyServerError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { createTeeGateway } from './app.js';
import { parseTeeGatewayConfig, TEE_GATEWAY_ENV, type TeeGatewayConfigInput } from './config.js';
import { type RunningTeeGatewayServer, startTeeGatewayServer } from './server.js';

/** Streams and hooks of the `tee-gateway` command (injectable for tests). */
export interface TeeGatewayCliIo {
  /** Standard output (the one ready line). */
  stdout: (text: string) => void;
  /** Environment (`NITRIDING_URL`, `FACILITATOR_URL`, `EVM_PAYMENT_ADDRESS`, `OPG_PRICE_USD`). */
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
  logLevel?: string;
  json?: boolean;
}

/**
 * Builds the `[tee_gateway]` configuration from (highest first) flags, env, the TOML file's `[tee_gateway]`
 * table, then defaults.
 * @throws {ProxyServerError} `ERR_CONFIG_INVALID` with a one-line reason.
 */
export function loadTeeGatewayConfig(options: {
  file?: string;
  env?: Readonly<Record<string, string | undefined>>;
  overrides?: TeeGatewayConfigInput;
}) {
  let fromFile: Record<string, unknown> = {};
  if (options.file) {
    try {
      const document = parseToml(readFileSync(options.file, 'utf8')) as Record<string, unknown>;
      fromFile = (document['tee_gateway'] ?? {}) as Record<string, unknown>;
    } catch (cause) {
      throw new ProxyServerError('ERR_CONFIG_INVALID', `cannot read ${options.file}`, { cause });
    }
  }
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
      const reasons = error.issues
        .map((issue) => `tee_gateway.${issue.path.join('.')}: ${issue.message}`)
        .join('; ');
      throw new ProxyServerError('ERR_CONFIG_INVALID', `invalid configuration: ${reasons}`, { cause: error });
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
 * // confidential-proxy tee-gateway --simulate --no-x402 --opg-price-usd 1 --port 8000
 * ```
 */
export function addTeeGatewayCommand(program: Command, io: TeeGatewayCliIo): Command {
  return program
    .command('tee-gateway')
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
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent', 'info')
    .option('--json', 'print the ready line as JSON ({"url": ...})')
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
        },
      });
      const logger = io.logger ?? createLogger({ level: (flags.logLevel ?? 'info') as 'info' });
      const gateway = await createTeeGateway({ config, logger });
      let server: RunningTeeGatewayServer;
      try {
        server = await startTeeGatewayServer({
          gateway,
          host: flags.host ?? '127.0.0.1',
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
