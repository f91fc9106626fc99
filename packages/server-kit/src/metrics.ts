import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The proxy's Prometheus instruments, on a registry of their own (never the global one). */
export interface ProxyMetrics {
  /** The registry to expose (`/local-metrics`, `/v1/metrics`). */
  readonly registry: Registry;
  /** Requests by route pattern, method and status. */
  readonly requests: Counter<'route' | 'method' | 'status'>;
  /** Request duration in seconds by route pattern (time to response headers for streams). */
  readonly requestDuration: Histogram<'route'>;
  /** Error responses by OpenAI `type`. */
  readonly errors: Counter<'type'>;
  /** Successful E2EE requests by version and algorithm. */
  readonly e2eeRequests: Counter<'version' | 'algo'>;
  /** Upstream calls by upstream name and outcome (`ok`, `http_error`, `network_error`, `timeout`). */
  readonly upstreamRequests: Counter<'upstream' | 'outcome'>;
  /** Replay LRU entries evicted while still live (raise `e2ee.replay_cache_size` if this grows). */
  readonly replayEvictions: Counter;
  /** Live x402 upto sessions of the TEE gateway face (settled, failed and expired ones are evicted). */
  readonly x402Sessions: Gauge;
}

/** Options of {@link createMetrics}. */
export interface CreateMetricsOptions {
  /** Also collect prom-client's process metrics (CPU, memory, event loop). Default false. */
  processMetrics?: boolean;
  /** Metric name prefix. Default `vllm_proxy_`. */
  prefix?: string;
}

/**
 * Creates the metrics set on a fresh registry.
 *
 * @example
 * ```ts
 * const metrics = createMetrics({ processMetrics: true });
 * const text = await metrics.registry.metrics();
 * ```
 */
export function createMetrics(options: CreateMetricsOptions = {}): ProxyMetrics {
  const prefix = options.prefix ?? 'vllm_proxy_';
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix });
  return {
    registry,
    requests: new Counter({
      name: `${prefix}requests_total`,
      help: 'HTTP requests by route, method and status',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: `${prefix}request_duration_seconds`,
      help: 'Time to response headers by route',
      labelNames: ['route'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers: [registry],
    }),
    errors: new Counter({
      name: `${prefix}errors_total`,
      help: 'Error responses by OpenAI error type',
      labelNames: ['type'],
      registers: [registry],
    }),
    e2eeRequests: new Counter({
      name: `${prefix}e2ee_requests_total`,
      help: 'E2EE requests accepted, by protocol version and algorithm',
      labelNames: ['version', 'algo'],
      registers: [registry],
    }),
    upstreamRequests: new Counter({
      name: `${prefix}upstream_requests_total`,
      help: 'Upstream calls by upstream and outcome',
      labelNames: ['upstream', 'outcome'],
      registers: [registry],
    }),
    replayEvictions: new Counter({
      name: `${prefix}replay_evictions_total`,
      help: 'Live replay claims evicted from the in-memory LRU because it was full',
      registers: [registry],
    }),
    x402Sessions: new Gauge({
      name: `${prefix}x402_sessions`,
      help: 'Live x402 upto payment sessions of the TEE gateway face',
      registers: [registry],
    }),
  };
}
