import type { TeeGateway } from '@confidential-ai/tee-gateway';
import type { VeniceMount } from '@confidential-ai/venice-proxy';
import type { Hono } from 'hono';
import { type AppEnv, mountAt, type RouteModule } from './app.js';

/**
 * Adapts a built gateway to the proxy's {@link RouteModule} shape, for composing it into an app that does not
 * also mount the vllm-proxy routes (both serve `POST /v1/chat/completions`).
 *
 * @example
 * ```ts
 * const app = createApp(deps, { modules: [teeGatewayRouteModule(gateway)] });
 * ```
 */
export function teeGatewayRouteModule(gateway: Pick<TeeGateway, 'app'>): RouteModule {
  return () => gateway.app as unknown as Hono<AppEnv>;
}

/**
 * A route module for the composed server ({@link createApp}) that serves a prepared Venice proxy under
 * `prefix` (default `/venice`, since the vllm-proxy face owns `/v1/chat/completions` at the root). Its 404/405
 * and error envelopes stay the Venice ones for its own routes.
 * @example
 * ```ts
 * const venice = await prepareVeniceMount({ config: loadVeniceProxyConfig({ env: process.env }), logger });
 * const app = createApp(deps, { modules: [...DEFAULT_MODULES, veniceRouteModule(venice)] });
 * ```
 */
export function veniceRouteModule(mount: Pick<VeniceMount, 'app'>, prefix = '/venice'): RouteModule {
  return mountAt(prefix, () => mount.app as unknown as Hono<AppEnv>);
}
