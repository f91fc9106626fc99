import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bytesToHex, bytesToUtf8 } from '@confidential-ai/bytes';
import { unzipSync } from 'fflate';
import { deploymentFee, SUPPORTED_GPUS, supportedGpus } from '../sdk/node-selector.js';
import { sha256Hex, verifyMessage } from '../sdk/signing.js';
import { uuid5 } from '../sdk/uuid.js';
import { parseMultipart } from './multipart.js';

/** A user of the fake API. */
export interface FakeUser {
  user_id: string;
  username: string;
  hotkey: string;
  coldkey: string;
  fingerprint: string;
  payment_address: string;
  developer_payment_address: string;
  balance: number;
  permissions_bitmask: number;
  roles: string[];
  created_at: string;
}

/** A request the fake API received, for assertions. */
export interface RecordedRequest {
  /** Method. */
  method: string;
  /** Path without query. */
  path: string;
  /** Query parameters in order. */
  query: [string, string][];
  /** Raw query string (without `?`). */
  rawQuery: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** Exact body bytes. */
  body: Uint8Array;
  /** Result of authentication. */
  auth: { mode: 'hotkey' | 'api_key' | 'none'; message?: string; verified: boolean; userId?: string };
  /** Status answered. */
  status: number;
}

/** Options of {@link createFakeChutesApi}. */
export interface FakeChutesApiOptions {
  /** Host to bind (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: a free port). */
  port?: number;
  /** Clock in milliseconds (default `Date.now`). */
  now?: () => number;
  /** Accepted registration tokens (default `['replaceme']`). */
  registrationTokens?: string[];
  /** Balance of newly registered users in USD (default 100). */
  initialBalance?: number;
  /** Build-log lines streamed for new images. */
  buildLogs?: string[];
  /** Build-log stream requests after which a new image counts as built (default 1); later requests get text/plain. */
  buildCompletesAfterLogStreams?: number;
  /**
   * Milliseconds after its upload at which a new image is built whether or not its logs are streamed (default 0:
   * at once, so `chutes build` without `--wait` is followed by a usable image, as a finished remote build would
   * be). `null` builds only through the log stream.
   */
  buildCompletesAfterMs?: number | null;
  /** Warm-up statuses streamed before `hot` (default 2 × `cold`). */
  warmupColdEvents?: number;
  /** Instance log lines. */
  instanceLogs?: string[];
  /** A regular expression; deploy code matching it is rejected with 403 (the codecheck). */
  badCodePattern?: RegExp;
  /** Server-side chutes version appended to Dockerfiles. */
  chutesVersion?: string;
}

type Json = Record<string, unknown>;

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
  ) {
    super(typeof detail === 'string' ? detail : 'error');
  }
}

const fail = (status: number, detail: unknown): never => {
  throw new HttpFailure(status, detail);
};

const NAMESPACE_PURPOSES: Record<string, string> = {
  images: 'images',
  chutes: 'chutes',
  api_keys: 'api_keys',
  secrets: 'secrets',
};

const USERNAME_RE = /^[a-zA-Z0-9_]{3,15}$/;
const KEY_NAME_RE = /^[$\w\u0080-\uFFFF._\s-]{1,24}$/;
const API_KEY_RE = /^cpk_([a-f0-9]{32})\.([a-f0-9]{32})\.([a-zA-Z0-9]{32})$/;

/** A running fake Chutes management API. */
export interface FakeChutesApi {
  /** Base URL, e.g. `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** Mutable server state (users, images, chutes, keys, secrets, logos). */
  readonly state: FakeState;
  /** Adds a user directly (no registration), returning it. */
  addUser(user: Partial<FakeUser> & { hotkey: string; username: string }): FakeUser;
  /** Adds an image directly with `status` (default "built and pushed"). */
  addImage(image: { username: string; name: string; tag: string; status?: string; public?: boolean }): Json;
  /** Stops the server. */
  close(): Promise<void>;
}

/** The fake API's state. */
export interface FakeState {
  users: Map<string, FakeUser>;
  images: Map<string, Json>;
  chutes: Map<string, Json>;
  apiKeys: Map<string, Json & { secret: string }>;
  secrets: Map<string, Json>;
  logos: Map<string, { contentType: string; bytes: number }>;
  invocations: Map<string, Json>;
  loginNonces: Map<string, { verified: boolean }>;
  registrations: Map<string, number>;
}

function paginate(
  items: Json[],
  query: URLSearchParams,
): { total: number; page: number; limit: number; items: Json[] } {
  const limit = Math.max(1, Math.min(500, Number.parseInt(query.get('limit') ?? '25', 10) || 25));
  const page = Math.max(0, Number.parseInt(query.get('page') ?? '0', 10) || 0);
  return { total: items.length, page, limit, items: items.slice(page * limit, page * limit + limit) };
}

function readBody(request: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolvePromise(new Uint8Array(Buffer.concat(chunks))));
    request.on('error', reject);
  });
}

function parseJson(body: Uint8Array): Json {
  try {
    const value: unknown = JSON.parse(bytesToUtf8(body));
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value as Json;
  } catch {
    return fail(422, [{ type: 'json_invalid', loc: ['body'], msg: 'JSON decode error' }]);
  }
}

