import { createLogger } from '@confidential-ai/server-kit';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createModelKeys } from '../src/keys.js';
import { createResponseSigner } from '../src/signing.js';
import { warmUpCrypto } from '../src/warm-up.js';

function capture() {
  const lines: string[] = [];
  return {
    lines,
    logger: createLogger({ level: 'debug', destination: { write: (line) => lines.push(line) } }),
  };
}

describe('warmUpCrypto', () => {
  it('runs every E2EE and ML-KEM primitive once and logs nothing', async () => {
    const { lines, logger } = capture();
    const keys = createModelKeys({});
    const signer = createResponseSigner(keys);
    const signed: string[] = [];
    await warmUpCrypto({
      keys,
      signer: {
        ...signer,
        sign: (text) => {
          signed.push(text);
          return signer.sign(text);
        },
      },
      chutes: true,
      logger,
    });
    expect(lines).toEqual([]);
    expect(signed).toEqual(['warm-up']);
  });

  it('reports a failure as one warning without key material and does not reject', async () => {
    const { lines, logger } = capture();
    const keys = createModelKeys({});
    const broken = { ...keys, ecdsa: { ...keys.ecdsa, privateKey: new Uint8Array(32) } };
    await expect(warmUpCrypto({ keys: broken, chutes: false, logger })).resolves.toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 40,
      msg: expect.stringContaining('warm-up failed'),
    });
    const publicHex = Buffer.from(keys.ecdsa.publicKey).toString('hex');
    expect(lines[0]).not.toContain(publicHex.slice(2, 34));
  });
});

describe('chutes.max_connections', () => {
  it('defaults to 256 and reads CHUTES_MAX_CONNECTIONS, refusing values below 1', () => {
    expect(loadConfig({ env: {} }).chutes.maxConnections).toBe(256);
    expect(loadConfig({ env: { CHUTES_MAX_CONNECTIONS: '32' } }).chutes.maxConnections).toBe(32);
    expect(() => loadConfig({ env: { CHUTES_MAX_CONNECTIONS: '0' } })).toThrow(/CHUTES_MAX_CONNECTIONS/);
  });
});
