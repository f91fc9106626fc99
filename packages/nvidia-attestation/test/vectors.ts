import { readFileSync } from 'node:fs';
import type { GpuEvidenceListEntry } from '../src/index.js';

/** Reads a JSON vector file of `test/vectors/`. */
export function vector<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), 'utf8')) as T;
}

/** The real H100 report with matching RIMs (go-nvtrust / nvtrust). */
export interface Hopper545Vector {
  nonce: string;
  at: string;
  report: string;
  certificateChain: string;
  driverRim: string;
  vbiosRim: string;
  productionVbiosRim: string;
  invalidCertificateChain: string;
}

/** A real report with its chain. */
export interface ReportVector {
  nonce: string;
  report: string;
  certificateChain: string;
}

export const hopper545 = vector<Hopper545Vector>('hopper-545-go-nvtrust.json');
export const hopper550 = vector<ReportVector & { truncatedChains: Record<string, string> }>(
  'hopper-550-nvtrust.json',
);
export const hopper580 = vector<ReportVector>('hopper-580-trustee.json');
export const hgx = vector<{ nonce: string; evidenceList: GpuEvidenceListEntry[] }>(
  'hgx-8gpu-ppcie-nvtrust.json',
);
export const rimSamples = vector<{ at: string; rims: Record<string, string> }>('rims-nvtrust-samples.json');