function requireString(body: Json, field: string): string {
  const value = body[field];
  if (typeof value !== 'string')
    fail(422, [{ type: 'missing', loc: ['body', field], msg: 'Field required' }]);
  return value as string;
}

/**
 * Starts a fake Chutes management API on loopback that verifies sr25519 hotkey signatures (context
 * `substrate`, purpose precedence, 600 s nonce window) and implements the endpoints the CLI uses with the
 * reference status codes and `{"detail"}` bodies (spec section 12).
 *
 * @example
 * ```ts
 * const api = await createFakeChutesApi();
 * // CHUTES_API_URL=api.url chutes register ...
 * await api.close();
 * ```
 */
export async function createFakeChutesApi(options: FakeChutesApiOptions = {}): Promise<FakeChutesApi> {
  const now = options.now ?? Date.now;
  const tokens = new Set(options.registrationTokens ?? ['replaceme']);
  const chutesVersion = options.chutesVersion ?? '0.5.5';
  const buildLogs = options.buildLogs ?? [
    'Step 1/3 : FROM parachutes/python:3.12',
    'Step 2/3 : RUN pip install',
    'Successfully built',
  ];
  const state: FakeState = {
    users: new Map(),
    images: new Map(),
    chutes: new Map(),
    apiKeys: new Map(),
    secrets: new Map(),
    logos: new Map(),
    invocations: new Map(),
    loginNonces: new Map(),
    registrations: new Map(),
  };
  const requests: RecordedRequest[] = [];
  const buildTimers = new Set<ReturnType<typeof setTimeout>>();
  const iso = (): string => new Date(now()).toISOString();

  const addUser = (input: Partial<FakeUser> & { hotkey: string; username: string }): FakeUser => {
    const user: FakeUser = {
      user_id: input.user_id ?? uuid5(`user:${input.username.toLowerCase()}`),
      username: input.username,
      hotkey: input.hotkey,
      coldkey: input.coldkey ?? input.hotkey,
      fingerprint: input.fingerprint ?? randomBytes(16).toString('hex'),
      payment_address: input.payment_address ?? `5Pay${randomBytes(8).toString('hex')}`,
      developer_payment_address: input.developer_payment_address ?? `5Dev${randomBytes(8).toString('hex')}`,
      balance: input.balance ?? options.initialBalance ?? 100,
      permissions_bitmask: input.permissions_bitmask ?? 0,
      roles: input.roles ?? [],
      created_at: input.created_at ?? iso(),
    };
    state.users.set(user.user_id, user);
    return user;
  };

  const addImage = (input: {
    username: string;
    name: string;
    tag: string;
    status?: string;
    public?: boolean;
  }): Json => {
    const owner = [...state.users.values()].find((user) => user.username === input.username);
    const image: Json = {
      image_id: uuid5(`${input.username.toLowerCase()}/${input.name}:${input.tag}`),
      user_id: owner?.user_id ?? null,
      username: input.username,
      name: input.name,
      tag: input.tag,
      readme: '',
      public: input.public ?? false,
      status: input.status ?? 'built and pushed',
      chutes_version: chutesVersion,
      created_at: iso(),
      logs: buildLogs,
    };
    state.images.set(image['image_id'] as string, image);
    return image;
  };

  const userByHotkey = (hotkey: string): FakeUser | undefined =>
    [...state.users.values()].find((user) => user.hotkey === hotkey);
  const userByName = (nameOrId: string): FakeUser | undefined =>
    state.users.get(nameOrId) ?? [...state.users.values()].find((user) => user.username === nameOrId);

  /** Section 12.1 authentication. `purpose` is the endpoint's declared purpose. */
  const authenticate = (
    method: string,
    headers: Record<string, string>,
    body: Uint8Array,
    record: RecordedRequest,
    purpose: string | undefined,
    objectType?: string,
  ): FakeUser => {
    const hotkey = headers['x-chutes-hotkey'];
    const signature = headers['x-chutes-signature'];
    if (hotkey && signature) {
      const nonce = headers['x-chutes-nonce'] ?? '';
      if (!/^\d+$/.test(nonce) || Math.abs(now() / 1000 - Number(nonce)) >= 600) {
        record.auth = { mode: 'hotkey', verified: false };
        return fail(401, 'Invalid nonce');
      }
      let message: string;
      if (purpose) message = `${hotkey}:${nonce}:${purpose}`;
      else if (['POST', 'PUT', 'PATCH'].includes(method)) message = `${hotkey}:${nonce}:${sha256Hex(body)}`;
      else {
        record.auth = { mode: 'hotkey', verified: false };
        return fail(401, 'Missing request signature purpose');
      }
      const verified = verifyMessage(hotkey, message, signature);
      record.auth = { mode: 'hotkey', message, verified };
      if (!verified) return fail(401, 'Invalid request signature');
      const user = userByHotkey(hotkey);
      if (!user) return fail(401, 'Invalid request signature');
      record.auth.userId = user.user_id;
      return user;
    }
    const authorization = headers['authorization'];
    if (authorization) {
      const token = authorization.trim().split(/\s+/).pop() ?? '';
      const match = API_KEY_RE.exec(token);
      if (match) {
        const key = [...state.apiKeys.values()].find(
          (entry) => (entry['api_key_id'] as string).replace(/-/g, '') === match[1],
        );
        if (key && key.secret === token && (key['user_id'] as string).replace(/-/g, '') === match[2]) {
          const user = state.users.get(key['user_id'] as string);
          if (user) {
            const action = method === 'GET' ? 'read' : method === 'DELETE' ? 'delete' : 'write';
            const scopes = key['scopes'] as Array<{ object_type: string; action?: string | null }>;
            const allowed =
              key['admin'] === true ||
              (objectType !== undefined &&
                scopes.some(
                  (scope) => scope.object_type === objectType && (!scope.action || scope.action === action),
                ));
            record.auth = { mode: 'api_key', verified: true, userId: user.user_id };
            if (!allowed) return fail(403, 'API key does not have the required scope');
            key['last_used_at'] = iso();
            return user;
          }
        }
      }
      record.auth = { mode: 'api_key', verified: false };
      return fail(401, 'Invalid API key');
    }
    return fail(401, 'Authentication required');
  };

  const findImage = (user: FakeUser, ref: string): Json | undefined =>
    state.images.get(ref) ??
    [...state.images.values()].find(
      (image) =>
        (image['user_id'] === user.user_id || image['public'] === true) &&
        (image['name'] === ref ||
          `${image['name']}:${image['tag']}` === ref ||
          `${image['username']}/${image['name']}:${image['tag']}` === ref),
    );
  const findChute = (user: FakeUser, ref: string, ownOnly = false): Json | undefined => {
    const chute =
      state.chutes.get(ref) ??
      [...state.chutes.values()].find(
        (entry) => entry['name'] === ref && entry['user_id'] === user.user_id,
      ) ??
      (ownOnly
        ? undefined
        : [...state.chutes.values()].find((entry) => entry['name'] === ref && entry['public'] === true));
    if (!chute) return undefined;
    if (ownOnly) return chute['user_id'] === user.user_id ? chute : undefined;
    const visible =
      chute['user_id'] === user.user_id ||
      chute['public'] === true ||
      (chute['shared_with'] as string[]).includes(user.user_id);
    return visible ? chute : undefined;
  };

  const publicImage = (image: Json): Json => {
    const { logs: _logs, dockerfile: _dockerfile, log_streams: _streams, ...rest } = image;
    return rest;
  };
  const publicChute = (chute: Json): Json => {
    const { shared_with: _shared, ...rest } = chute;
    return rest;
  };
  const publicKey = (key: Json & { secret: string }): Json => {
    const { secret: _secret, ...rest } = key;
    return rest;
  };

  const sse = (response: ServerResponse, lines: string[]): void => {
    response.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    for (const line of lines) response.write(`${line}\n\n`);
    response.end();
  };

  const handle = async (
    method: string,
    path: string,
    query: URLSearchParams,
    headers: Record<string, string>,
    body: Uint8Array,
    record: RecordedRequest,
    response: ServerResponse,
    ip: string,
  ): Promise<[number, unknown] | undefined> => {
    const auth = (purpose?: string, objectType?: string): FakeUser =>
      authenticate(method, headers, body, record, purpose, objectType);
    let match: RegExpExecArray | null = null;

    if (method === 'GET' && path === '/ping') return [200, { message: 'pong' }];
    if (method === 'GET' && path === '/pricing') {
      const estimates: Json = {};
      for (const [id, info] of Object.entries(SUPPORTED_GPUS)) {
        estimates[id] = {
          usd: { hour: info.hourlyRate, second: info.hourlyRate / 3600 },
          tao: { hour: info.hourlyRate / 400, second: info.hourlyRate / 400 / 3600 },
        };
      }
      return [
        200,
        {
          tao_usd: 400,
          compute_unit_estimate: { usd: 4.5, tao: 4.5 / 400, description: 'per hour' },
          gpu_price_estimates: estimates,
        },
      ];
    }
    if (method === 'POST' && path === '/users/register') {
      const today = `${ip}:${new Date(now()).toISOString().slice(0, 10)}`;
      const count = state.registrations.get(today) ?? 0;
      if (count >= 3) return fail(429, 'Too many registrations from this IP today');
      const token = query.get('token');
      if (!token) return fail(400, 'Registration token is required');
      if (!tokens.has(token)) return fail(403, 'Invalid registration token');
      const hotkey = headers['x-chutes-hotkey'] ?? '';
      const nonce = headers['x-chutes-nonce'] ?? '';
      const signature = headers['x-chutes-signature'] ?? '';
      if (!/^\d+$/.test(nonce) || Math.abs(now() / 1000 - Number(nonce)) >= 600)
        return fail(401, 'Invalid nonce');
      const message = `${hotkey}:${nonce}:${sha256Hex(body)}`;
      const verified = verifyMessage(hotkey, message, signature);
      record.auth = { mode: 'hotkey', message, verified };
      if (!verified) return fail(401, 'Invalid request signature');
      if (userByHotkey(hotkey)) return fail(409, `Hotkey already registered: ${hotkey}`);
      const payload = parseJson(body);
      const username = requireString(payload, 'username');
      const coldkey = requireString(payload, 'coldkey');
      if (!USERNAME_RE.test(username)) return fail(400, 'Invalid username');
      if ([...state.users.values()].some((user) => user.username.toLowerCase() === username.toLowerCase())) {
        return fail(409, `Username already exists: ${username}`);
      }
      state.registrations.set(today, count + 1);
      const user = addUser({ username, hotkey, coldkey, user_id: randomUUID() });
      return [
        200,
        {
          user_id: user.user_id,
          username: user.username,
          created_at: user.created_at,
          hotkey: user.hotkey,
          coldkey: user.coldkey,
          payment_address: user.payment_address,
          developer_payment_address: user.developer_payment_address,
          fingerprint: user.fingerprint,
        },
      ];
    }
    if (method === 'GET' && path === '/users/name_check') {
      const username = query.get('username') ?? '';
      const valid = USERNAME_RE.test(username);
      const available =
        valid &&
        ![...state.users.values()].some((user) => user.username.toLowerCase() === username.toLowerCase());
      return [200, { valid, available }];
    }
    if (method === 'GET' && path === '/idp/cli_login/nonce') {
      const nonce = randomUUID();
      state.loginNonces.set(nonce, { verified: false });
      return [200, { nonce }];
    }
    if (method === 'GET' && path === '/idp/cli_login') {
      const nonce = query.get('nonce') ?? '';
      const entry = state.loginNonces.get(nonce);
      if (!entry) return fail(400, 'Unknown nonce');
      if (!verifyMessage(query.get('hotkey') ?? '', nonce, query.get('signature') ?? ''))
        return fail(401, 'Invalid signature');
      entry.verified = true;
      return [200, { status: 'logged in' }];
    }
    if (method === 'POST' && path === '/users/change_fingerprint') {
      const nonce = headers['x-chutes-nonce'] ?? '';
      if (!/^\d+$/.test(nonce) || Math.abs(now() / 1000 - Number(nonce)) > 300)
        return fail(401, 'Invalid nonce');
      const payload = parseJson(body);
      const fingerprint = requireString(payload, 'fingerprint');
      const signer = headers['x-chutes-hotkey'] ?? headers['x-chutes-coldkey'] ?? '';
      const user = [...state.users.values()].find(
        (entry) => entry.hotkey === signer || entry.coldkey === signer,
      );
      const message = `${signer}:${fingerprint}:${nonce}`;
      const verified = verifyMessage(signer, message, headers['x-chutes-signature'] ?? '');
      record.auth = { mode: 'hotkey', message, verified };
      if (!user || !verified) return fail(401, 'Invalid request signature');
      user.fingerprint = fingerprint;
      return [200, { status: 'Fingerprint updated' }];
    }
    if (method === 'GET' && path === '/users/me') {
      const user = auth('me');
      const { fingerprint: _fingerprint, ...rest } = user;
      const permissions =
        (user.permissions_bitmask & (1 << 11)) !== 0 ? ['Allow deploying models publicly.'] : [];
      return [200, { ...rest, permissions }];
    }
    match = /^\/invocations\/([^/]+)\/report$/.exec(path);
    if (method === 'POST' && match) {
      const user = auth();
      const payload = parseJson(body);
      const reason = requireString(payload, 'reason');
      state.invocations.set(decodeURIComponent(match[1]!), { reason, user_id: user.user_id });
      return [200, { status: `report received for invocation ${decodeURIComponent(match[1]!)}` }];
    }
    if (method === 'POST' && path === '/logos/') {
      auth();
      const parts = parseMultipart(body, headers['content-type']);
      const logo = parts?.find((part) => part.name === 'logo');
      if (!logo) return fail(422, [{ type: 'missing', loc: ['body', 'logo'], msg: 'Field required' }]);
      if (!/^image\//.test(logo.contentType ?? '')) return fail(400, 'Logo must be an image');
      const logoId = randomUUID();
      state.logos.set(logoId, { contentType: 'image/webp', bytes: logo.data.length });
      return [200, { logo_id: logoId }];
    }

    // Lists.
    match = /^\/(images|chutes|api_keys|secrets)\/$/.exec(path);
    if (method === 'GET' && match) {
      const type = match[1]!;
      const user = auth(NAMESPACE_PURPOSES[type], type);
      const name = query.get('name');
      const includePublic = query.get('include_public') === 'True' || query.get('include_public') === 'true';
      if (type === 'images') {
        const items = [...state.images.values()].filter(
          (image) =>
            (image['user_id'] === user.user_id || (includePublic && image['public'] === true)) &&
            (!name || image['name'] === name),
        );
        return [200, paginate(items.map(publicImage), query)];
      }
      if (type === 'chutes') {
        const items = [...state.chutes.values()].filter(
          (chute) =>
            (chute['user_id'] === user.user_id ||
              (includePublic && chute['public'] === true) ||
              (chute['shared_with'] as string[]).includes(user.user_id)) &&
            (!name || chute['name'] === name),
        );
        const page = paginate(items.map(publicChute), query);
        const cordRefs: Json = {};
        const pageItems = page.items.map((item) => {
          const { cords, ...rest } = item;
          const ref = sha256Hex(JSON.stringify(cords)).slice(0, 16);
          cordRefs[ref] = (cords as Json[]).map((cord) => {
            const { input_schema: _in, output_schema: _out, minimal_input_schema: _min, ...stripped } = cord;
            return stripped;
          });
          return { ...rest, cord_ref_id: ref };
        });
        return [200, { ...page, items: pageItems, cord_refs: cordRefs }];
      }
      if (type === 'api_keys') {
        const items = [...state.apiKeys.values()].filter(
          (key) => key['user_id'] === user.user_id && (!name || key['name'] === name),
        );
        return [200, paginate(items.map(publicKey), query)];
      }
      const items = [...state.secrets.values()].filter((secret) => secret['user_id'] === user.user_id);
      return [
        200,
        paginate(
          items.map((secret) => ({ ...secret, value: undefined })),
          query,
        ),
      ];
    }

    if (method === 'POST' && path === '/images/') {
      const user = auth(undefined, 'images');
      const parts = parseMultipart(body, headers['content-type']);
      if (!parts) return fail(422, [{ type: 'missing', loc: ['body'], msg: 'multipart form required' }]);
      const field = (name: string): string | undefined => {
        const part = parts.find((entry) => entry.name === name);
        return part && part.filename === undefined ? bytesToUtf8(part.data) : undefined;
      };
      const required = [
        'username',
        'name',
        'tag',
        'readme',
        'dockerfile',
        'public',
        'logo_id',
        'wait',
        'image',
      ];
      for (const name of required)
        if (field(name) === undefined)
          return fail(422, [{ type: 'missing', loc: ['body', name], msg: 'Field required' }]);
      const context = parts.find((part) => part.name === 'build_context' && part.filename !== undefined);
      if (!context)
        return fail(422, [{ type: 'missing', loc: ['body', 'build_context'], msg: 'Field required' }]);
      let files: string[];
      try {
        files = Object.keys(unzipSync(context.data));
      } catch {
        return fail(400, 'build_context is not a zip archive');
      }
      if (field('username') !== user.username)
        return fail(401, 'Username does not match the authenticated user');
      if (user.balance < 50 && !user.roles.includes('unlimited_dev')) {
        return fail(402, 'You must have a balance of at least $50 to build images');
      }
      const name = field('name')!;
      const tag = field('tag')!;
      const imageId = uuid5(`${user.username.toLowerCase()}/${name}:${tag}`);
      if (
        state.images.has(imageId) ||
        [...state.images.values()].some(
          (image) => image['user_id'] === user.user_id && image['name'] === name && image['tag'] === tag,
        )
      ) {
        return fail(409, `Image with name=${name} and tag=${tag} already exists`);
      }
      const image: Json = {
        image_id: imageId,
        user_id: user.user_id,
        username: user.username,
        name,
        tag,
        readme: field('readme'),
        public: field('public') === 'True',
        logo_id: field('logo_id') === '__none__' ? null : field('logo_id'),
        status: 'pending build',
        chutes_version: chutesVersion,
        created_at: iso(),
        dockerfile: `${field('dockerfile')}\n\nRUN pip install chutes==${chutesVersion}`,
        build_context_files: files,
        logs: buildLogs,
      };
      state.images.set(imageId, image);
      const after = options.buildCompletesAfterMs === undefined ? 0 : options.buildCompletesAfterMs;
      if (after !== null) {
        const timer = setTimeout(() => {
          buildTimers.delete(timer);
          if (image['status'] === 'pending build') image['status'] = 'built and pushed';
        }, after);
        timer.unref();
        buildTimers.add(timer);
      }
      return [202, { ...publicImage(image), build_context_files: undefined }];
    }
    match = /^\/images\/(.+)\/logs$/.exec(path);
    if (method === 'GET' && match) {
      const user = auth('images', 'images');
      const image = findImage(user, decodeURIComponent(match[1]!));
      if (!image || image['user_id'] !== user.user_id) return fail(404, 'Image not found');
      const logs = image['logs'] as string[];
      if (image['status'] === 'built and pushed') {
        response.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        response.end(logs.join('\n'));
        return undefined;
      }
      const offset = query.get('offset');
      const start = offset === null ? 0 : Number.parseInt(offset.split('-')[0] ?? '0', 10) + 1;
      const lines: string[] = ['.'];
      for (let i = start; i < logs.length; i++) {
        const log = i % 2 === 0 ? logs[i] : { log_type: 'stdout', log: logs[i] };
        lines.push(`data: ${JSON.stringify({ log, offset: `${i}-0` })}`);
      }
      lines.push('DONE');
      image['log_streams'] = ((image['log_streams'] as number | undefined) ?? 0) + 1;
      if ((image['log_streams'] as number) >= (options.buildCompletesAfterLogStreams ?? 1))
        image['status'] = 'built and pushed';
      sse(response, lines);
      return undefined;
    }

    if (
      (method === 'POST' && path === '/chutes/share') ||
      (method === 'POST' && path === '/chutes/unshare')
    ) {
      const user = auth(undefined, 'chutes');
      const payload = parseJson(body);
      const chuteRef = requireString(payload, 'chute_id_or_name');
      const userRef = requireString(payload, 'user_id_or_name');
      const chute = findChute(user, chuteRef, true);
      if (!chute) return fail(404, 'Chute not found or not owned by you');
      if (chute['public'] === true) return fail(400, 'Public chutes cannot be shared');
      const target = userByName(userRef);
      if (!target) return fail(404, 'User not found');
      if (target.user_id === user.user_id) return fail(400, 'You cannot share a chute with yourself');
      const shared = chute['shared_with'] as string[];
      if (path.endsWith('/share')) {
        if (!shared.includes(target.user_id)) shared.push(target.user_id);
        return [200, { status: `Successfully shared chute ${chute['chute_id']} with ${target.user_id}` }];
      }
      chute['shared_with'] = shared.filter((id) => id !== target.user_id);
      return [200, { status: `Successfully unshared chute ${chute['chute_id']} with ${target.user_id}` }];
    }
    match = /^\/chutes\/warmup\/(.+)$/.exec(path);
    if (method === 'GET' && match) {
      const user = auth('chutes', 'chutes');
      const chute = findChute(user, decodeURIComponent(match[1]!));
      if (!chute) return fail(404, 'Chute not found');
      if (user.balance <= 0) return fail(402, 'Account balance is zero; please top up to warm up chutes');
      const lines: string[] = [];
      const cold = options.warmupColdEvents ?? 2;
      for (let i = 0; i < cold; i++)
        lines.push(`data: ${JSON.stringify({ status: 'cold', log: `waiting for instances (${i + 1})` })}`);
      lines.push(`data: ${JSON.stringify({ status: 'hot', log: 'chute is hot' })}`);
      chute['hot'] = true;
      chute['instances'] = [
        { instance_id: uuid5(`instance:${chute['chute_id']}`), active: true, verified: true },
      ];
      sse(response, lines);
      return undefined;
    }
    if (method === 'POST' && path === '/chutes/') {
      const user = auth(undefined, 'chutes');
      const payload = parseJson(body);
      const errors: Json[] = [];
      const check = (ok: boolean, field: string, msg: string): void => {
        if (!ok) errors.push({ type: 'value_error', loc: ['body', field], msg });
      };
      const name = payload['name'];
      check(
        typeof name === 'string' && name.length >= 3 && name.length <= 128,
        'name',
        'name must be 3-128 characters',
      );
      check(
        typeof (payload['tagline'] ?? '') === 'string' && String(payload['tagline'] ?? '').length <= 1024,
        'tagline',
        'tagline too long',
      );
      check(
        typeof (payload['readme'] ?? '') === 'string' && String(payload['readme'] ?? '').length <= 16384,
        'readme',
        'readme too long',
      );
      check(
        typeof payload['code'] === 'string' && (payload['code'] as string).length <= 150000,
        'code',
        'code must be a string of at most 150000 characters',
      );
      check(typeof payload['image'] === 'string', 'image', 'Field required');
      check(
        typeof payload['filename'] === 'string' && typeof payload['ref_str'] === 'string',
        'ref_str',
        'filename and ref_str are required',
      );
      const concurrency = payload['concurrency'] ?? 1;
      check(
        Number.isInteger(concurrency) && (concurrency as number) <= 256 && (concurrency as number) >= 1,
        'concurrency',
        'concurrency must be <= 256',
      );
      const revision = payload['revision'];
      check(
        revision === null ||
          revision === undefined ||
          (typeof revision === 'string' && /^[a-f0-9]{40}$/i.test(revision)),
        'revision',
        'invalid revision',
      );
      const maxInstances = payload['max_instances'] ?? 1;
      check(
        Number.isInteger(maxInstances) && (maxInstances as number) >= 1 && (maxInstances as number) <= 100,
        'max_instances',
        'max_instances must be 1-100',
      );
      const threshold = payload['scaling_threshold'] ?? 0.75;
      check(
        typeof threshold === 'number' && threshold >= 0 && threshold <= 1,
        'scaling_threshold',
        'scaling_threshold must be 0-1',
      );
      const shutdown = payload['shutdown_after_seconds'] ?? 300;
      check(
        Number.isInteger(shutdown) && (shutdown as number) >= 60 && (shutdown as number) <= 604800,
        'shutdown_after_seconds',
        'shutdown_after_seconds must be 60-604800',
      );
      const selector = payload['node_selector'] as Json | undefined;
      const gpuCount = selector?.['gpu_count'];
      const minVram = selector?.['min_vram_gb_per_gpu'] ?? 16;
      check(
        !!selector && Number.isInteger(gpuCount) && (gpuCount as number) >= 1 && (gpuCount as number) <= 8,
        'node_selector',
        'gpu_count must be 1-8',
      );
      check(
        Number.isInteger(minVram) && (minVram as number) >= 16,
        'node_selector',
        'min_vram_gb_per_gpu must be >= 16',
      );
      check(Array.isArray(payload['cords']), 'cords', 'cords must be a list');
      for (const job of (payload['jobs'] as Json[] | undefined) ?? []) {
        for (const port of (job['ports'] as Json[] | undefined) ?? []) {
          const value = port['port'] as number;
          check(value === 2202 || (value >= 8002 && value <= 65535), 'jobs', 'invalid job port');
        }
      }
      if (errors.length > 0) return fail(422, errors);
      if (options.badCodePattern?.test(payload['code'] as string))
        return fail(403, 'Chute code failed the code check');
      if (payload['standard_template'] === 'vllm' && !revision)
        return fail(400, 'revision is required for vllm chutes');
      const imageRef = payload['image'] as string;
      const image =
        findImage(user, imageRef) ??
        [...state.images.values()].find(
          (entry) => `${entry['username']}/${entry['name']}:${entry['tag']}` === imageRef,
        );
      if (image?.['status'] !== 'built and pushed')
        return fail(404, `Chute image not found, or does not belong to you: ${imageRef}`);
      const include = (selector!['include'] as string[] | null | undefined) ?? null;
      const exclude = (selector!['exclude'] as string[] | null | undefined) ?? null;
      const selectorJson = {
        gpu_count: gpuCount as number,
        min_vram_gb_per_gpu: minVram as number,
        include,
        exclude,
      };
      let gpus: string[];
      try {
        gpus = supportedGpus(selectorJson);
      } catch {
        return fail(400, 'Invalid GPU identifiers');
      }
      if (gpus.length === 1 && gpus[0] === '5090') return fail(403, '5090 only chutes are not allowed');
      const privileged = user.username === 'chutes' || user.roles.includes('unlimited_dev');
      if (!privileged) {
        if ((minVram as number) > 140) return fail(400, 'min_vram_gb_per_gpu > 140 is not allowed');
        if (!exclude || exclude.length === 0) selectorJson.exclude = ['b200', 'mi300x'];
        const remaining = gpus.filter((gpu) => !(selectorJson.exclude ?? []).includes(gpu));
        if (remaining.length === 0 && gpus.length === 0) return fail(400, 'No GPUs match the node selector');
        if (remaining.length === 0) return fail(403, 'b200/mi300x-only chutes are not allowed');
      }
      if (gpus.length === 0) return fail(400, 'No GPUs match the node selector');
      if (payload['public'] === true && (user.permissions_bitmask & (1 << 11)) === 0)
        return fail(403, 'You do not have permission to create public chutes');
      const chuteId = uuid5(`${user.username}::chute::${name}`);
      const version = uuid5(`${image['image_id']}:${payload['code']}`);
      const existing = state.chutes.get(chuteId);
      if (existing && existing['version'] === version)
        return fail(409, `Chute with name=${name}, version=${version} already exists`);
      const fee =
        existing || user.roles.includes('free_account')
          ? 0
          : deploymentFee({
              gpu_count: gpuCount as number,
              min_vram_gb_per_gpu: minVram as number,
              include,
              exclude,
            });
      if (fee > 0 && query.get('accept_fee') !== 'true') {
        return fail(
          402,
          `DEPLOYMENT FEE NOTICE: deploying this chute costs a one-time fee of $${fee.toFixed(2)} (3 x gpu_count x hourly rate). Re-run with --accept-fee to accept.`,
        );
      }
      if (fee > 0 && user.balance <= fee)
        return fail(402, `Insufficient balance for the $${fee.toFixed(2)} deployment fee; please top up.`);
      user.balance -= fee;
      const slug = `${user.username}-${String(name)}`
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, '-')
        .slice(0, 58);
      const chute: Json = {
        chute_id: chuteId,
        user_id: user.user_id,
        name,
        tagline: payload['tagline'] ?? '',
        readme: payload['readme'] ?? '',
        logo_id: payload['logo_id'] ?? null,
        image_id: image['image_id'],
        public: payload['public'] === true,
        standard_template: payload['standard_template'] ?? null,
        node_selector: { ...selectorJson, supported_gpus: gpus, compute_multiplier: 1 },
        filename: payload['filename'],
        ref_str: payload['ref_str'],
        code: payload['code'],
        concurrency,
        max_instances: maxInstances,
        scaling_threshold: threshold,
        shutdown_after_seconds: shutdown,
        revision: revision ?? null,
        cords: payload['cords'],
        jobs: payload['jobs'] ?? [],
        version,
        slug,
        hot: false,
        instances: [],
        created_at: iso(),
        deployment_fee: fee,
        shared_with: existing?.['shared_with'] ?? [],
      };
      state.chutes.set(chuteId, chute);
      return [200, publicChute(chute)];
    }

    if (method === 'POST' && path === '/api_keys/') {
      const user = auth(undefined, 'api_keys');
      const payload = parseJson(body);
      const name = requireString(payload, 'name');
      if (!KEY_NAME_RE.test(name))
        return fail(422, [{ type: 'string_pattern_mismatch', loc: ['body', 'name'], msg: 'invalid name' }]);
      const admin = payload['admin'] === true;
      const scopes = (payload['scopes'] as Json[] | undefined) ?? [];
      if (!Array.isArray(scopes))
        return fail(422, [{ type: 'list_type', loc: ['body', 'scopes'], msg: 'must be a list' }]);
      for (const scope of scopes) {
        if (!['images', 'chutes', 'invocations'].includes(scope['object_type'] as string)) {
          return fail(422, [
            { type: 'value_error', loc: ['body', 'scopes', 'object_type'], msg: 'invalid object_type' },
          ]);
        }
        if (
          scope['action'] !== undefined &&
          scope['action'] !== null &&
          !['read', 'write', 'delete', 'invoke'].includes(scope['action'] as string)
        ) {
          return fail(422, [
            { type: 'value_error', loc: ['body', 'scopes', 'action'], msg: 'invalid action' },
          ]);
        }
      }
      const apiKeyId = randomUUID();
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
      const secretPart = Array.from(randomBytes(32), (byte) => alphabet[byte % alphabet.length]).join('');
      const secret = `cpk_${apiKeyId.replace(/-/g, '')}.${user.user_id.replace(/-/g, '')}.${secretPart}`;
      const key = {
        api_key_id: apiKeyId,
        user_id: user.user_id,
        admin,
        name,
        created_at: iso(),
        last_used_at: null,
        scopes: scopes.map((scope) => ({
          object_type: scope['object_type'],
          object_id: scope['object_id'] ?? null,
          action: scope['action'] ?? null,
        })),
        secret,
      };
      state.apiKeys.set(apiKeyId, key);
      return [200, { ...publicKey(key), secret_key: secret }];
    }
    if (method === 'POST' && path === '/secrets/') {
      const user = auth(undefined, 'secrets');
      const payload = parseJson(body);
      const purpose = requireString(payload, 'purpose');
      const key = requireString(payload, 'key');
      const value = requireString(payload, 'value');
      const chute = findChute(user, purpose, true);
      if (!chute) return fail(404, `Chute not found: ${purpose}`);
      const secretId = uuid5(`${user.user_id}:${chute['chute_id']}:${key}`);
      if (state.secrets.has(secretId))
        return fail(409, `Secret with key ${key} already exists for this chute`);
      const secret = {
        secret_id: secretId,
        user_id: user.user_id,
        purpose: chute['chute_id'],
        key,
        created_at: iso(),
      };
      state.secrets.set(secretId, { ...secret, value });
      return [200, secret];
    }

    // Single objects: GET/DELETE /{type}/{id}.
    match = /^\/(images|chutes|api_keys|secrets)\/(.+)$/.exec(path);
    if ((method === 'GET' || method === 'DELETE') && match) {
      const type = match[1]!;
      const ref = decodeURIComponent(match[2]!);
      const user = auth(NAMESPACE_PURPOSES[type], type);
      if (type === 'images') {
        const image = findImage(user, ref);
        if (!image) return fail(404, 'Image not found');
        if (method === 'GET') return [200, publicImage(image)];
        if (image['user_id'] !== user.user_id) return fail(404, 'Image not found');
        state.images.delete(image['image_id'] as string);
        return [200, { image_id: image['image_id'], deleted: true }];
      }
      if (type === 'chutes') {
        const chute = findChute(user, ref, method === 'DELETE');
        if (!chute) return fail(404, 'Chute not found');
        if (method === 'GET') return [200, publicChute(chute)];
        state.chutes.delete(chute['chute_id'] as string);
        return [200, { chute_id: chute['chute_id'], deleted: true }];
      }
      if (type === 'api_keys') {
        const key = state.apiKeys.get(ref);
        if (!key || key['user_id'] !== user.user_id) return fail(404, 'API key not found');
        if (method === 'GET') return [200, publicKey(key)];
        state.apiKeys.delete(ref);
        return [200, { api_key_id: ref, deleted: true }];
      }
      const secret = state.secrets.get(ref);
      if (!secret || secret['user_id'] !== user.user_id) return fail(404, 'Secret not found');
      if (method === 'GET') return [200, { ...secret, value: undefined }];
      state.secrets.delete(ref);
      return [200, { secret_id: ref, deleted: true }];
    }
    match = /^\/instances\/([^/]+)\/logs$/.exec(path);
    if (method === 'GET' && match) {
      const user = auth('logs');
      const id = decodeURIComponent(match[1]!);
      const owns = [...state.chutes.values()].some(
        (chute) =>
          chute['user_id'] === user.user_id &&
          (chute['instances'] as Json[]).some((instance) => instance['instance_id'] === id),
      );
      if (!owns) return fail(404, 'Instance not found');
      const lines = (options.instanceLogs ?? ['instance starting', 'model loaded']).map(
        (log) => `data: ${JSON.stringify({ log })}`,
      );
      sse(response, lines);
      return undefined;
    }
    if (method === 'POST' && path === '/return_developer_deposit') {
      auth();
      const payload = parseJson(body);
      requireString(payload, 'address');
      return fail(400, 'No developer deposit payment found');
    }
    return fail(404, 'Not Found');
  };

  const server: Server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://fake');
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(request.headers)) {
        if (typeof value === 'string') headers[key.toLowerCase()] = value;
        else if (Array.isArray(value)) headers[key.toLowerCase()] = value.join(', ');
      }
      const body = await readBody(request);
      const record: RecordedRequest = {
        method: request.method ?? 'GET',
        path: url.pathname,
        query: [...url.searchParams.entries()],
        rawQuery: url.search.replace(/^\?/, ''),
        headers,
        body,
        auth: { mode: 'none', verified: false },
        status: 0,
      };
      requests.push(record);
      try {
        const result = await handle(
          record.method,
          url.pathname,
          url.searchParams,
          headers,
          body,
          record,
          response,
          request.socket.remoteAddress ?? '',
        );
        if (result) {
          const [status, payload] = result;
          record.status = status;
          response.writeHead(status, { 'Content-Type': 'application/json' });
          response.end(JSON.stringify(payload));
        } else {
          record.status = response.statusCode;
        }
      } catch (error) {
        const status = error instanceof HttpFailure ? error.status : 500;
        const detail = error instanceof HttpFailure ? error.detail : 'Internal Server Error';
        record.status = status;
        if (!response.headersSent) response.writeHead(status, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify({ detail }));
      }
    })();
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolvePromise());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    requests,
    state,
    addUser,
    addImage,
    close: () =>
      new Promise<void>((resolvePromise) => {
        for (const timer of buildTimers) clearTimeout(timer);
        buildTimers.clear();
        server.closeAllConnections?.();
        server.close(() => resolvePromise());
      }),
  };
}

/** Hex of random bytes (exported for tests that need deterministic-looking ids). */
export function randomHex(length: number): string {
  return bytesToHex(randomBytes(length));
}
