export { createForwardProxy, type ForwardProxy, type ForwardProxyOptions } from './forward-proxy.js';
