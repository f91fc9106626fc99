import { hash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { chatUiAssetsDirectory } from '@confidential-ai/chat-ui';
import { Hono } from 'hono';
import type { AppDependencies, AppEnv, RouteModule } from '../app.js';
import { ApiError } from '../errors.js';

/** Where the chat page is served in the composed server. */
export const UI_MOUNT_PATH = '/ui';

/**
 * The Content-Security-Policy of the chat page: its own scripts and styles only (no inline code), API calls to
 * this origin only, no framing, no forms posted anywhere, no plugins.
 */
export const UI_CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
};

interface Asset {
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly contentType: string;
  readonly etag: string;
}

/** Reads the page's files once: flat, known types only (nothing else under the directory is ever served). */
function loadAssets(directory: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(join(directory, 'index.html'))) return assets;
  for (const name of readdirSync(directory)) {
    const contentType = CONTENT_TYPES[extname(name)];
    const path = join(directory, name);
    if (!contentType || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || !statSync(path).isFile()) continue;
    const bytes = new Uint8Array(readFileSync(path));
    const etag = `"${hash('sha256', bytes, 'base64url').slice(0, 27)}"`;
    assets.set(name, { bytes, contentType, etag });
  }
  return assets;
}

/** Options of {@link chatUiRoutes}. */
export interface ChatUiRoutesOptions {
  /** Directory of the built page; default `@confidential-ai/chat-ui`'s. */
  directory?: string;
  /** Mount path; default {@link UI_MOUNT_PATH}. */
  mountPath?: string;
}

/**
 * Serves the chat page of `@confidential-ai/chat-ui` (public static content, no authentication: the API calls the
 * page makes carry the token its user enters) at `/ui/`: `GET /ui` redirects to `/ui/`, `GET /ui/` is
 * `index.html`, `GET /ui/<file>` the page's other files, each with its content type, `Cache-Control: no-cache` and
 * an ETag (`If-None-Match` answers 304), the strict {@link UI_CONTENT_SECURITY_POLICY},
 * `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` and `X-Frame-Options: DENY`. The files are read
 * once, when the module is built; when the page is not built, `/ui/` answers 404 and the server logs why.
 * @example
 * ```ts
 * const app = createApp(deps, { modules: [vllmProxyRoutes, chatUiRoutes()] });
 * ```
 */
export function chatUiRoutes(options: ChatUiRoutesOptions = {}): RouteModule {
  const directory = options.directory ?? chatUiAssetsDirectory;
  const mount = options.mountPath ?? UI_MOUNT_PATH;
  return (deps: AppDependencies) => {
    const assets = loadAssets(directory);
    if (assets.size === 0)
      deps.logger.warn(
        { directory },
        'the chat page is not built: /ui/ answers 404 (build @confidential-ai/chat-ui)',
      );
    const routes = new Hono<AppEnv>();
    routes.get(mount, (c) => {
      const query = new URL(c.req.url).search;
      return c.redirect(`${mount}/${query}`, 308);
    });
    routes.get(`${mount}/:file{[^/]*}`, (c) => {
      const asset = assets.get(c.req.param('file') || 'index.html');
      if (!asset) throw new ApiError(404, 'not_found', `No route for GET ${c.req.path}`);
      const headers: Record<string, string> = {
        'content-type': asset.contentType,
        'cache-control': 'no-cache',
        etag: asset.etag,
        'content-security-policy': UI_CONTENT_SECURITY_POLICY,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
      };
      if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304, headers);
      return c.body(asset.bytes, 200, headers);
    });
    return routes;
  };
}
