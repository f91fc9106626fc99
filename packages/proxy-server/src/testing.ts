export {
  createFakeVllmApp,
  FAKE_VLLM_MODELS,
  type FakeVllmOptions,
  type FakeVllmRequest,
  fakeReasoningText,
  fakeReplyText,
  type RunningFakeVllm,
  startFakeVllm,
} from './fake-vllm.js';
