import { X509Certificate } from 'node:crypto';
import { base64UrlToBytes, bytesToUtf8 } from '@confidential-ai/bytes';
import {
  type GpuEvidenceInput,
  NvidiaAttestationError,
  verifyGpuEvidence,
} from '@confidential-ai/nvidia-attestation';
import { isPlainObject } from '@confidential-ai/server-kit';
import type { CheckOutcome } from './chutes-attestation.js';
import { type FileSetting, readRootFile, readSettingFile } from './config-files.js';
import { ConfigError } from './errors.js';

const MAX_JWT_CHARS = 64 * 1024;

/**
 * Which anchor verified the GPU device chains: NVIDIA's Device Identity CA (the pinned root, or a configured file
 * that is byte for byte NVIDIA's), a root from `chutes.nvidia_root_file`, or the TEST root of the built-in
 * simulated Chutes server. Only the first is NVIDIA's.
 */
export type GpuTrustAnchor = 'nvidia-device-identity-ca' | 'configured-root' | 'embedded-test-root';

/** The GPU trust anchors and collateral of the chain route. */
export interface NvidiaMaterial {
  /** Device trust anchor (DER or PEM); undefined: NVIDIA's pinned Device Identity CA. */
  readonly root: Uint8Array | string | undefined;
  /** Where `root` came from. */
  readonly rootSource: GpuTrustAnchor;
  /** RIMs (signed SWID XML) as collateral; empty: measurements not compared. */
  readonly rims: readonly string[];
  /** RIM trust anchor (DER or PEM); undefined: NVIDIA's pinned CoRIM signing root. */
  readonly rimRoot: Uint8Array | string | undefined;
}

/** What the GPU evidence of one instance established, as the receipt shows it. */
export interface ChutesGpuSummary {
  /** GPUs whose reports verified. */
  gpu_count: number;
  /** The anchor of every device chain (never `nvidia-device-identity-ca` for a TEST root). */
  trust_anchor: GpuTrustAnchor;
  /** That anchor's subject and SHA-256 (hex). */
  device_root: { subject: string; sha256: string };
  /** `matched` (compared with the configured RIMs) or `not-compared` (no RIMs configured). */
  measurements: 'matched' | 'not-compared';
  /** Driver versions of the GPUs (from their signed reports). */
  driver_versions: string[];
}

/** The GPU evidence check of one instance. */
export interface ChutesGpuResult {
  /** `pass`, `fail`, or `absent` (no evidence and none required). */
  readonly outcome: CheckOutcome;
  /** Stable failure codes: `gpu_evidence_missing`, `gpu_evidence_invalid:<ERR_NVIDIA_…>`. */
  readonly errors: string[];
  /** Details of verified evidence. */
  readonly summary: ChutesGpuSummary | null;
}

const ROOT_SETTING: FileSetting = { tomlKey: 'chutes.nvidia_root_file', envVar: 'CHUTES_NVIDIA_ROOT_FILE' };
const RIM_SETTING: FileSetting = { tomlKey: 'chutes.nvidia_rim_file', envVar: 'CHUTES_NVIDIA_RIM_FILE' };
const RIM_ROOT_SETTING: FileSetting = {
  tomlKey: 'chutes.nvidia_rim_root_file',
  envVar: 'CHUTES_NVIDIA_RIM_ROOT_FILE',
};

function certificateFile(path: string, setting: FileSetting): Uint8Array | string {
  const root = readRootFile(path, setting);
  try {
    new X509Certificate(typeof root === 'string' ? root : Buffer.from(root));
  } catch (error) {
    throw new ConfigError([{ ...setting, message: `${path} is not an X.509 certificate (PEM or DER)` }], {
      cause: error,
    });
  }
  return root;
}

