import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ChutesCliError } from '../errors.js';

/** Default API base URL of the Python SDK. */
export const DEFAULT_API_BASE_URL = 'https://api.chutes.ai';

/** A parsed INI file: section name → (lower-cased option name → value). */
export type IniData = Record<string, Record<string, string>>;

/**
 * Parses INI text the way Python's `configparser.ConfigParser` reads config.ini: `[section]` headers,
 * `key = value` or `key: value` options (names lower-cased, values stripped), `#`/`;` comment lines,
 * indented continuation lines, `[DEFAULT]` inheritance and basic `%(name)s` / `%%` interpolation.
 * @throws ChutesCliError `ERR_CONFIG_INVALID` for a line outside a section, a line without a delimiter, a
 * duplicate section or option, or a bad interpolation (like Python's strict parser).
 */
export function parseIni(text: string, source = 'config.ini'): IniData {
  // Null-prototype records: section and option names from the file (even `__proto__`) are plain data.
  const raw: IniData = Object.create(null);
  let section: string | undefined;
  let lastKey: string | undefined;
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    const where = `${source} line ${index + 1}`;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) {
      if (trimmed === '') lastKey = undefined;
      continue;
    }
    if (/^\s/.test(line) && section !== undefined && lastKey !== undefined) {
      const values = raw[section]!;
      values[lastKey] = `${values[lastKey]}\n${trimmed}`;
      continue;
    }
    const header = /^\[([^\]]+)\]/.exec(line);
    if (header) {
      section = header[1]!;
      if (Object.hasOwn(raw, section)) {
        throw new ChutesCliError('ERR_CONFIG_INVALID', `${where}: section [${section}] appears twice`);
      }
      raw[section] = Object.create(null);
      lastKey = undefined;
      continue;
    }
    if (section === undefined) {
      throw new ChutesCliError('ERR_CONFIG_INVALID', `${where}: option outside of any [section]`);
    }
    const match = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(trimmed);
    if (!match) throw new ChutesCliError('ERR_CONFIG_INVALID', `${where}: expected "key = value"`);
    const key = match[1]!.trim().toLowerCase();
    const values = raw[section]!;
    if (Object.hasOwn(values, key)) {
      throw new ChutesCliError(
        'ERR_CONFIG_INVALID',
        `${where}: option "${key}" appears twice in [${section}]`,
      );
    }
    values[key] = match[2]!.trim();
    lastKey = key;
  }
  const defaults = raw['DEFAULT'] ?? {};
  const result: IniData = Object.create(null);
  for (const [name, values] of Object.entries(raw)) {
    if (name === 'DEFAULT') continue;
    const merged = { ...defaults, ...values };
    const out: Record<string, string> = Object.create(null);
    for (const [key, value] of Object.entries(merged))
      out[key] = interpolate(value, merged, source, name, key, 0);
    result[name] = out;
  }
  return result;
}

function interpolate(
  value: string,
  scope: Record<string, string>,
  source: string,
  section: string,
  key: string,
  depth: number,
): string {
  if (!value.includes('%')) return value;
  if (depth > 10)
    throw new ChutesCliError('ERR_CONFIG_INVALID', `${source}: [${section}] ${key}: interpolation too deep`);
  return value.replace(/%(%|\(([^)]+)\)s|.?)/g, (whole, what: string, name: string | undefined) => {
    if (what === '%') return '%';
    if (name !== undefined) {
      const ref = scope[name.toLowerCase()];
      if (ref === undefined) {
        throw new ChutesCliError(
          'ERR_CONFIG_INVALID',
          `${source}: [${section}] ${key} references unknown "${name}"`,
        );
      }
      return interpolate(ref, scope, source, section, key, depth + 1);
    }
    throw new ChutesCliError('ERR_CONFIG_INVALID', `${source}: [${section}] ${key}: bad "%" at "${whole}"`);
  });
}

/** `[auth]` of config.ini. */
export interface AuthConfig {
  /** `username`. */
  username: string;
  /** `user_id` (sent as `X-Chutes-UserID`). */
  userId: string;
  /** `hotkey_seed`: 64 hex characters without 0x. Secret. */
  hotkeySeed: string;
  /** `hotkey_name`: the hotkey file name in the wallet. */
  hotkeyName: string;
  /** `hotkey_ss58address`. */
  hotkeySs58Address: string;
}

/** The content of config.ini in the Python SDK's layout. */
export interface ChutesConfigFile {
  /** `[api] base_url`; may be empty. */
  apiBaseUrl?: string | undefined;
  /** `[auth]`. */
  auth?: AuthConfig | undefined;
  /** `[payment] address`. */
  paymentAddress?: string | undefined;
}

const AUTH_KEYS: ReadonlyArray<[keyof AuthConfig, string]> = [
  ['username', 'username'],
  ['userId', 'user_id'],
  ['hotkeySeed', 'hotkey_seed'],
  ['hotkeyName', 'hotkey_name'],
  ['hotkeySs58Address', 'hotkey_ss58address'],
];

/**
 * Parses config.ini text into {@link ChutesConfigFile}.
 * @throws ChutesCliError `ERR_CONFIG_INVALID` for malformed INI or an `[auth]` section that lacks a key.
 */
