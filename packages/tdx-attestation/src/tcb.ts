import { bytesToHex, equalBytes } from '@confidential-ai/bytes';
import type { IsvSvnTcbLevel, QeIdentity, TcbInfo, TcbLevel, TcbStatus } from './collateral.js';
import { TdxAttestationError } from './errors.js';
import type { QeReport, TdReportBody } from './quote.js';
import type { PckExtensions } from './sgx-extensions.js';

/** A TCB status with the advisories that apply. */
export interface TcbStatusWithAdvisories {
  /** Status. */
  status: TcbStatus;
  /** Intel security advisory ids (deduplicated, in order of appearance). */
  advisoryIds: string[];
}

/** The outcome of TCB evaluation against collateral. */
export interface TcbEvaluation extends TcbStatusWithAdvisories {
  /** Status of the platform TCB level (SGX components, PCESVN, TEE TCB SVN). */
  platform: TcbStatusWithAdvisories & { tcbDate: string };
  /** Status of the TDX module identity level, when the module version (TEE_TCB_SVN[1]) is non-zero. */
  tdxModule?: TcbStatusWithAdvisories & { id: string };
  /** Status of the quoting enclave by its ISVSVN. */
  qe: TcbStatusWithAdvisories & { tcbDate: string };
  /**
   * TD report 1.5 only: Intel QVL's "TD relaunch advised". The TD was launched under a TDX module that is out
   * of date (`status` says so), but the module the platform runs now (TEE_TCB_SVN_2) is at the latest level:
   * relaunching the TD would bring it up to date. Always false for TD report 1.0 bodies.
   */
  tdRelaunchAdvised: boolean;
}

function compareArrays(a: readonly number[], b: readonly number[]): number {
  for (let index = 0; index < Math.min(a.length, b.length); index++) {
    if (a[index] !== b[index]) return a[index]! - b[index]!;
  }
  return a.length - b.length;
}

/** Intel's QVL order of platform TCB levels: SGX components, then PCESVN, then TDX components, highest first. */
export function sortTcbLevels(levels: readonly TcbLevel[]): TcbLevel[] {
  return [...levels].sort(
    (a, b) =>
      compareArrays(b.sgxTcbComponents, a.sgxTcbComponents) ||
      b.pceSvn - a.pceSvn ||
      compareArrays(b.tdxTcbComponents, a.tdxTcbComponents),
  );
}

function atLeast(actual: ArrayLike<number>, required: readonly number[]): boolean {
  if (actual.length !== required.length) return false;
  for (let index = 0; index < required.length; index++) if (actual[index]! < required[index]!) return false;
  return true;
}

/**
 * Combines statuses the way Intel's QVL converges the platform status with the QE and TDX module statuses:
 * any `Revoked` wins; an out-of-date part combined with a configuration-needed part gives
 * `OutOfDateConfigurationNeeded`; otherwise the most severe component. Advisory ids are merged.
 */
export function combineTcbStatuses(...parts: readonly TcbStatusWithAdvisories[]): TcbStatusWithAdvisories {
  const statuses = parts.map((part) => part.status);
  const advisoryIds = [...new Set(parts.flatMap((part) => part.advisoryIds))];
  const has = (predicate: (status: TcbStatus) => boolean) => statuses.some(predicate);
  let status: TcbStatus;
  if (has((s) => s === 'Revoked')) status = 'Revoked';
  else {
    const outOfDate = has((s) => s.startsWith('OutOfDate'));
    const configuration = has((s) => s.includes('Configuration'));
    const hardening = has((s) => s.includes('SWHardening'));
    if (outOfDate) status = configuration ? 'OutOfDateConfigurationNeeded' : 'OutOfDate';
    else if (configuration) status = hardening ? 'ConfigurationAndSWHardeningNeeded' : 'ConfigurationNeeded';
    else status = hardening ? 'SWHardeningNeeded' : 'UpToDate';
  }
  return { status, advisoryIds };
}

function unrecognized(message: string): TdxAttestationError {
  return new TdxAttestationError('ERR_TDX_TCB_UNRECOGNIZED', message);
}

function mismatch(message: string): TdxAttestationError {
  return new TdxAttestationError('ERR_TDX_COLLATERAL_MISMATCH', message);
}

function maskedEqual(actual: Uint8Array, expected: Uint8Array, mask: Uint8Array): boolean {
  for (let index = 0; index < mask.length; index++) {
    if (((actual[index] ?? 0) & mask[index]!) !== ((expected[index] ?? 0) & mask[index]!)) return false;
  }
  return true;
}

function meetsSgx(pck: PckExtensions, level: TcbLevel): boolean {
  return pck.pceSvn >= level.pceSvn && atLeast(pck.sgxTcbComponents, level.sgxTcbComponents);
}

