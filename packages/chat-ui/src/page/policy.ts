import type { VerificationPolicy } from '@confidential-ai/verifier';
import { ChatPageError } from './errors.js';

/** The page's policy choices. */
export type PolicyChoice = 'demo' | 'strict' | 'custom';

/**
 * The demo policy: simulated evidence and TEST roots are accepted, and shown as "simulated" (amber), never as
 * "verified"; measurements are not judged. Only with the page's visible demo banner.
 */
export const DEMO_POLICY: VerificationPolicy = Object.freeze({
  acceptSimulated: true,
  tdxMeasurements: 'any',
  nitroPcrs: 'any',
});

/** The verifier's defaults: real vendor roots, collateral and pinned measurements required. */
export const STRICT_POLICY: VerificationPolicy = Object.freeze({});

const BOOLEANS = [
  'acceptSimulated',
  'allowDebug',
  'requireTcbStatus',
  'requireGpu',
  'requireGpuMeasurements',
] as const;
const ROOT_LISTS = ['testRoots', 'trustAnchors'] as const;
/** The kinds of root a list pins: TDX (Intel), Nitro (AWS), GPU device chains and RIMs (NVIDIA). */
const ROOT_KINDS = ['tdx', 'nitro', 'nvidia', 'nvidiaRim'];
const TDX_FIELDS = ['mrTd', 'mrConfigId', 'rtmr0', 'rtmr1', 'rtmr2', 'rtmr3'];
const KNOWN = new Set<string>([
  ...BOOLEANS,
  ...ROOT_LISTS,
  'allowedTcbStatuses',
  'nvidiaRims',
  'tdxCollateral',
  'tdxMeasurements',
  'nitroPcrs',
  'attestationMaxAgeMs',
]);

function invalid(message: string): never {
  throw new ChatPageError('ERR_CHAT_POLICY_INVALID', message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hexMap(value: unknown, name: string, keys: (key: string) => boolean): Record<string, string> {
  if (!isObject(value)) invalid(`${name} must be "any" or an object of hex strings`);
  const out: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (!keys(key)) invalid(`${name} has an unknown field "${key}"`);
    if (typeof entry !== 'string' || !/^(?:0x)?[0-9a-fA-F]+$/.test(entry))
      invalid(`${name}.${key} must be a hex string`);
    out[key] = entry;
  }
  if (Object.keys(out).length === 0) invalid(`${name} names nothing`);
  return out;
}

/**
 * Parses the page's custom policy (JSON with the verifier's option names; roots as PEM strings, collateral as the
 * DCAP collateral JSON). Strict: an unknown option or a value of the wrong type is an error, never ignored.
 * @throws ChatPageError `ERR_CHAT_POLICY_INVALID` naming the offending option.
 */
export function parsePolicy(text: string): VerificationPolicy {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    invalid('The policy is not valid JSON');
  }
  if (!isObject(value)) invalid('The policy must be a JSON object');
  const policy: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (!KNOWN.has(key)) invalid(`Unknown policy option "${key}"`);
    if ((BOOLEANS as readonly string[]).includes(key)) {
      if (typeof entry !== 'boolean') invalid(`${key} must be true or false`);
      policy[key] = entry;
    } else if ((ROOT_LISTS as readonly string[]).includes(key)) {
      if (!isObject(entry))
        invalid(`${key} must be { "tdx": [PEM…], "nitro": [PEM…], "nvidia": [PEM…], "nvidiaRim": [PEM…] }`);
      const lists: Record<string, string[]> = {};
      for (const [kind, roots] of Object.entries(entry)) {
        if (!ROOT_KINDS.includes(kind)) invalid(`${key} has an unknown field "${kind}"`);
        if (
          !Array.isArray(roots) ||
          roots.some((root) => typeof root !== 'string' || !root.includes('-----BEGIN CERTIFICATE-----'))
        )
          invalid(`${key}.${kind} must be a list of PEM certificates`);
        lists[kind] = roots as string[];
      }
      policy[key] = lists;
    } else if (key === 'allowedTcbStatuses') {
      if (!Array.isArray(entry) || entry.some((status) => typeof status !== 'string'))
        invalid('allowedTcbStatuses must be a list of strings');
      policy[key] = entry;
    } else if (key === 'nvidiaRims') {
      if (
        !Array.isArray(entry) ||
        entry.length === 0 ||
        entry.some((rim) => typeof rim !== 'string' || !rim.trimStart().startsWith('<'))
      )
        invalid('nvidiaRims must be a list of RIM documents (signed SWID XML text)');
      policy[key] = entry;
    } else if (key === 'tdxCollateral') {
      const list = Array.isArray(entry) ? entry : [entry];
      if (list.length === 0 || list.some((item) => !isObject(item)))
        invalid('tdxCollateral must be a DCAP collateral object or a list of them');
      policy[key] = entry;
    } else if (key === 'tdxMeasurements') {
      policy[key] = entry === 'any' ? 'any' : hexMap(entry, key, (field) => TDX_FIELDS.includes(field));
    } else if (key === 'nitroPcrs') {
      policy[key] = entry === 'any' ? 'any' : hexMap(entry, key, (field) => /^(?:PCR)?\d{1,2}$/i.test(field));
    } else if (key === 'attestationMaxAgeMs') {
      if (typeof entry !== 'number' || !Number.isFinite(entry) || entry < 0)
        invalid('attestationMaxAgeMs must be a non-negative number');
      policy[key] = entry;
    }
  }
  if (isObject(policy.nitroPcrs)) {
    const pcrs: Record<number, string> = {};
    for (const [key, entry] of Object.entries(policy.nitroPcrs))
      pcrs[Number(key.replace(/^PCR/i, ''))] = String(entry);
    policy.nitroPcrs = pcrs;
  }
  return policy as VerificationPolicy;
}

/** Whether a policy accepts simulated or TEST evidence (the page then shows its demo banner). */
export function acceptsSimulated(policy: VerificationPolicy): boolean {
  return policy.acceptSimulated === true;
}

/** Whether a policy pins roots of its own as trust anchors (the page names them next to "verified"). */
export function pinsTrustAnchors(policy: VerificationPolicy): boolean {
  const anchors = policy.trustAnchors;
  return (
    (anchors?.tdx?.length ?? 0) +
      (anchors?.nitro?.length ?? 0) +
      (anchors?.nvidia?.length ?? 0) +
      (anchors?.nvidiaRim?.length ?? 0) >
    0
  );
}
