import { base64ToBytes, bytesToHex } from '@confidential-ai/bytes';
import {
  chutesReportDataPrefix,
  matchesChutesReportData,
  parseTdxQuote,
  type VerifyTdxQuoteOptions,
  verifyTdxQuote,
} from '@confidential-ai/tdx-attestation';
import type { ChutesInstance } from './discovery.js';
import {
  checkInstanceGpuEvidence,
  type GpuEvidenceCheck,
  type GpuEvidenceGateOptions,
} from './gpu-evidence-gate.js';
import type { LevelLogger } from './logger.js';

/** What an {@link InstanceFilter} gets besides the instances: the transport's own settings. */
export interface InstanceFilterContext {
  /** The `apiBase` of the transport (for evidence calls), without a trailing slash. */
  readonly apiBase: string;
  /** The API key of the request being served (send it as `Authorization: Bearer <key>`; never log it). */
  readonly apiKey: string;
  /** The transport's inner fetch. */
  readonly fetch: typeof globalThis.fetch;
  /** The transport's random source. */
  readonly random: (length: number) => Uint8Array;
  /** The transport's level-filtered logger. */
  readonly logger: LevelLogger;
}

/**
 * Attestation gate (decision D5): receives the chute id and the discovered instances and returns the instances
 * to keep (matched by `instanceId`; unknown ids are ignored). It runs on every discovery answer before any
 * nonce is used. Returning none makes the request fail with `ERR_INSTANCE_FILTER_EMPTY`; a thrown error
 * propagates to the caller.
 */
export type InstanceFilter = (
  chuteId: string,
  instances: readonly ChutesInstance[],
  context: InstanceFilterContext,
) => readonly ChutesInstance[] | Promise<readonly ChutesInstance[]>;

/** One evidence entry of `GET /chutes/{chute_id}/evidence`. */
export interface TdxEvidenceEntry {
  /** Instance the quote belongs to. */
  readonly instanceId: string;
  /** The decoded TDX quote. */
  readonly quote: Uint8Array;
  /** The raw JSON entry (GPU evidence, certificate, ...). */
  readonly raw: Readonly<Record<string, unknown>>;
}

/**
 * Why the gate dropped an instance (stable codes; the logs and {@link InstanceGateResult} carry them):
 * - `ERR_GATE_EVIDENCE_UNAVAILABLE`: the evidence call failed or its answer is not the documented shape (every
 *   instance is dropped).
 * - `ERR_GATE_INSTANCE_FAILED`: Chutes lists the instance in `failed_instance_ids`.
 * - `ERR_GATE_EVIDENCE_MISSING`: no evidence entry carries the instance's id (or none has a base64 quote).
 * - `ERR_GATE_BINDING_MISMATCH`: no evidence quote of the instance is a version 4 quote whose
 *   REPORTDATA[0:32] = SHA-256(nonce_hex ‖ e2e_pubkey).
 * - `ERR_GATE_TDX_QUOTE`: the bound quote fails the offline DCAP verification (`verify`; `cause` is the
 *   `ERR_TDX_*` code).
 * - `ERR_GATE_GPU_EVIDENCE_MISSING`: GPU evidence is required (`gpu`) but the entry has none.
 * - `ERR_GATE_GPU_EVIDENCE`: the GPU evidence does not verify (`cause` is the `ERR_NVIDIA_*` code).
 * - `ERR_GATE_QUOTE_REJECTED`: the `verifyQuote` hook returned false or threw.
 */
export type InstanceGateCode =
  | 'ERR_GATE_EVIDENCE_UNAVAILABLE'
  | 'ERR_GATE_INSTANCE_FAILED'
  | 'ERR_GATE_EVIDENCE_MISSING'
  | 'ERR_GATE_BINDING_MISMATCH'
  | 'ERR_GATE_TDX_QUOTE'
  | 'ERR_GATE_GPU_EVIDENCE_MISSING'
  | 'ERR_GATE_GPU_EVIDENCE'
  | 'ERR_GATE_QUOTE_REJECTED';

/** What the GPU check established for a kept instance. */
export interface InstanceGpuSummary {
  /** `verified`, or `absent` (no evidence and `gpu.required` false). */
  readonly status: 'verified' | 'absent';
  /** Number of GPUs whose reports verified. */
  readonly gpuCount: number;
  /**
   * The anchor of the device chains: `nvidia` is true only for NVIDIA's pinned Device Identity CA, false for a
   * caller-supplied (e.g. TEST) root; null when absent.
   */
  readonly deviceRoot: { readonly subject: string; readonly sha256: string; readonly nvidia: boolean } | null;
  /** `matched` (RIMs given and every measurement matched) or `not-compared` (no RIMs); null when absent. */
  readonly measurements: 'matched' | 'not-compared' | null;
}

