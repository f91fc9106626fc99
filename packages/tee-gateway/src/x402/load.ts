import { TeeGatewayError } from '../errors.js';

/**
 * The payment stack x402 needs, as optional peer dependencies of this package (the versions of its
 * `peerDependencies`): installed only by operators who turn x402 on.
 */
export const X402_PACKAGES: Readonly<Record<string, string>> = Object.freeze({
  '@x402/core': '~2.27.0',
  '@x402/evm': '~2.27.0',
  viem: '^2.57.20',
});

type GateModule = typeof import('./gate.js');

function missingPackage(error: unknown): string | undefined {
  const record = error as { code?: unknown; message?: unknown };
  if (record?.code !== 'ERR_MODULE_NOT_FOUND' || typeof record.message !== 'string') return undefined;
  const message = record.message;
  return Object.keys(X402_PACKAGES).find(
    (name) => message.includes(`'${name}`) || message.includes(`"${name}`),
  );
}

/**
 * Loads the x402 gate and with it the payment stack (`@x402/core`, `@x402/evm`, `viem`), which nothing else
 * imports: a gateway without x402 never loads them. Called at startup when x402 is on, so that a missing package
 * stops the gateway at once with the command that installs it (never a gateway that silently serves unpaid).
 * @example
 * ```ts
 * const { createX402Gate } = await loadX402Gate();
 * ```
 * @throws {TeeGatewayError} `ERR_X402_UNAVAILABLE` when one of the packages is not installed.
 */
export async function loadX402Gate(importGate: () => Promise<GateModule> = () => import('./gate.js')) {
  try {
    return await importGate();
  } catch (error) {
    const missing = missingPackage(error);
    if (missing === undefined) throw error;
    const install = Object.entries(X402_PACKAGES)
      .map(([name, range]) => `${name}@${range}`)
      .join(' ');
    throw new TeeGatewayError(
      'ERR_X402_UNAVAILABLE',
      `x402 is enabled (tee_gateway.x402_enabled) but its payment packages are not installed (${missing} is missing): ` +
        `run \`npm install ${install}\`, or turn x402 off (x402_enabled = false, --no-x402)`,
      { cause: error },
    );
  }
}
