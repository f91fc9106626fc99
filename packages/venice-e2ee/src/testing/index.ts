export {
  createFakeVeniceServer,
  defaultFakeResponder,
  type FakeVeniceFault,
  type FakeVeniceModel,
  type FakeVeniceOptions,
  type FakeVeniceReply,
  type FakeVeniceRequestLog,
  type FakeVeniceResponder,
  type FakeVeniceServer,
  type FakeVeniceTurn,
  renderFakeToolCall,
} from './fake-venice.js';
