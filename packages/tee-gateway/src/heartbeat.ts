import type { FetchFunction, Logger } from '@confidential-ai/server-kit';
import type { OpenGradientSigner } from '@confidential-ai/tee-signing';

/** Heartbeat settings from `/v1/keys`. */
export interface HeartbeatOptions {
  /** Facilitator that relays the heartbeat. */
  facilitatorUrl: string;
  /** TEERegistry contract address. */
  contractAddress: string;
  /** Seconds between heartbeats (default 900). */
  intervalSeconds: number;
  /** Seconds subtracted from the clock (default 300). */
  bufferSeconds: number;
  /** The response signer (same RSA-PSS routine). */
  signer: OpenGradientSigner;
  /** fetch. */
  fetch: FetchFunction;
  /** Clock in ms. */
  now: () => number;
  /** Logger. */
  logger: Logger;
  /** Attempts per heartbeat (default 3). */
  attempts?: number;
  /** Delay between attempts in ms (default 10000). */
  retryDelayMs?: number;
}

/** The `/heartbeat/status` body when enabled. */
export interface HeartbeatStatus {
  enabled: true;
  running: boolean;
  tee_id: string;
  registry: string;
  wallet: string | null;
  relay_mode: 'facilitator';
  facilitator_url: string;
  heartbeat_endpoint: string;
  interval_seconds: number;
  total_sent: number;
  total_errors: number;
  last_success_timestamp: number | null;
  last_tx_hash: string | null;
  last_error: string | null;
}

/** A running heartbeat sender. */
export interface Heartbeat {
  /** Sends one heartbeat now. */
  sendOnce(): Promise<boolean>;
  /** Status for `/heartbeat/status`. */
  status(): HeartbeatStatus;
  /** Stops the timer. */
  stop(): void;
}

/**
 * Starts the heartbeat (§10): immediately, then every interval (3 attempts 10 s apart each time), `POST {facilitator}/heartbeat` with
 * `{teeId, timestamp, signature, contractAddress}` where the signature is RSA-PSS over
 * `keccak256(teeId ‖ uint256(now − buffer))`. Success requires `txHash` in the answer.
 */
export function startHeartbeat(options: HeartbeatOptions, wallet: string | null): Heartbeat {
  const endpoint = `${options.facilitatorUrl}/heartbeat`;
  let running = true;
  const state = {
    total_sent: 0,
    total_errors: 0,
    last_success_timestamp: null as number | null,
    last_tx_hash: null as string | null,
    last_error: null as string | null,
  };
  const attemptOnce = async (): Promise<boolean> => {
    try {
      const timestamp = Math.floor(options.now() / 1000) - options.bufferSeconds;
      const signed = await options.signer.signHeartbeat(timestamp);
      const response = await options.fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...signed, contractAddress: options.contractAddress }),
        signal: AbortSignal.timeout(20_000),
      });
      const body = (await response.json().catch(() => ({}))) as { txHash?: unknown };
      if (response.status >= 400 || typeof body.txHash !== 'string') {
        throw new Error(`heartbeat relay answered HTTP ${response.status}`);
      }
      state.total_sent++;
      state.last_success_timestamp = timestamp;
      state.last_tx_hash = body.txHash;
      state.last_error = null;
      return true;
    } catch (error) {
      state.total_errors++;
      state.last_error = error instanceof Error ? error.message : 'heartbeat failed';
      options.logger.warn({ component: 'tee-gateway', err: state.last_error }, 'heartbeat failed');
      return false;
    }
  };
  const sendOnce = async (): Promise<boolean> => {
    const attempts = options.attempts ?? 3;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (!running) return false;
      if (await attemptOnce()) return true;
      if (attempt < attempts)
        await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 10_000).unref());
    }
    return false;
  };
  void sendOnce();
  const timer = setInterval(() => void sendOnce(), options.intervalSeconds * 1000);
  timer.unref();
  return {
    sendOnce,
    status: () => ({
      enabled: true,
      running,
      tee_id: options.signer.teeId,
      registry: options.contractAddress,
      wallet,
      relay_mode: 'facilitator',
      facilitator_url: options.facilitatorUrl,
      heartbeat_endpoint: endpoint,
      interval_seconds: options.intervalSeconds,
      ...state,
    }),
    stop: () => {
      running = false;
      clearInterval(timer);
    },
  };
}
