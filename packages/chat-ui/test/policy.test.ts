import { describe, expect, it } from 'vitest';
import { ChatPageError } from '../src/page/errors.js';
import {
  acceptsSimulated,
  DEMO_POLICY,
  parsePolicy,
  pinsTrustAnchors,
  STRICT_POLICY,
} from '../src/page/policy.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function problem(text: string): string {
  try {
    parsePolicy(text);
    return 'none';
  } catch (error) {
    return ChatPageError.isInstance(error) && error.code === 'ERR_CHAT_POLICY_INVALID'
      ? error.message
      : 'other';
  }
}

describe('policies', () => {
  it('demo accepts simulated evidence explicitly; strict is the verifier default', () => {
    expect(acceptsSimulated(DEMO_POLICY)).toBe(true);
    expect(acceptsSimulated(STRICT_POLICY)).toBe(false);
    expect(STRICT_POLICY).toEqual({});
  });

  it('parses a full custom policy with the verifier option names', () => {
    const policy = parsePolicy(
      JSON.stringify({
        acceptSimulated: false,
        trustAnchors: { tdx: [PEM], nitro: [PEM], nvidia: [PEM], nvidiaRim: [PEM] },
        testRoots: { tdx: [PEM], nvidia: [PEM] },
        nvidiaRims: ['<SoftwareIdentity/>'],
        requireGpuMeasurements: true,
        tdxCollateral: { tcb_info: '{}' },
        tdxMeasurements: { mrTd: 'ab'.repeat(48), rtmr3: '0xCD' },
        nitroPcrs: { '0': 'aa', PCR2: 'bb' },
        allowedTcbStatuses: ['UpToDate', 'SWHardeningNeeded'],
        requireTcbStatus: true,
        allowDebug: false,
        requireGpu: false,
        attestationMaxAgeMs: 60000,
      }),
    );
    expect(policy.nitroPcrs).toEqual({ 0: 'aa', 2: 'bb' });
    expect(policy.tdxMeasurements).toEqual({ mrTd: 'ab'.repeat(48), rtmr3: '0xCD' });
    expect(pinsTrustAnchors(policy)).toBe(true);
    expect(pinsTrustAnchors(parsePolicy(JSON.stringify({ trustAnchors: { nvidia: [PEM] } })))).toBe(true);
    expect(policy.trustAnchors?.nvidia).toEqual([PEM]);
    expect(policy.nvidiaRims).toEqual(['<SoftwareIdentity/>']);
    expect(parsePolicy('{"tdxMeasurements":"any","nitroPcrs":"any"}')).toEqual({
      tdxMeasurements: 'any',
      nitroPcrs: 'any',
    });
  });

  it('refuses what it does not understand, naming it (never ignores an option)', () => {
    expect(problem('not json')).toBe('The policy is not valid JSON');
    expect(problem('[]')).toBe('The policy must be a JSON object');
    expect(problem('{"acceptSimulate": true}')).toBe('Unknown policy option "acceptSimulate"');
    expect(problem('{"acceptSimulated": "yes"}')).toBe('acceptSimulated must be true or false');
    expect(problem('{"trustAnchors": {"tdx": ["not a pem"]}}')).toBe(
      'trustAnchors.tdx must be a list of PEM certificates',
    );
    expect(problem('{"trustAnchors": {"sgx": []}}')).toBe('trustAnchors has an unknown field "sgx"');
    expect(problem('{"nvidiaRims": ["not xml"]}')).toBe(
      'nvidiaRims must be a list of RIM documents (signed SWID XML text)',
    );
    expect(problem('{"requireGpuMeasurements": 1}')).toBe('requireGpuMeasurements must be true or false');
    expect(problem('{"tdxMeasurements": {"mrtd": "00"}}')).toBe(
      'tdxMeasurements has an unknown field "mrtd"',
    );
    expect(problem('{"tdxMeasurements": {"mrTd": "xyz"}}')).toBe('tdxMeasurements.mrTd must be a hex string');
    expect(problem('{"tdxMeasurements": {}}')).toBe('tdxMeasurements names nothing');
    expect(problem('{"nitroPcrs": {"first": "00"}}')).toBe('nitroPcrs has an unknown field "first"');
    expect(problem('{"tdxCollateral": []}')).toBe(
      'tdxCollateral must be a DCAP collateral object or a list of them',
    );
    expect(problem('{"allowedTcbStatuses": [1]}')).toBe('allowedTcbStatuses must be a list of strings');
    expect(problem('{"attestationMaxAgeMs": -1}')).toBe('attestationMaxAgeMs must be a non-negative number');
  });
});