export function parseConfig(text: string, source = 'config.ini'): ChutesConfigFile {
  const ini = parseIni(text, source);
  const result: ChutesConfigFile = {};
  const api = ini['api'];
  if (api?.['base_url'] !== undefined) result.apiBaseUrl = api['base_url'];
  const auth = ini['auth'];
  if (auth) {
    const missing = AUTH_KEYS.filter(([, key]) => auth[key] === undefined).map(([, key]) => key);
    if (missing.length > 0) {
      throw new ChutesCliError('ERR_CONFIG_INVALID', `${source}: [auth] is missing ${missing.join(', ')}`);
    }
    result.auth = Object.fromEntries(
      AUTH_KEYS.map(([field, key]) => [field, auth[key]!]),
    ) as unknown as AuthConfig;
  }
  const address = ini['payment']?.['address'];
  if (address !== undefined) result.paymentAddress = address;
  return result;
}

/**
 * Serializes config.ini exactly as the Python `chutes register` writes it (sections `[api]`, `[auth]`,
 * `[payment]`, `key = value`, one blank line between sections, a final newline).
 * @throws TypeError when a value contains a line break (it would corrupt the file).
 */
export function serializeConfig(config: ChutesConfigFile): string {
  const lines: string[] = [];
  const push = (key: string, value: string): void => {
    if (/[\r\n]/.test(value)) throw new TypeError(`config value for ${key} must not contain line breaks`);
    lines.push(`${key} = ${value}`);
  };
  lines.push('[api]');
  push('base_url', config.apiBaseUrl ?? '');
  if (config.auth) {
    lines.push('', '[auth]');
    for (const [field, key] of AUTH_KEYS) push(key, config.auth[field]);
  }
  if (config.paymentAddress !== undefined) {
    lines.push('', '[payment]');
    push('address', config.paymentAddress);
  }
  return `${lines.join('\n')}\n`;
}

/** Where configuration comes from. */
export interface ConfigSources {
  /** The `--config-path` option. */
  configPath?: string | undefined;
  /** Environment (defaults to `process.env`). */
  env?: Record<string, string | undefined>;
  /** Home directory (defaults to `os.homedir()`). */
  home?: string;
}

/**
 * Config path precedence (D1): `--config-path`, then `CHUTES_CONFIG_PATH`, then `~/.chutes/config.ini`.
 */
export function resolveConfigPath(sources: ConfigSources = {}): string {
  const env = sources.env ?? process.env;
  if (sources.configPath) return sources.configPath;
  if (env['CHUTES_CONFIG_PATH']) return env['CHUTES_CONFIG_PATH'];
  return join(sources.home ?? homedir(), '.chutes', 'config.ini');
}

/** Base URL from the environment only (`CHUTES_API_URL`, else the default), as `register` and `login` use. */
export function genericApiBaseUrl(env: Record<string, string | undefined> = process.env): string {
  return env['CHUTES_API_URL'] || DEFAULT_API_BASE_URL;
}

/** The resolved configuration a command works with. */
export interface ResolvedConfig {
  /** The config.ini path that was (or would be) read. */
  path: string;
  /** Whether the file existed. */
  exists: boolean;
  /** Base URL: config `[api] base_url` if non-empty, else `CHUTES_API_URL`, else the default. */
  apiBaseUrl: string;
  /** `[auth]`, when present. */
  auth?: AuthConfig | undefined;
  /** `[payment] address`, when present. */
  paymentAddress?: string | undefined;
}

/**
 * Reads config.ini with the Python SDK's rules plus the D1/D3 fixes (`--config-path` works; a missing `[api]`
 * falls back to `CHUTES_API_URL`, then the default).
 * @param options.allowMissing - do not fail when the file is absent (also `CHUTES_ALLOW_MISSING=true`).
 * @throws ChutesCliError `ERR_CONFIG_MISSING` (absent file) or `ERR_CONFIG_INVALID` (unreadable/malformed).
 */
export async function loadConfig(
  sources: ConfigSources & { allowMissing?: boolean } = {},
): Promise<ResolvedConfig> {
  const env = sources.env ?? process.env;
  const path = resolveConfigPath(sources);
  const allowMissing =
    sources.allowMissing === true || (env['CHUTES_ALLOW_MISSING'] ?? '').toLowerCase() === 'true';
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      if (allowMissing) return { path, exists: false, apiBaseUrl: genericApiBaseUrl(env) };
      throw new ChutesCliError(
        'ERR_CONFIG_MISSING',
        `no chutes config at ${path}; run "chutes register", or set CHUTES_CONFIG_PATH / --config-path`,
        { cause: error },
      );
    }
    throw new ChutesCliError(
      'ERR_CONFIG_INVALID',
      `cannot read chutes config at ${path} (${code ?? 'error'})`,
      {
        cause: error,
      },
    );
  }
  const parsed = parseConfig(text, path);
  return {
    path,
    exists: true,
    apiBaseUrl: parsed.apiBaseUrl || genericApiBaseUrl(env),
    auth: parsed.auth,
    paymentAddress: parsed.paymentAddress,
  };
}

/** Writes config.ini (creating its directory) with {@link serializeConfig}, mode 0600. */
export async function saveConfig(path: string, config: ChutesConfigFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, serializeConfig(config), { mode: 0o600 });
}
