// `@confidential-ai/tee-gateway/testing`: test servers for code that talks to a gateway or to x402 facilitators.
// The fake facilitator needs the optional payment packages (`viem`, `@x402/evm`).
export { FACILITATOR_ADDRESS, type FakeFacilitator, startFakeFacilitator } from './fake-facilitator.js';
export { type RecordedCall, type Served, startRecorder } from './recorder.js';
