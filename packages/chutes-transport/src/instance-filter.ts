import { base64ToBytes, bytesToHex } from '@confidential-ai/bytes';
import {
  chutesReportDataPrefix,
  matchesChutesReportData,
  parseTdxQuote,
  type VerifyTdxQuoteOptions,
  verifyTdxQuote,
} from '@confidential-ai/tdx-attestation';
import type { ChutesInstance } from './discovery.js';
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
   * Further checks on a quote whose REPORTDATA binding already matched (for example DCAP signature
   * verification with `@confidential-ai/tdx-attestation`). Return false to drop the instance; a throw drops it too.
   */
  verifyQuote?: (entry: TdxEvidenceEntry, instance: ChutesInstance) => boolean | Promise<boolean>;
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

/**
 * The built-in TDX binding check of decision D5. For each discovery answer it draws 32 random bytes, calls
 * `GET {apiBase}/chutes/{chute_id}/evidence?nonce=<64 hex>` and keeps an instance only when an evidence entry
 * carries its `instance_id` and that version 4 quote's `report_data[0:32]` equals
 * `SHA-256(UTF-8(nonce_hex || e2e_pubkey))`. Instances listed in `failed_instance_ids` or without matching
 * evidence are dropped; a failed evidence call drops every instance (fail closed).
 *
 * This proves that the quote was produced for this key after the nonce was drawn. With `verify` it also checks
 * the quote's DCAP signature chain (and, given collateral, the TCB status) offline; TLS certificate binding
 * and GPU evidence can be added through `verifyQuote`.
 *
 * @example
 * ```ts
 * const fetch = createChutesFetch({ apiKey, instanceFilter: createTdxEvidenceFilter() });
 * ```
 */
export function createTdxEvidenceFilter(options: TdxEvidenceFilterOptions = {}): InstanceFilter {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return async (chuteId, instances, context) => {
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
        return [];
      }
      body = await response.json();
    } catch (cause) {
      context.logger.warn('evidence call failed; dropping every instance', { chuteId, error: String(cause) });
      return [];
    }
    if (!isPlainObject(body) || !Array.isArray(body.evidence)) {
      context.logger.warn('evidence answer is malformed; dropping every instance', { chuteId });
      return [];
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
      if (failed.has(instance.instanceId)) continue;
      let ok = false;
      for (const entry of entries) {
        if (entry.instanceId !== instance.instanceId) continue;
        const reportData = readTdxReportData(entry.quote);
        if (!reportData || !matchesChutesReportData(reportData, nonceHex, instance.e2ePubkey)) continue;
        if (options.verify) {
          try {
            await verifyTdxQuote(entry.quote, {
              ...(options.verify.collateral === undefined ? { chainOnly: true } : {}),
              ...options.verify,
              expectedReportData: chutesReportDataPrefix(nonceHex, instance.e2ePubkey),
            });
          } catch (cause) {
            context.logger.warn('TDX quote verification failed; dropping instance', {
              chuteId,
              instanceId: instance.instanceId,
              code: (cause as { code?: unknown })?.code,
            });
            continue;
          }
        }
        if (options.verifyQuote) {
          try {
            if (!(await options.verifyQuote(entry, instance))) continue;
          } catch (cause) {
            context.logger.warn('verifyQuote threw; dropping instance', { chuteId, error: String(cause) });
            continue;
          }
        }
        ok = true;
        break;
      }
      if (ok) kept.push(instance);
      else
        context.logger.warn('instance has no matching TDX evidence; dropped', {
          chuteId,
          instanceId: instance.instanceId,
        });
    }
    return kept;
  };
}
