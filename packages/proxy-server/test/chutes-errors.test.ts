import { ChutesTransportError } from '@confidential-ai/chutes-transport';
import { describe, expect, it } from 'vitest';
import { mapChutesTransportError } from '../src/index.js';

describe('mapChutesTransportError', () => {
  it.each(['ERR_NO_INSTANCES', 'ERR_NONCE_TIMEOUT', 'ERR_NONCE_QUEUE_FULL'] as const)(
    'maps %s to 503 upstream_unavailable',
    (code) => {
      const mapped = mapChutesTransportError(new ChutesTransportError(code, 'x'));
      expect(mapped?.status).toBe(503);
      expect(mapped?.type).toBe('upstream_unavailable');
    },
  );
});
