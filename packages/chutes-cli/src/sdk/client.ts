import { utf8ToBytes } from '@confidential-ai/bytes';
import { ChutesCliError } from '../errors.js';
import { pythonJsonDumps, stringifyJson } from './python-json.js';
import { HEADERS, type Hotkey, signMessage, signRequest } from './signing.js';
import { VERSION } from './version.js';

/** The fetch signature the client uses (`globalThis.fetch` by default). */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Options for {@link createChutesClient}. */
export interface ChutesClientOptions {
  /** API base URL, e.g. `https://api.chutes.ai`. */
  baseUrl: string;
  /** Hotkey used to sign requests (hotkey authentication). */
  hotkey?: Hotkey | undefined;
  /** `[auth] user_id`, sent as `X-Chutes-UserID` on signed requests. */
  userId?: string | undefined;
  /** API key (`cpk_...`); when set and no hotkey is given, sent as `Authorization: Basic <key>`. */
  apiKey?: string | undefined;
  /** Fetch implementation (defaults to `globalThis.fetch`). */
  fetch?: FetchFunction;
  /** Clock in milliseconds (nonces use its seconds). */
  now?: () => number;
  /** Value of `X-Chutes-Version` on build and deploy requests (default: the SDK version this port mirrors). */
  sdkVersion?: string;
}

/** Query parameters; `undefined` entries are left out, order is kept. */
export type Query = ReadonlyArray<[string, string | undefined]>;

/** A request as the client sends it. */
export interface ClientRequest {
  /** HTTP method. */
  method: 'GET' | 'POST' | 'DELETE';
  /** Path below the base URL (starting with `/`), or an absolute URL. */
  path: string;
  /** Query parameters in order. */
  query?: Query;
  /** Purpose for purpose-mode signing (GET/DELETE). */
  purpose?: string;
  /** Exact body bytes (body-mode signing covers their SHA-256). */
  body?: Uint8Array;
  /** Content-Type of `body`. */
  contentType?: string;
  /** Extra headers. */
  headers?: Record<string, string>;
  /** `hotkey`: must sign; `none`: no auth; `auto` (default): hotkey if present, else API key, else fail. */
  auth?: 'hotkey' | 'none' | 'auto';
  /** Abort signal. */
  signal?: AbortSignal | undefined;
}

/**
 * Percent-encodes a path segment the way aiohttp/yarl sends it: `/`, `:`, `@` and the RFC 3986 sub-delimiters
 * are kept, everything else unsafe is quoted.
 */
export function encodePathSegment(value: string): string {
  return encodeURIComponent(value).replace(/%(2F|3A|40|24|26|2B|2C|3B|3D)/gi, (quoted) =>
    decodeURIComponent(quoted),
  );
}

function toText(detail: unknown): string {
  if (typeof detail === 'string') return detail;
  try {
    return JSON.stringify(detail);
  } catch {
    return String(detail);
  }
}

/**
 * Reads a non-2xx response into `ChutesCliError('ERR_HTTP')`, using FastAPI's `{"detail"}` when present.
 */
export async function httpError(response: Response, what: string): Promise<ChutesCliError> {
  let text = '';
  try {
    text = await response.text();
  } catch {
    // body unreadable: keep the status only
  }
  let detail = text.trim();
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object' && 'detail' in parsed)
      detail = toText((parsed as { detail: unknown }).detail);
  } catch {
    // not JSON
  }
  if (detail.length > 500) detail = `${detail.slice(0, 500)}...`;
  return new ChutesCliError(
    'ERR_HTTP',
    `${what} failed with HTTP ${response.status}${detail ? `: ${detail}` : ''}`,
    { status: response.status, detail },
  );
}

/**
 * A typed client for the Chutes management API with hotkey (sr25519) or API-key authentication.
 * Every method sends exactly what the Python SDK sends (method, path, query order, headers, body bytes).
 *
 * @example
 * ```ts
 * const client = createChutesClient({ baseUrl: config.apiBaseUrl, hotkey: hotkeyFromSeed(seed), userId });
 * const chutes = await client.listChutes({ limit: 10 });
 * ```
 */
export class ChutesClient {
  /** Base URL without a trailing slash. */
  readonly baseUrl: string;
  readonly #options: ChutesClientOptions;
  readonly #fetch: FetchFunction;

