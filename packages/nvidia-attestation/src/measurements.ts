import { bytesToHex, equalBytes } from '@confidential-ai/bytes';
import { NvidiaAttestationError } from './errors.js';
import type { ReferenceIntegrityManifest, RimMeasurement } from './rim.js';
import type { GpuAttestationReport } from './spdm.js';

/** Where a reference value came from. */
export type MeasurementSource = 'driver' | 'vbios';

/** A runtime measurement that differs from its reference values. */
export interface MeasurementMismatch {
  /** RIM index (0-based). */
  readonly index: number;
  /** Which RIM holds the reference values. */
  readonly source: MeasurementSource;
  /** The runtime value, lowercase hex, or null when the report lacks the block. */
  readonly runtime: string | null;
}

/** The outcome of a successful comparison. */
export interface MeasurementComparison {
  /** Active reference indices compared (every one matched). */
  readonly compared: number;
  /** Indices compared against the driver RIM. */
  readonly driverIndices: readonly number[];
  /** Indices compared against the VBIOS RIM. */
  readonly vbiosIndices: readonly number[];
}

/**
 * Compares a report's measurement blocks with the active reference values of a driver and a VBIOS RIM, as
 * NVIDIA's verifier does: RIM index `n` describes block `n + 1`; a block matches when it has the reference size
 * and equals one of the alternatives. Every active index is compared (including index 35, which NVIDIA's verifier
 * also compares whatever the NVDEC0 status).
 * @throws NvidiaAttestationError `ERR_NVIDIA_RIM_CONFLICT` when both RIMs hold an active value at one index,
 *   `ERR_NVIDIA_MEASUREMENT_MISMATCH` listing every mismatching index otherwise.
 */
export function compareMeasurements(
  report: GpuAttestationReport,
  driver: ReferenceIntegrityManifest,
  vbios: ReferenceIntegrityManifest,
  gpuIndex?: number,
): MeasurementComparison {
  const golden = new Map<number, { measurement: RimMeasurement; source: MeasurementSource }>();
  for (const measurement of driver.measurements) {
    if (measurement.active) golden.set(measurement.index, { measurement, source: 'driver' });
  }
  for (const measurement of vbios.measurements) {
    if (!measurement.active) continue;
    if (golden.has(measurement.index)) {
      throw new NvidiaAttestationError(
        'ERR_NVIDIA_RIM_CONFLICT',
        `the driver and VBIOS RIMs both hold an active measurement at index ${measurement.index}`,
        gpuIndex === undefined ? {} : { gpuIndex },
      );
    }
    golden.set(measurement.index, { measurement, source: 'vbios' });
  }
  const runtime = new Map(report.response.blocks.map((block) => [block.index, block.value]));
  const mismatches: MeasurementMismatch[] = [];
  for (const [index, { measurement, source }] of [...golden].sort(([a], [b]) => a - b)) {
    const value = runtime.get(index + 1);
    const matches =
      value !== undefined &&
      value.length === measurement.size &&
      measurement.alternatives.some((alternative) => equalBytes(alternative, value));
    if (!matches) mismatches.push({ index, source, runtime: value === undefined ? null : bytesToHex(value) });
  }
  if (mismatches.length > 0) {
    const list = mismatches.map((item) => `${item.index} (${item.source})`).join(', ');
    throw new NvidiaAttestationError(
      'ERR_NVIDIA_MEASUREMENT_MISMATCH',
      `runtime measurements differ from the reference values at RIM index ${list}`,
      gpuIndex === undefined ? {} : { gpuIndex },
    );
  }
  const indices = (source: MeasurementSource) =>
    [...golden]
      .filter(([, entry]) => entry.source === source)
      .map(([index]) => index)
      .sort((a, b) => a - b);
  return { compared: golden.size, driverIndices: indices('driver'), vbiosIndices: indices('vbios') };
}
