import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';

/** A setting that names a file: its TOML key and environment variable, for error messages. */
export interface FileSetting {
  /** The TOML key, e.g. `chutes.nvidia_root_file`. */
  readonly tomlKey: string;
  /** The environment variable, e.g. `CHUTES_NVIDIA_ROOT_FILE`. */
  readonly envVar: string;
}

/**
 * Reads a file a setting names.
 * @throws {ConfigError} `ERR_CONFIG_INVALID` naming the setting when the file cannot be read (the reason is the
 * system error code, never the content).
 */
export function readSettingFile(path: string, setting: FileSetting): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError([{ ...setting, message: `cannot read ${path}: ${reason}` }], { cause: error });
  }
}

/**
 * Reads a root certificate file: PEM text (returned as text) or DER bytes.
 * @throws {ConfigError} as {@link readSettingFile}.
 */
export function readRootFile(path: string, setting: FileSetting): Uint8Array | string {
  const bytes = readSettingFile(path, setting);
  const text = bytes.toString('latin1');
  return text.trimStart().startsWith('-----BEGIN') ? text : new Uint8Array(bytes);
}
