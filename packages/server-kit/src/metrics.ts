import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** prom-client's registry, for faces that take a shared one (they need no prom-client import of their own). */
export type MetricsRegistry = Registry;

/**
 * The Prometheus instruments every face has, named with the face's prefix (`vllm_proxy_`, `tee_gateway_`,
 * `venice_proxy_`), on a registry of their own or one shared by a composed server (never prom-client's global
 * registry). A face adds its own instruments with {@link ServerMetrics.counter} / {@link ServerMetrics.gauge}.
 */
export interface ServerMetrics {
  /** The registry to expose (a face's `GET /metrics`, the composed server's `/local-metrics`). */
  readonly registry: Registry;
  /** The name prefix of every instrument, e.g. `tee_gateway_`. */
  readonly prefix: string;
  /** `<prefix>requests_total`: requests by route pattern, method and status. */
  readonly requests: Counter<'route' | 'method' | 'status'>;
  /** `<prefix>request_duration_seconds`: time to response headers by route pattern. */
  readonly requestDuration: Histogram<'route'>;
  /** `<prefix>errors_total`: error responses by the face's error type or code. */
  readonly errors: Counter<'type'>;
  /**
   * Adds a counter `<prefix><name>` on the same registry.
   * @throws {RangeError} for a name that is not a valid Prometheus metric name, or one already registered.
   */
  counter<Label extends string = never>(
    name: string,
    help: string,
    labelNames?: readonly Label[],
  ): Counter<Label>;
  /**
   * Adds a gauge `<prefix><name>` on the same registry.
   * @throws {RangeError} for a name that is not a valid Prometheus metric name, or one already registered.
   */
  gauge<Label extends string = never>(
    name: string,
    help: string,
    labelNames?: readonly Label[],
  ): Gauge<Label>;
}

/** Options of {@link createMetrics}. */
export interface CreateMetricsOptions {
  /** Name prefix of every instrument, e.g. `vllm_proxy_` (letters, digits, `_`, `:`; not starting with a digit). */
  prefix: string;
  /** Register on this registry (a composed server shares one between its faces). Default: a fresh registry. */
  registry?: Registry;
  /** Also collect prom-client's process metrics (CPU, memory, event loop) under the prefix. Default false. */
  processMetrics?: boolean;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * Creates a face's metrics: `<prefix>requests_total`, `<prefix>request_duration_seconds` and `<prefix>errors_total`,
 * plus whatever the face adds with `counter()` / `gauge()`.
 *
 * @example
 * ```ts
 * const metrics = createMetrics({ prefix: 'tee_gateway_' });
 * const sessions = metrics.gauge('x402_sessions', 'Live x402 upto sessions');
 * const text = await metrics.registry.metrics();
 * ```
 * @throws {RangeError} for a prefix that would not make valid Prometheus metric names.
 */
export function createMetrics(options: CreateMetricsOptions): ServerMetrics {
  const { prefix } = options;
  if (typeof prefix !== 'string' || !METRIC_NAME.test(`${prefix}x`)) {
    throw new RangeError('prefix must be letters, digits, "_" or ":" and not start with a digit');
  }
  const registry = options.registry ?? new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix });
  const nameOf = (name: string) => {
    const full = `${prefix}${name}`;
    if (!METRIC_NAME.test(full)) throw new RangeError(`not a valid metric name: ${full}`);
    if (registry.getSingleMetric(full)) throw new RangeError(`metric ${full} is already registered`);
    return full;
  };
  return {
    registry,
    prefix,
    requests: new Counter({
      name: nameOf('requests_total'),
      help: 'HTTP requests by route, method and status',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: nameOf('request_duration_seconds'),
      help: 'Time to response headers by route',
      labelNames: ['route'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers: [registry],
    }),
    errors: new Counter({
      name: nameOf('errors_total'),
      help: 'Error responses by error type',
      labelNames: ['type'],
      registers: [registry],
    }),
    counter: (name, help, labelNames = []) =>
      new Counter({ name: nameOf(name), help, labelNames: [...labelNames], registers: [registry] }),
    gauge: (name, help, labelNames = []) =>
      new Gauge({ name: nameOf(name), help, labelNames: [...labelNames], registers: [registry] }),
  };
}

/**
 * The Prometheus text exposition of `registry` as a response (what a face's `GET /metrics` answers).
 * @example
 * ```ts
 * app.get('/metrics', () => metricsResponse(metrics.registry));
 * ```
 */
export async function metricsResponse(registry: Registry): Promise<Response> {
  return new Response(await registry.metrics(), {
    status: 200,
    headers: { 'content-type': registry.contentType },
  });
}