/**
 * Loads the GPU trust anchors and RIMs of the chain route: `chutes.nvidia_root_file` (PEM or DER; default NVIDIA's
 * pinned root), `chutes.nvidia_rim_file` (a JSON array of RIM XML documents), `chutes.nvidia_rim_root_file`.
 * `embeddedTestRoot` is the TEST root of the built-in simulated Chutes server, trusted only when that server is
 * the upstream and no root file is configured.
 *
 * @throws {ConfigError} `ERR_CONFIG_INVALID` when a file cannot be read, a root is not a certificate, or the RIM
 * file is not a non-empty JSON array of XML documents.
 */
export function loadNvidiaMaterial(
  settings: {
    readonly nvidiaRootFile: string | undefined;
    readonly nvidiaRimFile: string | undefined;
    readonly nvidiaRimRootFile: string | undefined;
  },
  embeddedTestRoot?: Uint8Array,
): NvidiaMaterial {
  let root: Uint8Array | string | undefined;
  let rootSource: GpuTrustAnchor = 'nvidia-device-identity-ca';
  if (settings.nvidiaRootFile !== undefined) {
    root = certificateFile(settings.nvidiaRootFile, ROOT_SETTING);
    rootSource = 'configured-root';
  }
  const rims: string[] = [];
  if (settings.nvidiaRimFile !== undefined) {
    const text = readSettingFile(settings.nvidiaRimFile, RIM_SETTING).toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new ConfigError([{ ...RIM_SETTING, message: 'RIM file is not JSON' }], { cause: error });
    }
    if (
      !Array.isArray(parsed) ||
      parsed.length === 0 ||
      !parsed.every((rim) => typeof rim === 'string' && rim.trimStart().startsWith('<'))
    ) {
      throw new ConfigError([
        { ...RIM_SETTING, message: 'expected a non-empty JSON array of RIM documents (XML text)' },
      ]);
    }
    rims.push(...(parsed as string[]));
  }
  const rimRoot =
    settings.nvidiaRimRootFile === undefined
      ? undefined
      : certificateFile(settings.nvidiaRimRootFile, RIM_ROOT_SETTING);
  const material: NvidiaMaterial = { root, rootSource, rims, rimRoot };
  return embeddedTestRoot === undefined ? material : withEmbeddedTestRoot(material, embeddedTestRoot);
}

/**
 * `material` with the built-in simulated Chutes server's TEST root as device trust anchor, unless a root file is
 * configured (`chutes.nvidia_root_file` always wins). The RIMs and the RIM root stay as loaded.
 *
 * @example
 * ```ts
 * const material = withEmbeddedTestRoot(loadNvidiaMaterial(settings), await embedded.nvidiaRoot());
 * ```
 */
export function withEmbeddedTestRoot(material: NvidiaMaterial, embeddedTestRoot: Uint8Array): NvidiaMaterial {
  return material.rootSource === 'configured-root'
    ? material
    : { ...material, root: embeddedTestRoot, rootSource: 'embedded-test-root' };
}

/**
 * Verifies one instance's `gpu_evidence` (the nvtrust SDK evidence list Chutes serves, one
 * `{certificate, evidence, arch}` per GPU) with `@confidential-ai/nvidia-attestation`: every SPDM report bound to
 * `digest` (= REPORTDATA[0:32] of the instance's quote, SHA-256(nonce ‖ e2e_pubkey)), each device chain to the
 * material's root, each report signature, and the measurements against the configured RIMs. Never throws for bad
 * evidence.
 */