/**
 * Finds the platform TCB level the way dcap-qvl does: the levels are put in Intel's order (SGX components,
 * then PCESVN, then TDX components, highest first) and the first level is taken whose SGX components and
 * PCESVN the PCK certificate meets and whose 16 TDX components TEE_TCB_SVN meets.
 *
 * Intel's QVL skips TEE_TCB_SVN[0..1] in that comparison when the module version TEE_TCB_SVN[1] is non-zero
 * (the module is rated by its TDX module identity instead); dcap-qvl compares all 16 bytes, which can only
 * select a lower level. This package follows dcap-qvl, the stricter of the two.
 * @throws TdxAttestationError `ERR_TDX_COLLATERAL_MISMATCH` (FMSPC, PCE-ID, TCB info kind),
 *   `ERR_TDX_TCB_UNRECOGNIZED` (no level matches)
 */
export function evaluatePlatformTcb(
  tcbInfo: TcbInfo,
  pck: PckExtensions,
  body: TdReportBody,
): TcbStatusWithAdvisories & { tcbDate: string } {
  checkPlatform(tcbInfo, pck);
  const level = sortTcbLevels(tcbInfo.tcbLevels).find(
    (item) => meetsSgx(pck, item) && atLeast(body.teeTcbSvn, item.tdxTcbComponents),
  );
  if (level === undefined) {
    throw unrecognized(
      'no TCB level matches the platform (SGX TCB components and PCESVN of the PCK certificate, TEE_TCB_SVN of the quote)',
    );
  }
  return { status: level.tcbStatus, advisoryIds: [...level.advisoryIds], tcbDate: level.tcbDate };
}

function checkPlatform(tcbInfo: TcbInfo, pck: PckExtensions): void {
  if (tcbInfo.id !== 'TDX' || tcbInfo.version < 3) {
    throw mismatch(
      `TCB info ${tcbInfo.id} version ${tcbInfo.version} is not TDX TCB info (id TDX, version 3)`,
    );
  }
  if (!equalBytes(tcbInfo.fmspc, pck.fmspc)) {
    throw mismatch(
      `FMSPC of the PCK certificate (${bytesToHex(pck.fmspc)}) differs from TCB info (${bytesToHex(tcbInfo.fmspc)})`,
    );
  }
  if (!equalBytes(tcbInfo.pceId, pck.pceId)) {
    throw mismatch(
      `PCE-ID of the PCK certificate (${bytesToHex(pck.pceId)}) differs from TCB info (${bytesToHex(tcbInfo.pceId)})`,
    );
  }
}

/**
 * Checks the TDX module against TCB info: for module version TEE_TCB_SVN[1] > 0 the identity `TDX_<vv>` must
 * exist and gives expected MRSIGNERSEAM / SEAM attributes and a status by module ISVSVN (TEE_TCB_SVN[0]); for
 * version 0 the base `tdxModule` values are compared and no status is added.
 */
export function evaluateTdxModule(
  tcbInfo: TcbInfo,
  body: TdReportBody,
): (TcbStatusWithAdvisories & { id: string }) | undefined {
  const isvSvn = body.teeTcbSvn[0]!;
  const version = body.teeTcbSvn[1]!;
  let expected = tcbInfo.tdxModule;
  let levels: IsvSvnTcbLevel[] | undefined;
  let id = 'tdxModule';
  if (version > 0 && tcbInfo.tdxModuleIdentities.length > 0) {
    id = `TDX_${version.toString(16).toUpperCase().padStart(2, '0')}`;
    const identity = tcbInfo.tdxModuleIdentities.find((item) => item.id.toUpperCase() === id);
    if (identity === undefined) throw unrecognized(`TCB info has no TDX module identity ${id}`);
    expected = identity;
    levels = identity.tcbLevels;
  }
  if (!equalBytes(body.mrSignerSeam, expected.mrSigner)) {
    throw mismatch(`MRSIGNERSEAM differs from the TDX module identity ${id}`);
  }
  if (!maskedEqual(body.seamAttributes, expected.attributes, expected.attributesMask)) {
    throw mismatch(`SEAM attributes differ from the TDX module identity ${id}`);
  }
  if (body.seamAttributes.some((value, index) => (value & ~expected.attributesMask[index]!) !== 0)) {
    throw mismatch(`SEAM attributes have bits outside the mask of the TDX module identity ${id}`);
  }
  if (levels === undefined) return undefined;
  const level = levels.find((item) => isvSvn >= item.isvSvn);
  if (level === undefined) throw unrecognized(`TDX module ISVSVN ${isvSvn} is below every level of ${id}`);
  return { id, status: level.tcbStatus, advisoryIds: [...level.advisoryIds] };
}

/**
 * Checks the QE report against QE identity (MRSIGNER, ISVPRODID, MISCSELECT and ATTRIBUTES under their masks)
 * and returns the status of the first level whose ISVSVN the QE meets.
 * @throws TdxAttestationError `ERR_TDX_COLLATERAL_MISMATCH` (not a TD_QE identity),
 *   `ERR_TDX_QE_IDENTITY_MISMATCH`, `ERR_TDX_TCB_UNRECOGNIZED`
 */
