import { createMetrics, type ServerMetrics } from '@confidential-ai/server-kit';
import type { Counter, Registry } from 'prom-client';

/** The name prefix of the vllm-proxy face's metrics (the reference's). */
export const VLLM_PROXY_METRICS_PREFIX = 'vllm_proxy_';

/** The vllm-proxy face's Prometheus instruments (`vllm_proxy_*`): the shared set plus E2EE, upstream and replay. */
export interface ProxyMetrics extends ServerMetrics {
  /** Successful E2EE requests by version and algorithm. */
  readonly e2eeRequests: Counter<'version' | 'algo'>;
  /** Upstream calls by upstream name and outcome (`ok`, `http_error`, `network_error`, `timeout`). */
  readonly upstreamRequests: Counter<'upstream' | 'outcome'>;
  /** Replay LRU entries evicted while still live (raise `e2ee.replay_cache_size` if this grows). */
  readonly replayEvictions: Counter;
}

/** Options of {@link createProxyMetrics}. */
export interface CreateProxyMetricsOptions {
  /** Also collect prom-client's process metrics (CPU, memory, event loop). Default false. */
  processMetrics?: boolean;
  /** The registry (the composed server's, shared with the other faces); default a fresh one. */
  registry?: Registry;
}

/**
 * Creates the vllm-proxy face's metrics (`vllm_proxy_*`, served at `/local-metrics` and `/v1/metrics`).
 *
 * @example
 * ```ts
 * const metrics = createProxyMetrics({ processMetrics: true });
 * const text = await metrics.registry.metrics();
 * ```
 */
export function createProxyMetrics(options: CreateProxyMetricsOptions = {}): ProxyMetrics {
  const base = createMetrics({
    prefix: VLLM_PROXY_METRICS_PREFIX,
    ...(options.processMetrics !== undefined ? { processMetrics: options.processMetrics } : {}),
    ...(options.registry ? { registry: options.registry } : {}),
  });
  return {
    ...base,
    e2eeRequests: base.counter(
      'e2ee_requests_total',
      'E2EE requests accepted, by protocol version and algorithm',
      ['version', 'algo'],
    ),
    upstreamRequests: base.counter('upstream_requests_total', 'Upstream calls by upstream and outcome', [
      'upstream',
      'outcome',
    ]),
    replayEvictions: base.counter(
      'replay_evictions_total',
      'Live replay claims evicted from the in-memory LRU because it was full',
    ),
  };
}
