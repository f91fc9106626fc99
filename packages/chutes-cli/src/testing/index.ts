export {
  createFakeChutesApi,
  type FakeChutesApi,
  type FakeChutesApiOptions,
  type FakeState,
  type FakeUser,
  type RecordedRequest,
} from './fake-api.js';
export { type ParsedPart, parseMultipart } from './multipart.js';
