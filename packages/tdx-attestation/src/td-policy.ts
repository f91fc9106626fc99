import { TdxAttestationError } from './errors.js';
import type { TdReportBody } from './quote.js';

/** Options of {@link checkTdPolicy}. */
export interface TdPolicyOptions {
  /** Accept the DEBUG bit (TD_ATTRIBUTES bit 0). */
  allowDebug?: boolean;
  /** Accept a non-zero MR_SERVICETD in a TD report 1.5. */
  allowServiceTd?: boolean;
}

/** TD_ATTRIBUTES bits a TD may have set: DEBUG (0), SEPT_VE_DISABLE (28), PKS (30), KL (31), PERFMON (63). */
const KNOWN_ATTRIBUTE_BITS = (1n << 0n) | (1n << 28n) | (1n << 30n) | (1n << 31n) | (1n << 63n);
const SEPT_VE_DISABLE = 1n << 28n;

/**
 * Checks the TD report fields that say whether the TD can be trusted at all, in the order dcap-qvl checks them:
 * MR_SERVICETD of a TD report 1.5 is zero (no service TD bound to the TD) unless `allowServiceTd`; no reserved
 * TD_ATTRIBUTES bit is set (TUD bits 7:1, SEC bits 27:8 and 29, OTHER bits 62:32); DEBUG is clear unless
 * `allowDebug`; SEPT_VE_DISABLE is set (without it the host can turn EPT violations into #VE exceptions
 * inside the TD).
 *
 * @throws TdxAttestationError `ERR_TDX_SERVICE_TD`, `ERR_TDX_TD_ATTRIBUTES`, `ERR_TDX_DEBUG`
 */
export function checkTdPolicy(body: TdReportBody, options: TdPolicyOptions = {}): void {
  if (
    body.mrServiceTd !== undefined &&
    options.allowServiceTd !== true &&
    body.mrServiceTd.some((b) => b !== 0)
  ) {
    throw new TdxAttestationError(
      'ERR_TDX_SERVICE_TD',
      'MR_SERVICETD is not zero: a service TD is bound to the TD (allowServiceTd accepts it)',
    );
  }
  const attributes = body.tdAttributes;
  if ((attributes.value & ~KNOWN_ATTRIBUTE_BITS) !== 0n) {
    throw new TdxAttestationError(
      'ERR_TDX_TD_ATTRIBUTES',
      `TD_ATTRIBUTES ${attributes.value.toString(16).padStart(16, '0')} has reserved bits set`,
    );
  }
  if (attributes.debug && options.allowDebug !== true) {
    throw new TdxAttestationError('ERR_TDX_DEBUG', 'the TD runs in debug mode (TD_ATTRIBUTES bit 0)');
  }
  if ((attributes.value & SEPT_VE_DISABLE) === 0n) {
    throw new TdxAttestationError(
      'ERR_TDX_TD_ATTRIBUTES',
      'TD_ATTRIBUTES SEPT_VE_DISABLE (bit 28) is clear: the host can inject #VE exceptions into the TD',
    );
  }
}
