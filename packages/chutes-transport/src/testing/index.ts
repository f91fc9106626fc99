export type { FakeGpuEvidenceVariant } from './fake-gpu-evidence.js';
export {
  createFakeChutesServer,
  type DiscoveryLogEntry,
  type FakeChute,
  type FakeChutesServer,
  type FakeChutesServerOptions,
  type FakeFault,
  type FakeFaultType,
  type FakeInstance,
  type FakeModelOptions,
  fakeChuteId,
  type NonceLogEntry,
} from './fake-server.js';
export {
  promptOf,
  type SimulatedUsage,
  type SimulationContext,
  simulateCompletion,
  simulatedPieces,
  simulatedReplyText,
  simulateStreamLines,
} from './simulated-model.js';