  constructor(options: ChutesClientOptions) {
    if (typeof options.baseUrl !== 'string' || !/^https?:\/\//.test(options.baseUrl)) {
      throw new ChutesCliError('ERR_CONFIG_INVALID', 'API base URL must start with http:// or https://');
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#options = options;
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** The hotkey, if the client has one. */
  get hotkey(): Hotkey | undefined {
    return this.#options.hotkey;
  }

  /** Current time in milliseconds (the injected clock). */
  now(): number {
    return this.#options.now ? this.#options.now() : Date.now();
  }

  /** Builds the absolute URL of a request. */
  url(path: string, query: Query = []): string {
    const base = /^https?:\/\//.test(path) ? path : `${this.baseUrl}${path}`;
    const pairs = query.filter((pair): pair is [string, string] => pair[1] !== undefined);
    if (pairs.length === 0) return base;
    const search = new URLSearchParams(pairs).toString();
    return `${base}${base.includes('?') ? '&' : '?'}${search}`;
  }

  /** Authentication headers for a request, per {@link ClientRequest.auth}. */
  authHeaders(request: Pick<ClientRequest, 'purpose' | 'body' | 'auth'>): Record<string, string> {
    const mode = request.auth ?? 'auto';
    if (mode === 'none') return {};
    const { hotkey, apiKey, userId } = this.#options;
    if (hotkey) {
      const subject =
        request.body && request.body.length > 0 ? { body: request.body } : { purpose: request.purpose ?? '' };
      if ('purpose' in subject && !subject.purpose) {
        throw new TypeError('a signed request needs a body or a purpose');
      }
      return signRequest(subject, { hotkey, userId, now: () => this.now() });
    }
    if (mode === 'auto' && apiKey) return { Authorization: `Basic ${apiKey}` };
    throw new ChutesCliError(
      'ERR_AUTH_REQUIRED',
      mode === 'hotkey'
        ? 'this command needs a hotkey: add an [auth] section to config.ini (chutes register)'
        : 'no credentials: add an [auth] section to config.ini (chutes register) or pass --api-key / CHUTES_API_KEY',
    );
  }

  /**
   * Sends a request and returns the raw response (any status).
   * @throws ChutesCliError `ERR_NETWORK` when the API cannot be reached; `ERR_AUTH_REQUIRED` without credentials.
   */
  async send(request: ClientRequest): Promise<Response> {
    const headers: Record<string, string> = { ...this.authHeaders(request), ...request.headers };
    if (request.body && request.contentType) headers['Content-Type'] = request.contentType;
    const url = this.url(request.path, request.query);
    const init: RequestInit = { method: request.method, headers };
    if (request.body) init.body = request.body as Uint8Array<ArrayBuffer>;
    if (request.signal) init.signal = request.signal;
    try {
      return await this.#fetch(url, init);
    } catch (error) {
      if ((error as Error)?.name === 'AbortError') throw error;
      const reason =
        (error as { cause?: { code?: string } })?.cause?.code ?? (error as Error)?.message ?? 'error';
      throw new ChutesCliError(
        'ERR_NETWORK',
        `cannot reach the Chutes API at ${new URL(url).origin} (${reason})`,
        {
          cause: error,
        },
      );
    }
  }

  /**
   * Sends a request and parses the JSON answer, requiring one of `expect` statuses (default 200).
   * @throws ChutesCliError `ERR_HTTP` for another status, `ERR_STREAM` for a body that is not JSON.
   */
  async json<T = unknown>(request: ClientRequest, what: string, expect: number[] = [200]): Promise<T> {
    const response = await this.send(request);
    if (!expect.includes(response.status)) throw await httpError(response, what);
    const text = await response.text();
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new ChutesCliError('ERR_STREAM', `${what}: the API answered with a body that is not JSON`, {
        cause: error,
      });
    }
  }

  /** Body bytes of a JSON payload as orjson (compact) serializes it. */
  static jsonBody(value: unknown): Uint8Array {
    return utf8ToBytes(stringifyJson(value));
  }

  #postJson<T>(
    path: string,
    value: unknown,
    what: string,
    extra: Partial<ClientRequest> = {},
    expect = [200],
  ): Promise<T> {
    return this.json<T>(
      { method: 'POST', path, body: ChutesClient.jsonBody(value), contentType: 'application/json', ...extra },
      what,
      expect,
    );
  }

  /** `GET /ping`; true on 200. Never throws on HTTP status; throws `ERR_NETWORK` when unreachable. */
  async ping(signal?: AbortSignal): Promise<boolean> {
    const response = await this.send({ method: 'GET', path: '/ping', auth: 'none', signal });
    await response.body?.cancel();
    return response.status === 200;
  }