/** The gate's verdict on one discovered instance. */
export interface InstanceGateResult {
  /** The chute. */
  readonly chuteId: string;
  /** The instance. */
  readonly instanceId: string;
  /** Whether the instance was kept. */
  readonly kept: boolean;
  /** Why it was dropped (the last reason, when several evidence entries failed). */
  readonly code?: InstanceGateCode;
  /** The `ERR_TDX_*` / `ERR_NVIDIA_*` code behind `ERR_GATE_TDX_QUOTE` / `ERR_GATE_GPU_EVIDENCE`. */
  readonly cause?: string;
  /** The GPU check of a kept instance, when `gpu` is configured. */
  readonly gpu?: InstanceGpuSummary;
}

/** Options of {@link createTdxEvidenceFilter}. */
export interface TdxEvidenceFilterOptions {
  /**
   * Also verify each matching quote offline with `@confidential-ai/tdx-attestation` (quote and QE report
   * signatures, attestation-key binding, PCK chain to the pinned Intel root, debug bit; with `collateral`, TCB
   * info, QE identity, CRLs and the TCB status). The REPORTDATA binding is passed as `expectedReportData`.
   * A quote that fails verification drops its instance. Default: binding check only (decision D5).
   */
  verify?: Omit<VerifyTdxQuoteOptions, 'expectedReportData'>;
  /**
   * Also verify each instance's NVIDIA GPU evidence (`gpu_evidence` of its bound evidence entry) offline with
   * `@confidential-ai/nvidia-attestation`: every report bound to SHA-256(nonce_hex ‖ e2e_pubkey), its chain to
   * NVIDIA's pinned root (or `gpu.root`), measurements against `gpu.rims` when given. GPU evidence is required by
   * default (`gpu.required`). Chutes' `gpu_tokens` (NRAS claims) are never consulted. Default: not checked.
   */
  gpu?: GpuEvidenceGateOptions;
  /**
   * Further checks on a quote whose REPORTDATA binding already matched (for example DCAP signature
   * verification with `@confidential-ai/tdx-attestation`). Return false to drop the instance; a throw drops it too.
   */
  verifyQuote?: (entry: TdxEvidenceEntry, instance: ChutesInstance) => boolean | Promise<boolean>;
  /** Called with the verdict on every discovered instance (kept or dropped, and why); a throw propagates. */
  onResult?: (result: InstanceGateResult) => void;
  /** Timeout of the evidence call in milliseconds. Default 30 000. */
  timeoutMs?: number;
}

/**
 * Reads REPORTDATA (64 bytes) from a TDX quote with tdx-attestation's strict parser, or returns `undefined`
 * when the bytes are not a well-formed version 4 quote.
 */
