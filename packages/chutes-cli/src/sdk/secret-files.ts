import { closeSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';

/** File names that hold credentials in common tools (matched on the basename, case-insensitively). */
const SECRET_NAMES: Array<[RegExp, string]> = [
  [/^\.env(\..+)?$/i, 'environment file'],
  [/^config\.ini$/i, 'chutes config (hotkey seed)'],
  [/\.(pem|key|p12|pfx|jks|keystore)$/i, 'key or certificate store'],
  [/^id_(rsa|dsa|ecdsa|ed25519)(_sk)?$/i, 'SSH private key'],
  [/^\.(netrc|npmrc|pypirc|git-credentials)$/i, 'credentials file'],
  [/^(credentials|credentials\.json|service-account.*\.json)$/i, 'cloud credentials'],
  [/^(coldkey|coldkeypub\.txt)$/i, 'bittensor wallet key'],
];

const PRIVATE_KEY_MARKER = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
const SCANNED_BYTES = 64 * 1024;

/**
 * Why a build-context file looks like a secret (`.env`, private keys, `*.pem`, `config.ini`, SSH keys, wallet
 * keys, credential files, or a PEM private-key block in its first 64 KiB), or null when it does not.
 */
export function secretReason(relativePath: string, absolutePath: string): string | null {
  const name = basename(relativePath);
  for (const [pattern, reason] of SECRET_NAMES) if (pattern.test(name)) return reason;
  if (/(^|\/)\.bittensor\/|(^|\/)hotkeys\//.test(relativePath)) return 'bittensor wallet key';
  let fd: number | undefined;
  try {
    fd = openSync(absolutePath, 'r');
    const buffer = Buffer.alloc(SCANNED_BYTES);
    const read = readSync(fd, buffer, 0, SCANNED_BYTES, 0);
    if (PRIVATE_KEY_MARKER.test(buffer.subarray(0, read).toString('latin1'))) return 'contains a private key';
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return null;
}
