import { createSilentLogger } from '@confidential-ai/server-kit';
import { createOpenGradientSigner } from '@confidential-ai/tee-signing';
import { describe, expect, it } from 'vitest';
import { startHeartbeat } from '../src/index.js';
import { startRecorder } from './helpers.js';
import { TEST_PRIVATE_KEY_PEM } from './test-key.js';

describe('heartbeat', () => {
  it('retries a failed relay and reports errors and the last tx hash', async () => {
    let calls = 0;
    const relay = await startRecorder((_call, res) => {
      calls++;
      if (calls === 1) res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"boom"}');
      else if (calls === 2)
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true}');
      else
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true,"txHash":"0xabc"}');
    });
    const signer = await createOpenGradientSigner({ privateKey: TEST_PRIVATE_KEY_PEM });
    const heartbeat = startHeartbeat(
      {
        facilitatorUrl: relay.url,
        contractAddress: '0x4e72238852f3c918f4E4e57AeC9280dDB0c80248',
        intervalSeconds: 900,
        bufferSeconds: 300,
        signer,
        fetch,
        now: () => 1_800_000_000_000,
        logger: createSilentLogger(),
        retryDelayMs: 5,
      },
      null,
    );
    try {
      for (let index = 0; index < 200 && heartbeat.status().total_sent === 0; index++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const status = heartbeat.status();
      expect(status).toMatchObject({
        total_sent: 1,
        total_errors: 2,
        last_tx_hash: '0xabc',
        last_error: null,
        last_success_timestamp: 1_800_000_000 - 300,
      });
      expect(relay.calls.map((call) => call.path)).toEqual(['/heartbeat', '/heartbeat', '/heartbeat']);
    } finally {
      heartbeat.stop();
      await relay.close();
    }
    expect(heartbeat.status().running).toBe(false);
  });
});
