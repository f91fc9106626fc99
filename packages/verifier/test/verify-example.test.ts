import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flipAfter, flipHexAfter, startTamperProxy, type TamperProxy } from './tamper-proxy.js';

// `node examples/verify.mjs [baseURL]` against the real `npm start` server: `confidential-proxy serve` with
// packages/proxy-server/demo.toml in a child process (its embedded simulated upstreams), then against a relay that
// changes one byte of an answer.

const root = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = `${root}packages/proxy-server/dist/bin/confidential-proxy.js`;
const DEMO = `${root}packages/proxy-server/demo.toml`;
const SCRIPT = `${root}examples/verify.mjs`;
const run = promisify(execFile);

let server: ChildProcess;
let url: string;
let relay: TamperProxy;

beforeAll(async () => {
  server = spawn(process.execPath, [BIN, 'serve', '--config', DEMO, '--port', '0'], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  server.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`demo server did not start: ${stderr}`)), 90_000);
    server.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (http:\/\/\S+)\n/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    server.once('exit', (code) => reject(new Error(`demo server exited with ${code}: ${stderr}`)));
  });
  relay = await startTamperProxy(url);
}, 120_000);

afterAll(async () => {
  await relay?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
});

async function runScript(script: string, args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, [script, ...args], { timeout: 90_000 });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

async function verify(baseUrl: string): Promise<{ code: number; stdout: string }> {
  return runScript(SCRIPT, [baseUrl]);
}

describe('README examples', () => {
  it('run as written against the demo server (only its URL replaced)', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1]!);
    expect(blocks.length).toBe(2);
    for (const [index, block] of blocks.entries()) {
      // Written inside the package so that `@confidential-ai/verifier` and `openai` resolve as for a user.
      const file = new URL(`./.readme-example-${index}.mjs`, import.meta.url);
      writeFileSync(file, block.replaceAll('http://127.0.0.1:8000', url));
      try {
        const { code, stdout } = await runScript(fileURLToPath(file), []);
        expect(code, stdout).toBe(0);
        if (index === 0) expect(stdout).toMatch(/vllm-proxy: simulated\n {2}pass attestation-report/);
        else expect(stdout).toMatch(/^simulated 0x[0-9a-fA-F]{40} 2 simulated\n$/);
      } finally {
        rmSync(file, { force: true });
      }
    }
  });
});

describe('examples/verify.mjs', () => {
  it('prints a step-by-step verdict for each face of `npm start` and exits 0 when no step fails', async () => {
    const { code, stdout } = await verify(url);
    expect(code, stdout).toBe(0);
    for (const face of ['vllm-proxy', 'chutes', 'tee-gateway', 'venice'])
      expect(stdout).toContain(`== ${face}`);
    expect(stdout).toMatch(/pass response-hash/);
    expect(stdout).toMatch(/SIM {2}instance-tdx-quote .*Test SGX Root CA/);
    // Venice through the face: its relayed model attestation and the key the face encrypted to.
    expect(stdout).toMatch(/== venice[\s\S]*SIM {2}tdx-quote .*Test SGX Root CA[\s\S]*SIM {2}encryption-key/);
    expect(stdout).not.toContain('not verifiable');
    // The GPU step of each face: the report's, every Chutes instance's and the Venice model's TEST GPU evidence,
    // verified and its root named; the TEE gateway has none.
    expect(stdout).toMatch(
      /SIM {2}gpu-evidence +1 GPU report bound to the nonce, signatures and chain verified against the evidence's own TEST root "CN=TEST NVIDIA Device Identity CA.*not NVIDIA's; measurements not compared/,
    );
    expect(stdout).toMatch(/SIM {2}instance-gpu-evidence +2 instances: .*TEST NVIDIA Device Identity CA/);
    expect(stdout).toMatch(
      /== venice[\s\S]*SIM {2}gpu-evidence +8 GPU reports bound to the nonce.*TEST NVIDIA Device Identity CA/,
    );
    expect(stdout).toMatch(/n\/a {2}gpu-evidence .*no GPU/);
    expect(stdout).not.toMatch(/FAIL/);
  });

  it('exits non-zero naming the failed step when a relay changes one byte of an answer', async () => {
    relay.tamper = (path, body) =>
      path === '/v1/chutes/chat/completions' ? flipAfter(body, '"content":"') : undefined;
    const { code, stdout } = await verify(relay.url);
    expect(code).toBe(1);
    expect(stdout).toMatch(/FAIL response-hash/);
    expect(stdout).toContain('verification FAILED: chutes: step response-hash (ERR_VERIFY_RESPONSE_HASH)');
  });

  it('names the Venice step when a relay changes one byte of the relayed model attestation', async () => {
    relay.tamper = (path, body) =>
      path.startsWith('/venice/v1/tee/attestation') ? flipHexAfter(body, '"intel_quote":"', 400) : undefined;
    const { code, stdout } = await verify(relay.url);
    expect(code).toBe(1);
    expect(stdout).toMatch(/FAIL tdx-quote/);
    expect(stdout).toContain('verification FAILED: venice: step tdx-quote (ERR_VERIFY_TDX_QUOTE)');
  });
});
