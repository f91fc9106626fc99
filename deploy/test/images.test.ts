// Each service image on its own, as an operator runs it: non-root, its health check, a real client, the access
// control it listens behind, and a prompt stop on SIGTERM without an init process (node is PID 1).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, images, podman, productionClosure, repoDir, run, waitFor } from './support/commands.js';
import { simulatedReply } from './support/e2ee-client.js';

/** The package name of a `node_modules/.pnpm` directory (`@scope+name@1.2.3_peer@4` → `@scope/name`). */
function pnpmDirectoryName(directory: string): string {
  const scoped = directory.startsWith('@');
  const at = directory.indexOf('@', scoped ? 1 : 0);
  const name = at === -1 ? directory : directory.slice(0, at);
  return scoped ? name.replace('+', '/') : name;
}

const started: string[] = [];
afterAll(async () => {
  if (started.length > 0) await run('podman', ['rm', '-f', '-t', '0', ...started]);
});

/** Starts an image detached with its port published on 127.0.0.1 only; returns its name and base URL. */
async function start(image: string, port: number, args: string[] = []) {
  const name = `ca-test-image-${process.pid}-${started.length}`;
  const host = await freePort();
  started.push(name);
  await podman([
    'run',
    '-d',
    '--pull=never',
    '--name',
    name,
    '-p',
    `127.0.0.1:${host}:${port}`,
    ...args,
    image,
  ]);
  return { name, url: `http://127.0.0.1:${host}` };
}

/** Stops a container with SIGTERM (10 s grace) and returns how long it took. */
async function stopSeconds(name: string): Promise<number> {
  const before = Date.now();
  await podman(['stop', '-t', '10', name]);
  return (Date.now() - before) / 1000;
}

// The composed image also holds the gateway face's optional x402 peers (@x402/*, viem and what they pull in):
// `pnpm deploy` resolves the injected tee-gateway's peers from proxy-server's devDependencies. Allowed here, and no
// more: exactly what the tee-gateway image installs for them (deploy/images/tee-gateway).
describe.each([
  [
    'confidential-proxy',
    8000,
    'packages/proxy-server',
    ['--max-semi-space-size=32', '/app/bin/confidential-proxy.js'],
    ['deploy/images/tee-gateway'],
  ],
  [
    'tee-gateway',
    8000,
    'deploy/images/tee-gateway',
    ['/app/node_modules/@confidential-ai/tee-gateway/bin/tee-gateway.js'],
    [],
  ],
  ['venice-e2ee-proxy', 8080, 'packages/venice-proxy', ['/app/bin/venice-e2ee-proxy.js'], []],
] as const)('image %s', (service, port, importer, nodeArguments, alsoAllowed) => {
  it(`runs its bin and holds only the production dependency closure of ${importer}`, async () => {
    const config = JSON.parse(
      await podman(['image', 'inspect', '--format', '{{json .Config}}', images.service(service)]),
    );
    expect(config.Entrypoint).toEqual(['node', ...nodeArguments]);
    const listing = await podman([
      'run',
      '--rm',
      '--pull=never',
      '--entrypoint',
      'sh',
      images.service(service),
      '-c',
      `node -p "require('/app/package.json').name"; test -f ${nodeArguments.at(-1)} && echo bin; ls /app/node_modules/.pnpm`,
    ]);
    const [name, hasBin, ...entries] = listing.trim().split('\n');
    const installed = new Set(
      entries.filter((entry) => entry !== 'node_modules' && entry !== 'lock.yaml').map(pnpmDirectoryName),
    );
    expect(name).toBe(JSON.parse(readFileSync(join(repoDir, importer, 'package.json'), 'utf8')).name);
    expect(hasBin).toBe('bin');
    // Nothing outside what pnpm-lock.yaml pins for this package's production dependencies (no other service's
    // stack: the Venice image has no viem, the gateway's no ioredis), and every direct dependency is there.
    const { direct, closure } = productionClosure(importer);
    const allowed = new Set([
      ...closure,
      ...alsoAllowed.flatMap((other) => [...productionClosure(other).closure]),
    ]);
    expect([...installed].filter((entry) => !allowed.has(entry))).toEqual([]);
    expect(direct.filter((entry) => !installed.has(entry))).toEqual([]);
  });

  it('runs as the unprivileged user node and ships its health check', async () => {
    const output = await podman([
      'run',
      '--rm',
      '--pull=never',
      '--entrypoint',
      'sh',
      images.service(service),
      '-c',
      'id -un; test -r /usr/local/lib/confidential-ai/healthcheck.mjs && echo health-check; test -w /app || echo app-read-only',
    ]);
    expect(output.trim().split('\n')).toEqual(['node', 'health-check', 'app-read-only']);
    const config = JSON.parse(
      await podman(['image', 'inspect', '--format', '{{json .Config}}', images.service(service)]),
    );
    expect(config.ExposedPorts).toHaveProperty(`${port}/tcp`);
  });
});

