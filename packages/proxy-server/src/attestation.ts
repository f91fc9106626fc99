import { randomBytes } from 'node:crypto';
import { bytesToHex, hexToBytes } from '@confidential-ai/bytes';
import type { TestNvidiaPlatform } from '@confidential-ai/nvidia-attestation/testing';
import type { AppDependencies } from './app.js';
import type { E2eeAlgo } from './e2ee.js';
import { publicKeyHex } from './e2ee.js';
import { ApiError } from './errors.js';
import type { ModelKeys } from './keys.js';
import type { ResponseSigner } from './signing.js';

/** The marker every simulated report carries, at top level and in each `all_attestations` entry. */
export const SIMULATED_ATTESTATION_WARNING =
  'SIMULATED ATTESTATION: this proxy is not running inside a TEE. There is no TDX quote, and the GPU evidence ' +
  'comes from simulated GPUs signed under a TEST root (not NVIDIA): nothing in this report attests real ' +
  'hardware. Do not trust it.';

/** The marker of the simulated report's `nvidia_payload`. */
export const SIMULATED_GPU_EVIDENCE_WARNING =
  'TEST GPU EVIDENCE: real-shaped SPDM reports of simulated GPUs, signed under a synthetic TEST root that is not ' +
  "NVIDIA's Device Identity CA. It verifies only against that TEST root.";

/** GPUs in the simulated report's `nvidia_payload`. */
export const SIMULATED_GPU_COUNT = 1;

let processGpus: Promise<TestNvidiaPlatform> | undefined;

/**
 * The simulated GPUs of this process (one synthetic NVIDIA-like platform from
 * `@confidential-ai/nvidia-attestation/testing`, created on first use and then kept): they sign the GPU evidence of
 * simulated reports. Its `deviceRoot` is the TEST root that evidence chains to.
 */
export function simulatedGpuPlatform(): Promise<TestNvidiaPlatform> {
  processGpus ??= import('@confidential-ai/nvidia-attestation/testing')
    .then(({ createTestNvidiaPlatform }) => createTestNvidiaPlatform())
    .catch((error: unknown) => {
      processGpus = undefined;
      throw error;
    });
  return processGpus;
}

/** Inputs of {@link buildSimulatedReport}. */
export interface SimulatedReportInput {
  /** `ecdsa` or `ed25519`. */
  algo: E2eeAlgo;
  /** 32-byte request nonce (hex); random when undefined. */
  nonceHex?: string | undefined;
  /** Instance keys. */
  keys: ModelKeys;
  /** Signer (for the signing address). */
  signer: ResponseSigner;
  /** The simulated GPUs that sign the report's GPU evidence; default {@link simulatedGpuPlatform}. */
  gpuPlatform?: TestNvidiaPlatform | undefined;
}

/**
 * Builds the outside-a-TEE attestation report (D11): the reference's field names, with `simulated: true`,
 * `verified: false`, `attestation_type: "simulated"`, a warning, empty `intel_quote`/`quote` (no fake quote that
 * a verifier could mistake for evidence), and `report_data` laid out as the reference's TDX report_data
 * (identity zero-padded to 32 bytes ‖ nonce) so clients can exercise their binding checks. Its `nvidia_payload`
 * (a JSON string, §5.4) holds real-shaped GPU evidence, as the reference's `GPU_NO_HW_MODE` returns canned
 * evidence, but really signed: the SPDM reports of {@link SIMULATED_GPU_COUNT} simulated GPU(s) answering the
 * report's nonce, each with its certificate chain to a synthetic TEST root, marked `simulated: true` with a warning,
 * so that clients exercise the whole GPU verification (and accept it only with that TEST root).
 */
export async function buildSimulatedReport(input: SimulatedReportInput): Promise<Record<string, unknown>> {
  const nonceHex = input.nonceHex ?? bytesToHex(new Uint8Array(randomBytes(32)));
  const signingAddress = input.algo === 'ecdsa' ? input.signer.ecdsaAddress : input.signer.ed25519Address;
  const identity =
    input.algo === 'ecdsa' ? hexToBytes(signingAddress, { allowPrefix: true }) : input.keys.ed25519.publicKey;
  const reportData = new Uint8Array(64);
  reportData.set(identity, 0);
  reportData.set(hexToBytes(nonceHex), 32);
  const attestation: Record<string, unknown> = {
    simulated: true,
    verified: false,
    attestation_type: 'simulated',
    warning: SIMULATED_ATTESTATION_WARNING,
    signing_address: signingAddress,
    signing_algo: input.algo,
    request_nonce: nonceHex,
    report_data: bytesToHex(reportData),
    intel_quote: '',
    quote: '',
    event_log: '[]',
    vm_config: '{}',
    nvidia_payload: JSON.stringify({
      nonce: nonceHex,
      evidence_list: (
        await (input.gpuPlatform ?? (await simulatedGpuPlatform())).createEvidence({
          nonce: hexToBytes(nonceHex),
          gpuCount: SIMULATED_GPU_COUNT,
        })
      ).evidenceList,
      arch: 'HOPPER',
      simulated: true,
      warning: SIMULATED_GPU_EVIDENCE_WARNING,
    }),
    info: { app_name: 'confidential-proxy (simulated, no TEE)', simulated: true, tcb_info: {} },
    signing_public_key: publicKeyHex(input.keys, input.algo),
  };
  return { ...attestation, all_attestations: [attestation] };
}

/**
 * This server's own attestation report for `algo` and a 32-byte hex nonce (random when undefined): the simulated
 * report (D11), since the server does not run inside a TEE here, with TEST GPU evidence bound to the nonce.
 * @throws ApiError 503 `attestation_unavailable` when simulation is disabled (`attestation.simulate = false`).
 */
export async function ownAttestationReport(
  deps: Pick<AppDependencies, 'config' | 'keys' | 'signer'>,
  algo: E2eeAlgo,
  nonceHex?: string,
): Promise<Record<string, unknown>> {
  if (!deps.config.attestation.simulate) {
    throw new ApiError(
      503,
      'attestation_unavailable',
      'No TEE is available and attestation simulation is disabled (attestation.simulate = false)',
    );
  }
  return buildSimulatedReport({ algo, nonceHex, keys: deps.keys, signer: deps.signer });
}

/**
 * The `signing_algo` query parameter: `ecdsa` (default) or `ed25519`, trimmed and case-insensitive.
 * @throws ApiError 400 `invalid_signing_algo` for anything else.
 */
export function signingAlgoParam(value: string | undefined): E2eeAlgo {
  const algo = (value ?? 'ecdsa').trim().toLowerCase();
  if (algo !== 'ecdsa' && algo !== 'ed25519') {
    throw new ApiError(400, 'invalid_signing_algo', 'signing_algo must be ecdsa or ed25519', {
      param: 'signing_algo',
    });
  }
  return algo;
}