export function evaluateQeIdentity(
  identity: QeIdentity,
  report: QeReport,
): TcbStatusWithAdvisories & { tcbDate: string } {
  if (identity.id !== 'TD_QE' || (identity.version !== 2 && identity.version !== 3)) {
    throw mismatch(
      `QE identity ${identity.id} version ${identity.version} is not a TD_QE identity (version 2 or 3)`,
    );
  }
  const fail = (what: string) =>
    new TdxAttestationError(
      'ERR_TDX_QE_IDENTITY_MISMATCH',
      `QE report ${what} does not match the QE identity`,
    );
  if (!equalBytes(report.mrSigner, identity.mrSigner)) throw fail('MRSIGNER');
  if (report.isvProdId !== identity.isvProdId) throw fail('ISVPRODID');
  if (
    (report.miscSelect & identity.miscSelectMask) >>> 0 !==
    (identity.miscSelect & identity.miscSelectMask) >>> 0
  ) {
    throw fail('MISCSELECT');
  }
  if (!maskedEqual(report.attributes, identity.attributes, identity.attributesMask)) throw fail('ATTRIBUTES');
  const level = identity.tcbLevels.find((item) => report.isvSvn >= item.isvSvn);
  if (level === undefined)
    throw unrecognized(`QE ISVSVN ${report.isvSvn} is below every level of the QE identity`);
  return { status: level.tcbStatus, advisoryIds: [...level.advisoryIds], tcbDate: level.tcbDate };
}

const RELAUNCH_QE_BLOCKERS: readonly TcbStatus[] = ['OutOfDate', 'OutOfDateConfigurationNeeded', 'Revoked'];
const RELAUNCH_SGX_STATUSES: readonly TcbStatus[] = [
  'UpToDate',
  'SWHardeningNeeded',
  'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
];

/**
 * Intel QVL's relaunch check for TD report 1.5 bodies (TDRelaunchCheck): the QE is not out of date, the SGX
 * part of the platform is not out of date, the TDX part is out of date because of the TDX module the TD was
 * launched under, and TEE_TCB_SVN_2 (the module running now) meets the latest TCB level, or the latest level
 * of its own TDX module identity.
 */
function relaunchAdvised(
  tcbInfo: TcbInfo,
  pck: PckExtensions,
  body: TdReportBody,
  tdx: TcbStatus,
  tdxModule: TcbStatusWithAdvisories | undefined,
  qe: TcbStatus,
): boolean {
  const current = body.teeTcbSvn2;
  if (current === undefined || tdxModule?.status !== 'OutOfDate') return false;
  if (RELAUNCH_QE_BLOCKERS.includes(qe) || (tdx !== 'OutOfDate' && tdx !== 'OutOfDateConfigurationNeeded'))
    return false;
  const levels = sortTcbLevels(tcbInfo.tcbLevels);
  const sgxLevel = levels.find((level) => meetsSgx(pck, level));
  if (sgxLevel === undefined || !RELAUNCH_SGX_STATUSES.includes(sgxLevel.tcbStatus)) return false;
  const latest = levels[0]!;
  let moduleSvn = latest.tdxTcbComponents[0]!;
  if (current[1]! !== 0) {
    const id = `TDX_${current[1]!.toString(16).toUpperCase().padStart(2, '0')}`;
    const identity = tcbInfo.tdxModuleIdentities.find((item) => item.id.toUpperCase() === id);
    // Intel fails the quote here (TDX module mismatch); the verdict follows dcap-qvl, so only the advice is withheld.
    if (identity === undefined || identity.tcbLevels.length === 0) return false;
    moduleSvn = identity.tcbLevels[0]!.isvSvn;
  }
  return current[0]! >= moduleSvn && current[2]! >= latest.tdxTcbComponents[2]!;
}

/**
 * Runs the platform, TDX module and QE evaluations and combines them (platform, then module, then QE; advisory
 * ids in that order). For a TD report 1.5 body it also runs Intel's relaunch check on TEE_TCB_SVN_2; the status
 * itself is computed from TEE_TCB_SVN, as Intel's QVL and dcap-qvl do.
 */
export function evaluateTcb(
  tcbInfo: TcbInfo,
  qeIdentity: QeIdentity,
  pck: PckExtensions,
  body: TdReportBody,
  qeReport: QeReport,
): TcbEvaluation {
  const qe = evaluateQeIdentity(qeIdentity, qeReport);
  const platform = evaluatePlatformTcb(tcbInfo, pck, body);
  const tdxModule = evaluateTdxModule(tcbInfo, body);
  const tdx = combineTcbStatuses(platform, ...(tdxModule ? [tdxModule] : []));
  const combined = combineTcbStatuses(tdx, qe);
  const out: TcbEvaluation = {
    ...combined,
    platform,
    qe,
    tdRelaunchAdvised: relaunchAdvised(tcbInfo, pck, body, tdx.status, tdxModule, qe.status),
  };
  if (tdxModule) out.tdxModule = tdxModule;
  return out;
}