describe('confidential-proxy image', () => {
  it('refuses to start without VLLM_BASE_URL instead of answering from the simulated vLLM', async () => {
    const result = await run('podman', [
      'run',
      '--rm',
      '--pull=never',
      '-e',
      'TOKEN=t',
      images.service('confidential-proxy'),
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('vllm.base_url (env VLLM_BASE_URL)');
    expect(`${result.stdout}${result.stderr}`).not.toContain('SIMULATED vLLM');
    expect(result.stdout).not.toContain('listening');
  });

  it("runs E2EE key agreements on the native libsecp256k1 and libsodium addons (the optional dependencies' prebuilds are in the image)", async () => {
    // venice-e2ee falls back to node:crypto without libsecp256k1 (three times the CPU of an ECDSA E2EE request)
    // and to noble without libsodium (about 1 ms more per new Ed25519 client key): the image must carry the
    // prebuilds of its platform and load them.
    const script = [
      "const { readdirSync } = await import('node:fs');",
      "const dir = readdirSync('/app/node_modules/.pnpm').find((entry) => entry.startsWith('@confidential-ai+venice-e2ee@'));",
      "const e2ee = await import('/app/node_modules/.pnpm/' + dir + '/node_modules/@confidential-ai/venice-e2ee/dist/index.js');",
      'process.stdout.write(JSON.stringify(e2ee.fieldCipherBackends()));',
    ].join(' ');
    const output = await podman([
      'run',
      '--rm',
      '--pull=never',
      '--entrypoint',
      'node',
      images.service('confidential-proxy'),
      '--input-type=module',
      '-e',
      script,
    ]);
    expect(JSON.parse(output)).toMatchObject({
      secp256k1: 'libsecp256k1',
      secp256k1PublicKeys: 'libsecp256k1',
      ed25519Recipients: 'libsodium',
    });
  });

  it('serves the openai SDK with the client token only on a read-only root, and stops at once on SIGTERM as PID 1', async () => {
    const token = randomBytes(16).toString('hex');
    // --read-only: what the Kubernetes manifest asks for (readOnlyRootFilesystem). VLLM_SIMULATE=true: a demo.
    const { name, url } = await start(images.service('confidential-proxy'), 8000, [
      '--read-only',
      '-e',
      `TOKEN=${token}`,
      '-e',
      'VLLM_SIMULATE=true',
    ]);
    await waitFor(
      'the health check',
      async () =>
        (await podman([
          'exec',
          name,
          'node',
          '/usr/local/lib/confidential-ai/healthcheck.mjs',
          'http://127.0.0.1:8000/health',
        ])) === '',
    );
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: token, maxRetries: 0 });
    const reply = await client.chat.completions.create({
      model: 'fake-model',
      messages: [{ role: 'user', content: 'from the image' }],
    });
    expect(reply.choices[0]?.message.content).toBe(simulatedReply('from the image'));
    const stranger = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'wrong', maxRetries: 0 });
    await expect(
      stranger.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 401 });
    expect(await stopSeconds(name)).toBeLessThan(5);
  });
});

