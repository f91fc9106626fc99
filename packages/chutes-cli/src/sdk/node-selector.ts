import { ChutesCliError } from '../errors.js';

/** One GPU type of the server's `SUPPORTED_GPUS` (API:api/gpu.py, 2025-10-03). */
export interface GpuInfo {
  /** VRAM in GB. */
  memory: number;
  /** Hourly rate in USD. */
  hourlyRate: number;
}

/**
 * The GPU table as of the Oct-2025 API. Rates change: prefer `GET /pricing` for fees (see
 * {@link ratesFromPricing}).
 */
export const SUPPORTED_GPUS: Readonly<Record<string, GpuInfo>> = Object.freeze({
  '3090': { memory: 24, hourlyRate: 0.25 },
  '4090': { memory: 24, hourlyRate: 0.4 },
  '5090': { memory: 32, hourlyRate: 0.7 },
  a4000: { memory: 16, hourlyRate: 0.2 },
  a4000_ada: { memory: 20, hourlyRate: 0.21 },
  a5000: { memory: 24, hourlyRate: 0.25 },
  a6000: { memory: 48, hourlyRate: 0.5 },
  a6000_ada: { memory: 48, hourlyRate: 0.75 },
  pro_6000: { memory: 96, hourlyRate: 1.8 },
  l4: { memory: 24, hourlyRate: 0.25 },
  a10: { memory: 24, hourlyRate: 0.25 },
  a40: { memory: 48, hourlyRate: 0.5 },
  l40: { memory: 48, hourlyRate: 0.55 },
  l40s: { memory: 48, hourlyRate: 0.85 },
  a100_40gb: { memory: 40, hourlyRate: 1.1 },
  a100_40gb_sxm: { memory: 40, hourlyRate: 1.15 },
  a100: { memory: 80, hourlyRate: 1.2 },
  a100_sxm: { memory: 80, hourlyRate: 1.25 },
  h100: { memory: 80, hourlyRate: 1.79 },
  h100_nvl: { memory: 96, hourlyRate: 2.25 },
  h100_sxm: { memory: 80, hourlyRate: 2.35 },
  h800: { memory: 80, hourlyRate: 1.5 },
  h20: { memory: 96, hourlyRate: 0.6 },
  h200: { memory: 140, hourlyRate: 2.75 },
  mi300x: { memory: 192, hourlyRate: 3.0 },
  b200: { memory: 192, hourlyRate: 4.5 },
});

/** Options of {@link NodeSelector}. */
export interface NodeSelectorOptions {
  /** GPUs per instance, integer 1–8 (default 1). */
  gpuCount?: number;
  /** Minimum VRAM per GPU in GB, integer 16–140 (default 16). */
  minVramGbPerGpu?: number;
  /** Only these GPU ids (not validated on the client, like the SDK). */
  include?: string[] | null;
  /** Never these GPU ids. */
  exclude?: string[] | null;
  /** SDK-HEAD field: maximum hourly price per GPU, 0 < x < 10. Sent only when set. */
  maxHourlyPricePerGpu?: number | null;
}

/** The deploy JSON form of a node selector (pydantic `.dict()` order). */
export interface NodeSelectorJson {
  gpu_count: number;
  min_vram_gb_per_gpu: number;
  include: string[] | null;
  exclude: string[] | null;
  max_hourly_price_per_gpu?: number;
}

