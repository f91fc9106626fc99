import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, sha256Hex, verifyMessage } from '../src/index.js';
import { ALICE_SEED, ALICE_SS58, bodyText, expectSigned, type Setup, setup, ZERO_SS58 } from './helpers.js';

let env: Setup;
beforeEach(async () => {
  env = await setup();
});
afterEach(async () => {
  await env.close();
});

async function writeWallet(walletsPath: string, seed = ALICE_SEED, ss58 = ALICE_SS58): Promise<void> {
  await mkdir(join(walletsPath, 'main', 'hotkeys'), { recursive: true });
  await writeFile(
    join(walletsPath, 'main', 'hotkeys', 'hk1'),
    JSON.stringify({ ss58Address: ss58, secretSeed: `0x${seed}`, accountId: '0x' }),
  );
  await writeFile(
    join(walletsPath, 'main', 'coldkeypub.txt'),
    JSON.stringify({ ss58Address: ZERO_SS58, publicKey: '0x' }),
  );
}

describe('register', () => {
  it('registers with the wallet hotkey, sends the Python json body, and writes config.ini', async () => {
    env.api.state.users.clear();
    const wallets = join(env.home, 'wallets');
    await writeWallet(wallets);
    const target = join(env.dir, 'written', 'config.ini');
    const result = await env.cli(
      [
        'register',
        '--username',
        'alice',
        '--wallets-path',
        wallets,
        '--wallet',
        'main',
        '--hotkey',
        'hk1',
        '--config-path',
        target,
        '--yes',
        '--json',
      ],
      { env: { CHUTES_API_URL: env.api.url } },
    );
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    const [ping, register] = env.api.requests;
    expect(ping!.method).toBe('GET');
    expect(ping!.path).toBe('/ping');
    expect(register!.method).toBe('POST');
    expect(register!.path).toBe('/users/register');
    expect(register!.rawQuery).toBe('token=replaceme');
    expect(register!.headers['content-type']).toBe('application/json');
    const body = `{"username": "alice", "coldkey": "${ZERO_SS58}"}`;
    expect(bodyText(register!.body)).toBe(body);
    expectSigned(register!, sha256Hex(body), { userId: null });
    const output = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(output['saved']).toBe(true);
    expect(output['username']).toBe('alice');
    const text = await readFile(target, 'utf8');
    const user = [...env.api.state.users.values()][0]!;
    expect(text).toBe(
      [
        '[api]',
        `base_url = ${env.api.url}`,
        '',
        '[auth]',
        'username = alice',
        `user_id = ${user.user_id}`,
        `hotkey_seed = ${ALICE_SEED}`,
        'hotkey_name = hk1',
        `hotkey_ss58address = ${ALICE_SS58}`,
        '',
        '[payment]',
        `address = ${user.payment_address}`,
        '',
      ].join('\n'),
    );
    expect(parseConfig(text).auth?.hotkeySeed).toBe(ALICE_SEED);
  });

  it('production base URL: asks for the rtok token and posts to rtok.chutes.ai', async () => {
    env.api.state.users.clear();
    const wallets = join(env.home, 'wallets');
    await writeWallet(wallets);
    const urls: string[] = [];
    const result = await env.cli(
      [
        'register',
        '--username',
        'alice',
        '--wallets-path',
        wallets,
        '--wallet',
        'main',
        '--hotkey',
        'hk1',
        '--yes',
      ],
      {
        env: { CHUTES_API_URL: 'https://api.chutes.ai' },
        prompts: ['replaceme'],
        io: {
          fetch: (input, init) => {
            const url = String(input);
            urls.push(url);
            return fetch(url.replace(/^https:\/\/(api|rtok)\.chutes\.ai/, env.api.url), init);
          },
        },
      },
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('https://rtok.chutes.ai/users/registration_token');
    expect(urls).toEqual([
      'https://api.chutes.ai/ping',
      'https://rtok.chutes.ai/users/register?token=replaceme',
    ]);
  });

  it('asks for wallet and hotkey interactively and respects "n" for saving', async () => {
    env.api.state.users.clear();
    const wallets = join(env.home, '.bittensor', 'wallets');
    await writeWallet(wallets);
    const result = await env.cli(['register', '--username', 'alice'], {
      env: { CHUTES_API_URL: env.api.url },
      prompts: ['0', '0', 'n'],
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('[ 0] main');
    expect(result.stderr).toContain('[ 0] hk1');
    expect(result.stdout).toContain('Config not saved.');
    expect(result.stderr).not.toContain(ALICE_SEED);
  });

  it('fails clearly for a missing wallet, a bad username and a taken hotkey', async () => {
    const wallets = join(env.home, 'wallets');
    let result = await env.cli(
      ['register', '--username', 'alice', '--wallets-path', wallets, '--wallet', 'nope', '--hotkey', 'hk1'],
      {
        env: { CHUTES_API_URL: env.api.url },
      },
    );
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^chutes: ERR_WALLET_MISSING: no hotkey file found: .*nope.*hk1\n$/);
    result = await env.cli(['register', '--username', 'a!'], { env: { CHUTES_API_URL: env.api.url } });
    expect(result.code).toBe(11);
    expect(result.stderr).toContain('Invalid username');
    await writeWallet(wallets);
    result = await env.cli(
      [
        'register',
        '--username',
        'alice2',
        '--wallets-path',
        wallets,
        '--wallet',
        'main',
        '--hotkey',
        'hk1',
        '--yes',
      ],
      {
        env: { CHUTES_API_URL: env.api.url },
      },
    );
    expect(result.code).toBe(6);
    expect(result.stderr).toContain('HTTP 409');
  });

  it('rejects a wallet whose seed does not match its address', async () => {
    const wallets = join(env.home, 'wallets');
    await writeWallet(wallets, ALICE_SEED, ZERO_SS58);
    const result = await env.cli(
      ['register', '--username', 'bob', '--wallets-path', wallets, '--wallet', 'main', '--hotkey', 'hk1'],
      {
        env: { CHUTES_API_URL: env.api.url },
      },
    );
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('does not match');
  });

  it('reports an unreachable API as a network error', async () => {
    const result = await env.cli(['register', '--username', 'bob'], {
      env: { CHUTES_API_URL: 'http://127.0.0.1:1' },
    });
    expect(result.code).toBe(9);
    expect(result.stderr).toMatch(
      /^chutes: ERR_NETWORK: cannot reach the Chutes API at http:\/\/127\.0\.0\.1:1/,
    );
  });
});

describe('login', () => {
  it('signs the raw nonce and prints the login URL', async () => {
    const result = await env.cli(['login', '--no-browser', '--json'], {
      env: { CHUTES_API_URL: env.api.url },
    });
    expect(result.code).toBe(0);
    const { url } = JSON.parse(result.stdout) as { url: string };
    const parsed = new URL(url);
    expect(parsed.origin + parsed.pathname).toBe(`${env.api.url}/idp/cli_login`);
    expect([...parsed.searchParams.keys()]).toEqual(['hotkey', 'signature', 'nonce']);
    const nonce = parsed.searchParams.get('nonce')!;
    expect(env.api.requests[0]!.path).toBe('/idp/cli_login/nonce');
    expect(verifyMessage(ALICE_SS58, nonce, parsed.searchParams.get('signature')!)).toBe(true);
    expect((await fetch(url)).status).toBe(200);
  });

  it('opens the browser by default', async () => {
    const opened: string[] = [];
    const result = await env.cli(['login'], {
      env: { CHUTES_API_URL: env.api.url },
      io: { openBrowser: async (url) => void opened.push(url) },
    });
    expect(result.code).toBe(0);
    expect(opened).toHaveLength(1);
    expect(result.stdout).toContain(opened[0]);
  });
});

describe('refinger', () => {
  it('signs "{ss58}:{fingerprint}:{nonce}" and posts the fingerprint', async () => {
    const result = await env.cli(['refinger'], { prompts: ['new-fp'] });
    expect(result.code).toBe(0);
    const request = env.api.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/users/change_fingerprint');
    expect(bodyText(request.body)).toBe('{"fingerprint":"new-fp"}');
    expect(request.auth.message).toBe(`${ALICE_SS58}:new-fp:${request.headers['x-chutes-nonce']}`);
    expect(request.auth.verified).toBe(true);
    expect(env.alice.fingerprint).toBe('new-fp');
    expect(result.stderr).not.toContain('new-fp');
  });
});

describe('report', () => {
  it('posts the reason signed in body mode', async () => {
    const result = await env.cli([
      'report',
      '--invocation-id',
      'inv-1',
      '--reason',
      'wrong answer',
      '--json',
    ]);
    expect(result.code).toBe(0);
    const request = env.api.requests[0]!;
    expect(request.path).toBe('/invocations/inv-1/report');
    expect(bodyText(request.body)).toBe('{"reason":"wrong answer"}');
    expect(request.headers['content-type']).toBe('application/json');
    expectSigned(request, sha256Hex('{"reason":"wrong answer"}'));
    expect(JSON.parse(result.stdout)).toEqual({ status: 'report received for invocation inv-1' });
  });

  it('asks for the reason when missing', async () => {
    const result = await env.cli(['report', '--invocation-id', 'inv-2'], { prompts: ['slow'] });
    expect(result.code).toBe(0);
    expect(bodyText(env.api.requests[0]!.body)).toBe('{"reason":"slow"}');
  });
});

describe('configuration errors', () => {
  it('missing config file', async () => {
    const result = await env.cli(['chutes', 'list'], {
      env: { CHUTES_CONFIG_PATH: join(env.dir, 'none.ini') },
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toBe(
      `chutes: ERR_CONFIG_MISSING: no chutes config at ${join(env.dir, 'none.ini')}; run "chutes register", or set CHUTES_CONFIG_PATH / --config-path\n`,
    );
  });

  it('--config-path wins over CHUTES_CONFIG_PATH', async () => {
    const result = await env.cli(['chutes', 'list', '--config-path', env.configPath, '--json'], {
      env: { CHUTES_CONFIG_PATH: join(env.dir, 'none.ini') },
    });
    expect(result.code).toBe(0);
  });

  it('malformed config and missing [auth]', async () => {
    const bad = join(env.dir, 'bad.ini');
    await writeFile(bad, 'base_url = x\n');
    let result = await env.cli(['chutes', 'list', '--config-path', bad]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('option outside of any [section]');
    await writeFile(bad, `[api]\nbase_url = ${env.api.url}\n`);
    result = await env.cli(['chutes', 'list', '--config-path', bad]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('has no [auth] section');
    await writeFile(bad, '[auth]\nusername = x\n');
    result = await env.cli(['chutes', 'list', '--config-path', bad]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(
      '[auth] is missing user_id, hotkey_seed, hotkey_name, hotkey_ss58address',
    );
  });

  it('missing [api] falls back to CHUTES_API_URL (D3)', async () => {
    const text = (await readFile(env.configPath, 'utf8')).replace(/\[api\]\nbase_url = .*\n\n/, '');
    const path = join(env.dir, 'noapi.ini');
    await writeFile(path, text);
    const result = await env.cli(['chutes', 'list', '--config-path', path, '--json'], {
      env: { CHUTES_API_URL: env.api.url },
    });
    expect(result.code).toBe(0);
    expect(env.api.requests).toHaveLength(1);
  });

  it('unknown hotkey on the server gives 401 → exit 4', async () => {
    env.api.state.users.clear();
    const result = await env.cli(['chutes', 'list']);
    expect(result.code).toBe(4);
    expect(result.stderr).toBe(
      'chutes: ERR_HTTP: listing chutes failed with HTTP 401: Invalid request signature\n',
    );
  });

  it('usage errors exit 2', async () => {
    const result = await env.cli(['report']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("required option '--invocation-id <id>' not specified");
  });
});