export async function verifyChutesGpuEvidence(
  gpuEvidence: unknown,
  digest: Uint8Array,
  options: { material: NvidiaMaterial; required: boolean; now?: Date | number | undefined },
): Promise<ChutesGpuResult> {
  if (
    gpuEvidence === undefined ||
    gpuEvidence === null ||
    (Array.isArray(gpuEvidence) && gpuEvidence.length === 0)
  ) {
    return options.required
      ? { outcome: 'fail', errors: ['gpu_evidence_missing'], summary: null }
      : { outcome: 'absent', errors: [], summary: null };
  }
  const { material } = options;
  try {
    const result = await verifyGpuEvidence(gpuEvidence as GpuEvidenceInput, {
      nonce: digest,
      ...(options.now === undefined ? {} : { at: options.now }),
      ...(material.root === undefined ? {} : { root: material.root }),
      ...(material.rims.length === 0 ? {} : { rims: material.rims }),
      ...(material.rimRoot === undefined ? {} : { rimRoot: material.rimRoot }),
    });
    const anchor = result.trust.deviceRoot;
    return {
      outcome: 'pass',
      errors: [],
      summary: {
        gpu_count: result.gpus.length,
        trust_anchor: anchor.nvidia
          ? 'nvidia-device-identity-ca'
          : material.rootSource === 'embedded-test-root'
            ? 'embedded-test-root'
            : 'configured-root',
        device_root: { subject: anchor.subject, sha256: anchor.sha256 },
        measurements: result.measurements,
        driver_versions: [...new Set(result.gpus.map((gpu) => gpu.driverVersion ?? 'unknown'))],
      },
    };
  } catch (error) {
    if (!NvidiaAttestationError.isInstance(error)) throw error;
    return { outcome: 'fail', errors: [`gpu_evidence_invalid:${error.code}`], summary: null };
  }
}

/**
 * Decodes the claims of a compact JWS/JWT WITHOUT verifying its signature (as the reference does for NVIDIA
 * tokens): three dot-separated parts, strict base64url payload, strict UTF-8, a JSON object.
 *
 * @throws {TypeError} when the token is not of that shape.
 */
export function decodeJwtClaimsUnverified(token: unknown): Record<string, unknown> {
  if (typeof token !== 'string' || token.length > MAX_JWT_CHARS) throw new TypeError('token is not a string');
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((part) => part.length === 0)) throw new TypeError('not a compact JWT');
  const claims: unknown = JSON.parse(bytesToUtf8(base64UrlToBytes(parts[1]!)));
  if (!isPlainObject(claims)) throw new TypeError('JWT claims are not an object');
  return claims;
}

/**
 * The GPU platform token of Chutes' `gpu_tokens` (NRAS's answer, `{tokens: [["JWT", <platform token>], {...}],
 * error?}`), read as an ADDITIONAL signal only: its signature is not verified, so it never counts as a GPU
 * verification. A token that is present but claims a failed attestation, carries an error, is unreadable or names
 * another nonce than `digestHex` fails the instance (fail closed); an absent token is no failure.
 * @returns `absent`, `pass` or `fail` with the stable error codes.
 */
export function checkGpuTokenClaims(
  gpuTokens: unknown,
  digestHex: string,
): { outcome: CheckOutcome; errors: string[] } {
  if (gpuTokens === undefined || gpuTokens === null) return { outcome: 'absent', errors: [] };
  if (!isPlainObject(gpuTokens)) return { outcome: 'fail', errors: ['gpu_tokens_parse_failed'] };
  const errors: string[] = [];
  if (gpuTokens.error !== undefined && gpuTokens.error !== null && gpuTokens.error !== false) {
    errors.push('gpu_tokens_error');
  }
  const tokens = gpuTokens.tokens;
  if (!Array.isArray(tokens) || tokens.length === 0) {
    return errors.length > 0 ? { outcome: 'fail', errors } : { outcome: 'absent', errors };
  }
  const platform = tokens[0];
  if (!Array.isArray(platform) || platform.length < 2) {
    return { outcome: 'fail', errors: [...errors, 'gpu_platform_token_format_invalid'] };
  }
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwtClaimsUnverified(platform[1]);
  } catch {
    return { outcome: 'fail', errors: [...errors, 'gpu_tokens_parse_failed'] };
  }
  if (claims['x-nvidia-overall-att-result'] !== true) errors.push('gpu_overall_attestation_failed');
  if (claims.eat_nonce !== digestHex) errors.push('gpu_eat_nonce_mismatch');
  return { outcome: errors.length === 0 ? 'pass' : 'fail', errors };
}
