// Each service image on its own, as an operator runs it: non-root, its health check, a real client, the access
// control it listens behind, and a prompt stop on SIGTERM without an init process (node is PID 1).
import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, images, podman, run, waitFor } from './support/commands.js';
import { simulatedReply } from './support/e2ee-client.js';

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

describe.each([
  ['confidential-proxy', 8000],
  ['tee-gateway', 8000],
  ['venice-e2ee-proxy', 8080],
] as const)('image %s', (service, port) => {
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
  it('serves the openai SDK with the client token only on a read-only root, and stops at once on SIGTERM as PID 1', async () => {
    const token = randomBytes(16).toString('hex');
    // --read-only: what the Kubernetes manifest asks for (readOnlyRootFilesystem).
    const { name, url } = await start(images.service('confidential-proxy'), 8000, [
      '--read-only',
      '-e',
      `TOKEN=${token}`,
    ]);
    await waitFor(
      'the health check',
      async () =>
        (await podman([
          'exec',
          name,
          'node',
          '/usr/local/lib/confidential-ai/healthcheck.mjs',
          'http://127.0.0.1:8000/',
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
  it('reads the crate-layout configuration and answers the openai SDK through the simulated Venice', async () => {
    const { name, url } = await start(images.service('venice-e2ee-proxy'), 8080);
    const config = await podman(['exec', name, 'cat', '/etc/venice-e2ee-proxy/config.toml']);
    expect(config).toContain('[venice]');
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'ignored', maxRetries: 0 });
    const models = await waitFor('the model list', async () => (await client.models.list()).data);
    const model = models[0]?.id as string;
    const { data, response } = await client.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'sealed for Venice' }] })
      .withResponse();
    expect(response.headers.get('x-venice-proxy-e2ee')).toBe('verified');
    expect(data.choices[0]?.message.content).toBeTruthy();
    expect(await stopSeconds(name)).toBeLessThan(5);
  });
});