  /**
   * `POST {url}?token=T` with the Python `json.dumps` body `{"username", "coldkey"}`, signed in body mode
   * without `X-Chutes-UserID`.
   */
  async register(options: {
    username: string;
    coldkey: string;
    token: string;
    hotkey: Hotkey;
    url?: string;
  }): Promise<RegisterResponse> {
    const body = utf8ToBytes(pythonJsonDumps({ username: options.username, coldkey: options.coldkey }));
    const headers = {
      'Content-Type': 'application/json',
      ...signRequest({ body }, { hotkey: options.hotkey, now: () => this.now() }),
    };
    return this.json<RegisterResponse>(
      {
        method: 'POST',
        path: options.url ?? '/users/register',
        query: [['token', options.token]],
        body,
        headers,
        auth: 'none',
      },
      'registration',
    );
  }

  /** `GET /idp/cli_login/nonce`. */
  async cliLoginNonce(): Promise<string> {
    const data = await this.json<{ nonce?: unknown }>(
      { method: 'GET', path: '/idp/cli_login/nonce', auth: 'none' },
      'login nonce',
    );
    if (typeof data.nonce !== 'string')
      throw new ChutesCliError('ERR_STREAM', 'login nonce response lacks "nonce"');
    return data.nonce;
  }

  /** The browser URL of the CLI login: the raw nonce signed by the hotkey. */
  cliLoginUrl(nonce: string, hotkey: Hotkey): string {
    return this.url('/idp/cli_login', [
      ['hotkey', hotkey.ss58Address],
      ['signature', signMessage(hotkey, nonce)],
      ['nonce', nonce],
    ]);
  }

  /** `POST /users/change_fingerprint`; the signature covers `"{ss58}:{fingerprint}:{nonce}"`. */
  async changeFingerprint(fingerprint: string, hotkey: Hotkey): Promise<unknown> {
    const nonce = String(Math.floor(this.now() / 1000));
    const body = ChutesClient.jsonBody({ fingerprint });
    return this.json(
      {
        method: 'POST',
        path: '/users/change_fingerprint',
        body,
        contentType: 'application/json',
        auth: 'none',
        headers: {
          [HEADERS.hotkey]: hotkey.ss58Address,
          [HEADERS.signature]: signMessage(hotkey, `${hotkey.ss58Address}:${fingerprint}:${nonce}`),
          [HEADERS.nonce]: nonce,
        },
      },
      'fingerprint change',
    );
  }

  /** `GET /users/me` (purpose `me`). */
  me(): Promise<Record<string, unknown>> {
    return this.json({ method: 'GET', path: '/users/me', purpose: 'me' }, 'user lookup');
  }

  /** `POST /invocations/{id}/report` with `{"reason"}`. */
  report(invocationId: string, reason: string): Promise<Record<string, unknown>> {
    return this.#postJson(`/invocations/${encodePathSegment(invocationId)}/report`, { reason }, 'report');
  }

  /** `GET /{type}/` list with the CLI's query order. */
  list(type: ObjectType, options: ListOptions = {}): Promise<ListResponse> {
    const query: [string, string | undefined][] = [];
    if (type === 'chutes' || type === 'images')
      query.push(['include_public', options.includePublic ? 'True' : 'False']);
    if (type !== 'secrets') query.push(['name', options.name]);
    query.push(['limit', String(options.limit ?? 25)], ['page', String(options.page ?? 0)]);
    return this.json({ method: 'GET', path: `/${type}/`, query, purpose: type }, `listing ${type}`);
  }

  /** `GET /{type}/{id}`. */
  get(type: ObjectType, nameOrId: string): Promise<Record<string, unknown>> {
    return this.json(
      { method: 'GET', path: `/${type}/${encodePathSegment(nameOrId)}`, purpose: type },
      `getting ${type}/${nameOrId}`,
    );
  }

  /** `GET /{type}/{id}` returning null on 404. */
  async find(type: ObjectType, nameOrId: string): Promise<Record<string, unknown> | null> {
    const response = await this.send({
      method: 'GET',
      path: `/${type}/${encodePathSegment(nameOrId)}`,
      purpose: type,
    });
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    if (response.status !== 200) throw await httpError(response, `checking ${type}/${nameOrId}`);
    return (await response.json()) as Record<string, unknown>;
  }

  /** `DELETE /{type}/{id}`. */
  delete(type: ObjectType, nameOrId: string): Promise<Record<string, unknown>> {
    return this.json(
      { method: 'DELETE', path: `/${type}/${encodePathSegment(nameOrId)}`, purpose: type },
      `deleting ${type}/${nameOrId}`,
    );
  }

  /** `POST /api_keys/` with `{"name","admin"[,"scopes"]}`. */
  createApiKey(body: {
    name: string;
    admin: boolean;
    scopes?: ApiKeyScope[];
  }): Promise<Record<string, unknown>> {
    return this.#postJson('/api_keys/', body, 'creating the API key');
  }

