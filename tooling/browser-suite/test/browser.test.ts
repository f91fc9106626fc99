import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig, type RunningServer, startServer } from '@confidential-ai/proxy-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAllCases } from '../src/cases/index.js';
import type { Outcome } from '../src/cases/types.js';
import {
  bundlePage,
  loadRepoFile,
  type PageServer,
  ROOT,
  runInChromium,
  startPageServer,
} from './harness.js';

// The pure packages' vectors (chutes-crypto, venice-e2ee field cipher, nitro-attestation, tdx-attestation) and the
// verifier's browser-capable checks, run once in Node and once in headless Chromium: every verdict must be the one
// the vector expects, and the two runtimes must agree on every one. Artefacts go to artifacts/browser/.

const ARTIFACTS = join(ROOT, 'artifacts', 'browser');
let demo: RunningServer;
let page: PageServer;
let bundleBytes = 0;

beforeAll(async () => {
  const bundle = await bundlePage();
  bundleBytes = bundle.length;
  demo = await startServer({
    config: loadConfig({
      file: join(ROOT, 'packages/proxy-server/demo.toml'),
      env: { PROXY_PORT: '0', LOG_LEVEL: 'silent' },
    }),
    processMetrics: false,
  });
  page = await startPageServer(bundle, demo.url);
  await mkdir(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await page?.close();
  await demo?.close();
});

describe('browser suite', () => {
  it('gives the same verdicts in Node and in headless Chromium, each the one the vector expects', async () => {
    const startedNode = performance.now();
    const node = await runAllCases({ load: loadRepoFile, liveBaseUrl: page.url });
    const nodeMs = Math.round(performance.now() - startedNode);
    const startedBrowser = performance.now();
    const browser = await runInChromium(`${page.url}/?live=1`, 170_000);
    const browserMs = Math.round(performance.now() - startedBrowser);
    await writeFile(join(ARTIFACTS, 'suite.png'), browser.screenshot);
    await writeFile(join(ARTIFACTS, 'results-node.json'), JSON.stringify(node, null, 1));
    await writeFile(join(ARTIFACTS, 'results-chromium.json'), JSON.stringify(browser.result, null, 1));
    await writeFile(join(ARTIFACTS, 'console.log'), browser.console.join('\n'));
    const outcomes = (browser.result.outcomes ?? []) as Outcome[];
    await writeFile(
      join(ARTIFACTS, 'summary.json'),
      JSON.stringify(
        {
          userAgent: browser.result.userAgent,
          cases: outcomes.length,
          failedInChromium: outcomes.filter((outcome) => !outcome.ok).map((outcome) => outcome.id),
          failedInNode: node.outcomes.filter((outcome) => !outcome.ok).map((outcome) => outcome.id),
          nodeMs,
          browserMs,
          nodeTimings: node.timings,
          chromiumTimings: browser.result.timings,
          bundleBytes,
        },
        null,
        1,
      ),
    );
    expect(browser.result.error).toBeUndefined();
    expect(node.outcomes.filter((outcome) => !outcome.ok)).toEqual([]);
    expect(outcomes.filter((outcome) => !outcome.ok)).toEqual([]);
    expect(outcomes).toEqual(node.outcomes);
    const groups = new Set(outcomes.map((outcome) => outcome.id.split('/')[0]));
    expect([...groups].sort()).toEqual([
      'chutes-crypto',
      'nitro-attestation',
      'tdx-attestation',
      'venice-e2ee',
      'verifier',
    ]);
    expect(
      outcomes.some((outcome) => outcome.id.startsWith('verifier/live/') && outcome.id.endsWith('/tamper')),
    ).toBe(true);
  });
});