function checkInt(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ChutesCliError('ERR_VALIDATION', `${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function checkList(value: unknown, name: string): string[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw new ChutesCliError('ERR_VALIDATION', `${name} must be a list of strings`);
  }
  return [...value];
}

/**
 * Node selection rules of a chute, with the SDK's validation (gpu_count 1–8, min_vram_gb_per_gpu 16–140).
 * @example
 * ```ts
 * const selector = new NodeSelector({ gpuCount: 1, minVramGbPerGpu: 24 });
 * selector.supportedGpus(); // ['3090', '4090', '5090', 'a5000', ...]
 * ```
 */
export class NodeSelector {
  /** GPUs per instance. */
  readonly gpuCount: number;
  /** Minimum VRAM per GPU. */
  readonly minVramGbPerGpu: number;
  /** Include list or null. */
  readonly include: string[] | null;
  /** Exclude list or null. */
  readonly exclude: string[] | null;
  /** Optional price cap. */
  readonly maxHourlyPricePerGpu: number | null;

  /** @throws ChutesCliError `ERR_VALIDATION` for out-of-range or mistyped fields. */
  constructor(options: NodeSelectorOptions = {}) {
    this.gpuCount = checkInt(options.gpuCount ?? 1, 'gpu_count', 1, 8);
    this.minVramGbPerGpu = checkInt(options.minVramGbPerGpu ?? 16, 'min_vram_gb_per_gpu', 16, 140);
    this.include = checkList(options.include, 'include');
    this.exclude = checkList(options.exclude, 'exclude');
    const cap = options.maxHourlyPricePerGpu ?? null;
    if (cap !== null && (typeof cap !== 'number' || !(cap > 0 && cap < 10))) {
      throw new ChutesCliError('ERR_VALIDATION', 'max_hourly_price_per_gpu must be a number with 0 < x < 10');
    }
    this.maxHourlyPricePerGpu = cap;
  }

  /** The deploy JSON form. */
  toJSON(): NodeSelectorJson {
    const out: NodeSelectorJson = {
      gpu_count: this.gpuCount,
      min_vram_gb_per_gpu: this.minVramGbPerGpu,
      include: this.include,
      exclude: this.exclude,
    };
    if (this.maxHourlyPricePerGpu !== null) out.max_hourly_price_per_gpu = this.maxHourlyPricePerGpu;
    return out;
  }

  /**
   * The server's `supported_gpus`: include (or all) minus exclude, keeping VRAM ≥ min.
   * @throws ChutesCliError `ERR_VALIDATION` for an unknown GPU id ("Invalid GPU identifiers").
   */
  supportedGpus(table: Readonly<Record<string, GpuInfo>> = SUPPORTED_GPUS): string[] {
    return supportedGpus(this.toJSON(), table);
  }

  /** Deployment fee estimate in USD: 3 × gpu_count² × the cheapest supported GPU's rate (Oct-2025 server formula). */
  deploymentFee(table: Readonly<Record<string, GpuInfo>> = SUPPORTED_GPUS): number {
    return deploymentFee(this.toJSON(), table);
  }
}

/** See {@link NodeSelector.supportedGpus}. */
export function supportedGpus(
  selector: NodeSelectorJson,
  table: Readonly<Record<string, GpuInfo>> = SUPPORTED_GPUS,
): string[] {
  for (const id of [...(selector.include ?? []), ...(selector.exclude ?? [])]) {
    if (!Object.hasOwn(table, id.toLowerCase()))
      throw new ChutesCliError('ERR_VALIDATION', 'Invalid GPU identifiers');
  }
  const start = selector.include && selector.include.length > 0 ? selector.include : Object.keys(table);
  const excluded = new Set(selector.exclude ?? []);
  return start.filter((id) => !excluded.has(id) && (table[id]?.memory ?? 0) >= selector.min_vram_gb_per_gpu);
}

/** See {@link NodeSelector.deploymentFee}. Returns 0 when no GPU qualifies. */
export function deploymentFee(
  selector: NodeSelectorJson,
  table: Readonly<Record<string, GpuInfo>> = SUPPORTED_GPUS,
): number {
  const rates = supportedGpus(selector, table).map((id) => table[id]!.hourlyRate);
  if (rates.length === 0) return 0;
  const hourly = selector.gpu_count * Math.min(...rates);
  return Math.round(selector.gpu_count * hourly * 3 * 1e6) / 1e6;
}

/**
 * Builds a GPU table from a `GET /pricing` answer (`gpu_price_estimates.{id}.usd.hour`), keeping the VRAM of
 * {@link SUPPORTED_GPUS} (unknown ids are skipped).
 */
export function ratesFromPricing(pricing: unknown): Record<string, GpuInfo> {
  const out: Record<string, GpuInfo> = {};
  const estimates = (pricing as { gpu_price_estimates?: Record<string, { usd?: { hour?: unknown } }> })
    ?.gpu_price_estimates;
  if (!estimates || typeof estimates !== 'object') return { ...SUPPORTED_GPUS };
  for (const [id, value] of Object.entries(estimates)) {
    const hour = value?.usd?.hour;
    const known = SUPPORTED_GPUS[id];
    if (known && typeof hour === 'number' && Number.isFinite(hour))
      out[id] = { memory: known.memory, hourlyRate: hour };
  }
  return Object.keys(out).length > 0 ? out : { ...SUPPORTED_GPUS };
}