  /** `POST /secrets/` with `{"purpose","key","value"}`. */
  createSecret(body: { purpose: string; key: string; value: string }): Promise<Record<string, unknown>> {
    return this.#postJson('/secrets/', body, 'creating the secret');
  }

  /** `POST /chutes/share` or `/chutes/unshare`. */
  share(chuteIdOrName: string, userIdOrName: string, remove = false): Promise<Record<string, unknown>> {
    return this.#postJson(
      remove ? '/chutes/unshare' : '/chutes/share',
      { chute_id_or_name: chuteIdOrName, user_id_or_name: userIdOrName },
      remove ? 'unsharing' : 'sharing',
    );
  }

  /** `POST /chutes/?accept_fee=…` with the deploy JSON and `X-Chutes-Version`. */
  deploy(body: Record<string, unknown>, acceptFee: boolean): Promise<Record<string, unknown>> {
    return this.#postJson('/chutes/', body, 'deploying the chute', {
      query: [['accept_fee', acceptFee ? 'true' : 'false']],
      headers: { [HEADERS.version]: this.#options.sdkVersion ?? VERSION.sdk },
    });
  }

  /** `POST /images/` with a prepared multipart body; expects 202. */
  createImage(body: Uint8Array, contentType: string): Promise<Record<string, unknown>> {
    return this.json(
      {
        method: 'POST',
        path: '/images/',
        body,
        contentType,
        headers: {
          'Content-Length': String(body.length),
          [HEADERS.version]: this.#options.sdkVersion ?? VERSION.sdk,
        },
      },
      'uploading the image',
      [202],
    );
  }

  /** `POST /logos/` with a prepared multipart body. */
  uploadLogo(body: Uint8Array, contentType: string): Promise<Record<string, unknown>> {
    return this.json(
      {
        method: 'POST',
        path: '/logos/',
        body,
        contentType,
        headers: { 'Content-Length': String(body.length) },
      },
      'uploading the logo',
    );
  }

  /** `GET /images/{id}/logs[?offset=]` (purpose `images`), raw response. */
  imageLogs(imageId: string, offset?: string, signal?: AbortSignal): Promise<Response> {
    return this.send({
      method: 'GET',
      path: `/images/${encodePathSegment(imageId)}/logs`,
      query: [['offset', offset]],
      purpose: 'images',
      signal,
    });
  }

  /** `GET /chutes/warmup/{name}` (purpose `chutes`), raw SSE response. */
  warmup(name: string, signal?: AbortSignal): Promise<Response> {
    return this.send({
      method: 'GET',
      path: `/chutes/warmup/${encodePathSegment(name)}`,
      purpose: 'chutes',
      signal,
    });
  }

  /** `GET /instances/{id}/logs?backfill=100` (purpose `logs`), raw SSE response. */
  instanceLogs(instanceId: string, signal?: AbortSignal): Promise<Response> {
    return this.send({
      method: 'GET',
      path: `/instances/${encodePathSegment(instanceId)}/logs`,
      query: [['backfill', '100']],
      purpose: 'logs',
      signal,
    });
  }

  /** `GET /pricing` (no authentication). */
  pricing(): Promise<Record<string, unknown>> {
    return this.json({ method: 'GET', path: '/pricing', auth: 'none' }, 'pricing');
  }
}

/** Creates a {@link ChutesClient}. */
export function createChutesClient(options: ChutesClientOptions): ChutesClient {
  return new ChutesClient(options);
}

/** Object types with list/get/delete endpoints. */
export type ObjectType = 'chutes' | 'images' | 'api_keys' | 'secrets';

/** List query options. */
export interface ListOptions {
  /** Filter by name. */
  name?: string | undefined;
  /** Page size (default 25). */
  limit?: number | undefined;
  /** Page number (default 0). */
  page?: number | undefined;
  /** Include public objects (chutes/images). */
  includePublic?: boolean | undefined;
}

/** A paginated list. */
export interface ListResponse {
  /** Total matches. */
  total: number;
  /** Page number. */
  page: number;
  /** Page size. */
  limit: number;
  /** Items. */
  items: Record<string, unknown>[];
  /** Cord lists by `cord_ref_id` (chutes only). */
  cord_refs?: Record<string, unknown[]>;
}

/** An API-key scope. */
export interface ApiKeyScope {
  /** `images`, `chutes` or `invocations`. */
  object_type: string;
  /** One object id. */
  object_id?: string;
  /** `read`, `write`, `delete` or `invoke`. */
  action?: string;
}

/** The registration answer. */
export interface RegisterResponse {
  /** New user id. */
  user_id: string;
  /** Username. */
  username: string;
  /** Website login fingerprint (secret). */
  fingerprint: string;
  /** TAO payment address. */
  payment_address: string;
  [key: string]: unknown;
}