export function readTdxReportData(quote: Uint8Array): Uint8Array | undefined {
  try {
    return parseTdxQuote(quote).body.reportData;
  } catch {
    return undefined;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function gpuSummary(check: GpuEvidenceCheck): InstanceGpuSummary | undefined {
  if (check.status === 'absent')
    return { status: 'absent', gpuCount: 0, deviceRoot: null, measurements: null };
  if (check.status !== 'verified') return undefined;
  const { verification } = check;
  return {
    status: 'verified',
    gpuCount: verification.gpus.length,
    deviceRoot: { ...verification.trust.deviceRoot },
    measurements: verification.measurements,
  };
}

/** The verdict on one evidence entry of an instance: kept (with its GPU summary) or why not. */
type EntryOutcome =
  | { kept: true; gpu: InstanceGpuSummary | undefined }
  | { kept: false; code: InstanceGateCode; cause?: string };

async function checkEntry(
  entry: TdxEvidenceEntry,
  instance: ChutesInstance,
  nonceHex: string,
  options: TdxEvidenceFilterOptions,
  context: InstanceFilterContext,
): Promise<EntryOutcome> {
  const reportData = readTdxReportData(entry.quote);
  if (!reportData || !matchesChutesReportData(reportData, nonceHex, instance.e2ePubkey))
    return { kept: false, code: 'ERR_GATE_BINDING_MISMATCH' };
  const digest = chutesReportDataPrefix(nonceHex, instance.e2ePubkey);
  if (options.verify) {
    try {
      await verifyTdxQuote(entry.quote, {
        ...(options.verify.collateral === undefined ? { chainOnly: true } : {}),
        ...options.verify,
        expectedReportData: digest,
      });
    } catch (cause) {
      const code = (cause as { code?: unknown })?.code;
      return { kept: false, code: 'ERR_GATE_TDX_QUOTE', cause: typeof code === 'string' ? code : 'unknown' };
    }
  }
  let gpu: InstanceGpuSummary | undefined;
  if (options.gpu) {
    const check = await checkInstanceGpuEvidence(entry.raw.gpu_evidence, digest, options.gpu);
    if (check.status === 'failed') {
      return check.code === 'ERR_GPU_EVIDENCE_MISSING'
        ? { kept: false, code: 'ERR_GATE_GPU_EVIDENCE_MISSING' }
        : { kept: false, code: 'ERR_GATE_GPU_EVIDENCE', cause: check.code };
    }
    gpu = gpuSummary(check);
  }
  if (options.verifyQuote) {
    try {
      if (!(await options.verifyQuote(entry, instance)))
        return { kept: false, code: 'ERR_GATE_QUOTE_REJECTED' };
    } catch (cause) {
      context.logger.warn('verifyQuote threw; dropping instance', { error: String(cause) });
      return { kept: false, code: 'ERR_GATE_QUOTE_REJECTED' };
    }
  }
  return { kept: true, gpu };
}

/**
 * The built-in attestation gate of decision D5. For each discovery answer it draws 32 random bytes, calls
 * `GET {apiBase}/chutes/{chute_id}/evidence?nonce=<64 hex>` and keeps an instance only when an evidence entry
 * carries its `instance_id` and that version 4 quote's `report_data[0:32]` equals
 * `SHA-256(UTF-8(nonce_hex || e2e_pubkey))`. Instances listed in `failed_instance_ids` or without matching
 * evidence are dropped; a failed evidence call drops every instance (fail closed).
 *
 * This proves that the quote was produced for this key after the nonce was drawn. With `verify` it also checks
 * the quote's DCAP signature chain (and, given collateral, the TCB status) offline; with `gpu` it verifies each
 * instance's NVIDIA GPU evidence, bound to the same digest, offline to NVIDIA's root. TLS certificate binding can
 * be added through `verifyQuote`. `onResult` receives the verdict on every instance with a stable code.
 *
 * @example
 * ```ts
 * const fetch = createChutesFetch({ apiKey, instanceFilter: createTdxEvidenceFilter({ verify: {}, gpu: {} }) });
 * ```
 */
export function createTdxEvidenceFilter(options: TdxEvidenceFilterOptions = {}): InstanceFilter {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return async (chuteId, instances, context) => {
    const report = (result: Omit<InstanceGateResult, 'chuteId'>): void => {
      if (!result.kept) {
        context.logger.warn('instance dropped by the attestation gate', {
          chuteId,
          instanceId: result.instanceId,
          code: result.code,
          ...(result.cause === undefined ? {} : { cause: result.cause }),
        });
      }
      options.onResult?.({ chuteId, ...result });
    };
    const dropAll = (): readonly ChutesInstance[] => {
      for (const instance of instances)
        report({ instanceId: instance.instanceId, kept: false, code: 'ERR_GATE_EVIDENCE_UNAVAILABLE' });
      return [];
    };
    const nonceHex = bytesToHex(context.random(32));
    const url = `${context.apiBase}/chutes/${encodeURIComponent(chuteId)}/evidence?nonce=${nonceHex}`;
    let body: unknown;
    try {
      const response = await context.fetch.call(undefined, url, {
        method: 'GET',
        headers: { authorization: `Bearer ${context.apiKey}`, accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => {});
        context.logger.warn('evidence call failed; dropping every instance', {
          chuteId,
          status: response.status,
        });
        return dropAll();
      }
      body = await response.json();
    } catch (cause) {
      context.logger.warn('evidence call failed; dropping every instance', { chuteId, error: String(cause) });
      return dropAll();
    }
    if (!isPlainObject(body) || !Array.isArray(body.evidence)) {
      context.logger.warn('evidence answer is malformed; dropping every instance', { chuteId });
      return dropAll();
    }
    const failed = new Set(
      Array.isArray(body.failed_instance_ids)
        ? body.failed_instance_ids.filter((id) => typeof id === 'string')
        : [],
    );
    const entries: TdxEvidenceEntry[] = [];
    for (const raw of body.evidence as unknown[]) {
      if (!isPlainObject(raw) || typeof raw.instance_id !== 'string' || typeof raw.quote !== 'string')
        continue;
      try {
        entries.push({ instanceId: raw.instance_id, quote: base64ToBytes(raw.quote), raw });
      } catch {
        // A quote that is not strict base64 matches nothing.
      }
    }
    const kept: ChutesInstance[] = [];
    for (const instance of instances) {
      if (failed.has(instance.instanceId)) {
        report({ instanceId: instance.instanceId, kept: false, code: 'ERR_GATE_INSTANCE_FAILED' });
        continue;
      }
      let outcome: EntryOutcome = { kept: false, code: 'ERR_GATE_EVIDENCE_MISSING' };
      for (const entry of entries) {
        if (entry.instanceId !== instance.instanceId) continue;
        outcome = await checkEntry(entry, instance, nonceHex, options, context);
        if (outcome.kept) break;
      }
      if (outcome.kept) {
        kept.push(instance);
        report({
          instanceId: instance.instanceId,
          kept: true,
          ...(outcome.gpu === undefined ? {} : { gpu: outcome.gpu }),
        });
      } else {
        report({
          instanceId: instance.instanceId,
          kept: false,
          code: outcome.code,
          ...(outcome.cause === undefined ? {} : { cause: outcome.cause }),
        });
      }
    }
    return kept;
  };
}
