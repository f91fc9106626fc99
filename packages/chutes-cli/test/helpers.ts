import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesToUtf8 } from '@confidential-ai/bytes';
import { expect } from 'vitest';
import { ChutesCliError, type CliIo, run, serializeConfig, verifyMessage } from '../src/index.js';
import {
  createFakeChutesApi,
  type FakeChutesApi,
  type FakeChutesApiOptions,
  type FakeUser,
  type RecordedRequest,
} from '../src/testing/index.js';

export const ALICE_SEED = 'e5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a';
export const ALICE_SS58 = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
export const ZERO_SS58 = '5C4hrfjw9DjXZTzV3MwzrrAr9P1MJhSrvWGWqi1eSuyUpnhM';
export const ALICE_ID = '0e8cd7b5-6a5c-4d7b-9c39-1f3f0c1f2a11';
export const SRC_INDEX = fileURLToPath(new URL('../src/index.ts', import.meta.url));
export const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Setup {
  api: FakeChutesApi;
  dir: string;
  home: string;
  configPath: string;
  alice: FakeUser;
  cli: (
    args: string[],
    extra?: { prompts?: string[]; env?: Record<string, string>; io?: Partial<CliIo> },
  ) => Promise<CliResult>;
  close: () => Promise<void>;
}

/**
 * A temp dir under node_modules holding a `home/` and a `config.ini` signed in as alice (the Alice hotkey) on `api`,
 * where alice is added as a user with a balance of 100.
 */
export async function aliceWorkspace(api: FakeChutesApi, prefix: string, fileMode?: number) {
  const root = join(PACKAGE_DIR, 'node_modules', '.tmp');
  await mkdir(root, { recursive: true });
  const dir = await mkdtemp(join(root, prefix));
  const home = join(dir, 'home');
  await mkdir(home, { recursive: true });
  const alice = api.addUser({ username: 'alice', hotkey: ALICE_SS58, user_id: ALICE_ID, balance: 100 });
  const configPath = join(dir, 'config.ini');
  const config = serializeConfig({
    apiBaseUrl: api.url,
    auth: {
      username: 'alice',
      userId: ALICE_ID,
      hotkeySeed: ALICE_SEED,
      hotkeyName: 'default',
      hotkeySs58Address: ALICE_SS58,
    },
    paymentAddress: '5Pay',
  });
  await writeFile(configPath, config, fileMode === undefined ? {} : { mode: fileMode });
  return { dir, home, configPath, alice };
}

/** A fake API with user alice (the Alice hotkey) and a config.ini pointing at it, in a temp dir under node_modules. */
export async function setup(options: FakeChutesApiOptions = {}): Promise<Setup> {
  const api = await createFakeChutesApi(options);
  const { dir, home, configPath, alice } = await aliceWorkspace(api, 'cli-');
  const cli: Setup['cli'] = async (args, extra = {}) => {
    let stdout = '';
    let stderr = '';
    const prompts = [...(extra.prompts ?? [])];
    const code = await run(['node', 'chutes', ...args], {
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
      prompt: async (question) => {
        stderr += question;
        const answer = prompts.shift();
        if (answer === undefined) throw new ChutesCliError('ERR_ABORTED', `unexpected prompt: ${question}`);
        return answer;
      },
      stdinIsTty: true,
      env: { CHUTES_CONFIG_PATH: configPath, ...extra.env },
      cwd: dir,
      home,
      sleep: async () => {},
      openBrowser: async () => {},
      run: async () => {
        throw Object.assign(new Error('spawn docker ENOENT'), { code: 'ENOENT' });
      },
      ...extra.io,
    });
    return { code, stdout, stderr };
  };
  return {
    api,
    dir,
    home,
    configPath,
    alice,
    cli,
    close: async () => {
      await api.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The body of a recorded request as text. */
export function bodyText(body: Uint8Array): string {
  return bytesToUtf8(body);
}

/** Asserts a hotkey-signed request: Python header set, nonce in seconds, signature verified over `third`. */
export function expectSigned(
  record: RecordedRequest,
  third: string,
  options: { userId?: string | null } = {},
): void {
  expect(record.headers['x-chutes-hotkey']).toBe(ALICE_SS58);
  const nonce = record.headers['x-chutes-nonce']!;
  expect(nonce).toMatch(/^\d+$/);
  expect(Math.abs(Number(nonce) - Date.now() / 1000)).toBeLessThan(60);
  if (options.userId === null) expect(record.headers['x-chutes-userid']).toBeUndefined();
  else expect(record.headers['x-chutes-userid']).toBe(options.userId ?? ALICE_ID);
  expect(record.headers['x-chutes-signature']).toMatch(/^[0-9a-f]{128}$/);
  const message = `${ALICE_SS58}:${nonce}:${third}`;
  expect(record.auth.message).toBe(message);
  expect(record.auth.verified).toBe(true);
  expect(verifyMessage(ALICE_SS58, message, record.headers['x-chutes-signature']!)).toBe(true);
}
