// `@confidential-ai/tee-gateway/x402`: the x402 v2 gate itself. Importing this subpath loads the optional payment
// stack (`@x402/core`, `@x402/evm`, `viem`); the package root never does.
export {
  BASE_NETWORK,
  ERC20_APPROVAL_GAS_SPONSORING,
  OPG_ASSET,
  UPTO_MAX_AMOUNT,
} from './constants.js';
export {
  createFacilitatorClient,
  type FacilitatorClient,
  type FacilitatorClientOptions,
  FacilitatorError,
  type PaymentPayload,
  type PaymentRequirements,
  type SettleResponse,
  type SupportedKind,
  toJsonSafe,
  type VerifyResponse,
} from './facilitator.js';
export { createX402Gate, type UptoSession, type X402Gate, type X402GateOptions } from './gate.js';
