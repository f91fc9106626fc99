// Starts the real composed server (packages/proxy-server) with every face, in this process, on loopback. Its
// upstreams are the repository's fake servers started here, so that the tests know their TEST roots: one synthetic
// TDX platform signs the Chutes instance quotes and the Venice model quotes, one synthetic NVIDIA-like platform's
// simulated GPUs sign the Chutes instances' and the Venice models' GPU evidence, and a TEST Nitro enclave (served
// by a nitriding stand-in that the TEE gateway registers its key with) attests the gateway's signing key. The
// proxy's own simulated report carries GPU evidence of the process's simulated GPUs (another TEST root).
import { createFakeChutesServer, type FakeChutesServer } from '@confidential-ai/chutes-transport/testing';
import {
  createTestNvidiaPlatform,
  type TestNvidiaPlatform,
} from '@confidential-ai/nvidia-attestation/testing';
import type { TdxCollateralJson } from '@confidential-ai/tdx-attestation';
import { createTestTdxPlatform } from '@confidential-ai/tdx-attestation/testing';
import { createFakeVeniceServer, type FakeVeniceServer } from '@confidential-ai/venice-e2ee/testing';
import {
  loadConfig,
  type RunningServer,
  simulatedGpuPlatform,
  startServer,
} from '../../proxy-server/dist/index.js';
import type { VerificationPolicy } from '../src/policy.js';
import { createTestNitroEnclave, type FakeNitriding, startFakeNitriding } from './nitro-enclave.js';

export const TOKEN = 'verifier-test-token-5d1c';
const CHUTES_KEY = 'cpk_verifier_test_key';
export const VENICE_KEY = 'venice-verifier-test-key';

/** Everything a test needs to talk to the composed server and judge its evidence. */
export interface ComposedFixture {
  readonly server: RunningServer;
  readonly chutes: FakeChutesServer;
  readonly venice: FakeVeniceServer;
  readonly nitriding: FakeNitriding;
  /** The simulated GPUs of the Chutes instances and Venice models. */
  readonly gpus: TestNvidiaPlatform;
  /** The simulated GPUs of the proxy's own simulated report. */
  readonly proxyGpus: TestNvidiaPlatform;
  /** The demo policy with the TEST roots pinned: every face verifies as `simulated`. */
  readonly policy: VerificationPolicy;
  /**
   * The TEST roots pinned as trust anchors (no acceptSimulated): what a real policy looks like, with the test PKI in
   * place of the vendors'. Venice and the TEE gateway verify; the vllm-proxy and Chutes faces fail, since the proxy's
   * own report is simulated (it runs outside a TEE).
   */
  readonly trustedPolicy: VerificationPolicy;
  /** The TDX TEST root (PEM). */
  readonly tdxRootPem: string;
  /** Collateral of the TDX TEST platform. */
  readonly tdxCollateral: TdxCollateralJson;
  close(): Promise<void>;
}

/** Starts the composed server and its upstream fakes. */
export async function startComposed(): Promise<ComposedFixture> {
  const platform = await createTestTdxPlatform();
  const tdxCollateral = await platform.createCollateral();
  const enclave = await createTestNitroEnclave();
  const gpus = await createTestNvidiaPlatform();
  const proxyGpus = await simulatedGpuPlatform();
  const [chutes, venice, nitriding] = await Promise.all([
    createFakeChutesServer({
      port: 0,
      tdxPlatform: platform,
      nvidiaPlatform: gpus,
      gpusPerInstance: 2,
      apiKey: CHUTES_KEY,
      adminRoutes: false,
    }),
    createFakeVeniceServer({ port: 0, tdxPlatform: platform, nvidiaPlatform: gpus, apiKey: VENICE_KEY }),
    startFakeNitriding(enclave),
  ]);
  const toml = `
[server]
port = 0
[auth]
token = "${TOKEN}"
[log]
level = "silent"
[chutes]
enabled = true
api_key = "${CHUTES_KEY}"
base_url = "${chutes.url}"
api_base_url = "${chutes.url}"
e2ee = true
[venice]
enabled = true
[tee_gateway]
enabled = true
simulate = true
x402_enabled = false
opg_price_usd = "0.10"
nitriding_url = "${nitriding.url}"
nitriding_internal_url = "${nitriding.internalUrl}"
register_with_nitriding = true
`;
  const config = loadConfig({
    toml,
    env: {
      VENICE_E2EE_PROXY__VENICE__BASE_URL: venice.baseUrl,
      VENICE_E2EE_PROXY__VENICE__API_KEY: VENICE_KEY,
    },
  });
  const server = await startServer({ config, processMetrics: false });
  return {
    server,
    chutes,
    venice,
    nitriding,
    gpus,
    proxyGpus,
    tdxRootPem: platform.rootPem,
    tdxCollateral,
    policy: {
      acceptSimulated: true,
      testRoots: {
        tdx: [platform.rootPem],
        nitro: [enclave.rootPem],
        nvidia: [gpus.deviceRootPem, proxyGpus.deviceRootPem],
      },
      tdxCollateral,
      tdxMeasurements: 'any',
      nitroPcrs: enclave.pcrs,
    },
    trustedPolicy: {
      trustAnchors: { tdx: [platform.rootPem], nitro: [enclave.rootPem], nvidia: [gpus.deviceRootPem] },
      tdxCollateral,
      tdxMeasurements: 'any',
      nitroPcrs: enclave.pcrs,
    },
    async close() {
      await server.close();
      await Promise.all([chutes.close(), venice.close(), nitriding.close()]);
    },
  };
}