describe('tee-gateway image', () => {
  it('refuses inference until keys are injected, takes keys only from inside the container, and never serves unpaid', async () => {
    const { name, url } = await start(images.service('tee-gateway'), 8000, [
      '-e',
      'OPG_PRICE_USD=0.10',
      '-e',
      'FACILITATOR_URL=http://127.0.0.1:9',
    ]);
    const health = await waitFor('/health', async () => {
      const response = await fetch(`${url}/health`);
      return response.ok ? ((await response.json()) as { status: string }) : undefined;
    });
    expect(health.status).toBe('OK');
    const chat = () =>
      fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }),
      });
    expect((await chat()).status).toBe(503);
    // From the host the gateway sees the container network's gateway address, not a loopback peer.
    const fromHost = await fetch(`${url}/v1/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ openai_api_key: 'sk-from-the-host' }),
    });
    expect(fromHost.status).toBe(403);
    const inject = (body: string) =>
      podman(
        [
          'exec',
          '-i',
          name,
          'node',
          '-e',
          "let b='';process.stdin.on('data',d=>b+=d).on('end',async()=>{const r=await fetch('http://127.0.0.1:8000/v1/keys',{method:'POST',headers:{'content-type':'application/json'},body:b});process.stdout.write(r.status+' '+await r.text())})",
        ],
        { input: body },
      );
    expect(await inject(JSON.stringify({ openai_api_key: 'sk-test-not-real' }))).toMatch(/^200 .*"openai"/);
    expect(await inject(JSON.stringify({ openai_api_key: 'sk-second' }))).toMatch(/^409 /);
    const unpaid = await chat();
    expect(unpaid.status).not.toBe(200);
    expect([402, 503]).toContain(unpaid.status);
    const logs = await podman(['logs', name]);
    expect(logs).not.toContain('sk-test-not-real');
    expect(await stopSeconds(name)).toBeLessThan(5);
  });
});

describe('venice-e2ee-proxy image', () => {
  it('refuses to start on its public listener without the client token', async () => {
    const result = await run('podman', ['run', '--rm', '--pull=never', images.service('venice-e2ee-proxy')]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('VENICE_E2EE_PROXY__SERVER__AUTH_TOKEN');
    expect(result.stdout).not.toContain('listening on');
  });

  it('refuses to start without the Venice API key instead of answering from the simulated Venice', async () => {
    const result = await run('podman', [
      'run',
      '--rm',
      '--pull=never',
      '-e',
      'VENICE_E2EE_PROXY__SERVER__AUTH_TOKEN=t',
      images.service('venice-e2ee-proxy'),
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('venice.api_key (env VENICE_E2EE_PROXY__VENICE__API_KEY)');
    expect(`${result.stdout}${result.stderr}`).not.toContain('SIMULATED Venice');
    expect(result.stdout).not.toContain('listening on');
  });

  it('reads the crate-layout configuration and answers the openai SDK with the token through the simulated Venice', async () => {
    const token = randomBytes(16).toString('hex');
    const { name, url } = await start(images.service('venice-e2ee-proxy'), 8080, [
      '-e',
      `VENICE_E2EE_PROXY__SERVER__AUTH_TOKEN=${token}`,
      '-e',
      'VENICE_E2EE_PROXY__VENICE__SIMULATE=true',
    ]);
    const config = await podman(['exec', name, 'cat', '/etc/venice-e2ee-proxy/config.toml']);
    expect(config).toContain('[venice]');
    await waitFor(
      'the health check',
      async () =>
        (await podman([
          'exec',
          name,
          'node',
          '/usr/local/lib/confidential-ai/healthcheck.mjs',
          'http://127.0.0.1:8080/health',
        ])) === '',
    );
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: token, maxRetries: 0 });
    const models = await waitFor('the model list', async () => (await client.models.list()).data);
    const model = models[0]?.id as string;
    const { data, response } = await client.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'sealed for Venice' }] })
      .withResponse();
    expect(response.headers.get('x-venice-proxy-e2ee')).toBe('verified');
    expect(data.choices[0]?.message.content).toBeTruthy();
    const stranger = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'wrong', maxRetries: 0 });
    await expect(stranger.models.list()).rejects.toMatchObject({ status: 401 });
    expect(await stopSeconds(name)).toBeLessThan(5);
  });
});
