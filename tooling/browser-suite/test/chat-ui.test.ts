import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { loadConfig, type RunningServer, startServer } from '@confidential-ai/proxy-server';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ComposedFixture,
  startComposed,
  TOKEN,
} from '../../../packages/verifier/test/composed-server.js';
import { type Chromium, launchChromium, ROOT } from './harness.js';
import { flipDigitAfter, flipHexAfter, flipLetterAfter, type Relay, startRelay } from './relay.js';

// The chat page of the composed server (`/ui/`) in headless Chromium, through a test proxy (the relay) between the
// browser and the server: the page loads clean under its CSP, a chat completes through each face with the E2EE done
// in the browser where the face takes it, the verification panel shows SIMULATED (amber) for the demo, VERIFIED
// (green) when the page's policy pins the test PKI's roots as trust anchors, and FAILED (red) naming the step when
// the relay changes one byte of a response. Screenshots go to artifacts/browser/.

const ARTIFACTS = join(ROOT, 'artifacts', 'browser');
const DEMO_TOKEN = 'demo-token';
const AXE = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const timings: Record<string, number> = {};

let demo: RunningServer;
let relay: Relay;
let browser: Chromium;

beforeAll(async () => {
  const started = performance.now();
  demo = await startServer({
    config: loadConfig({
      file: join(ROOT, 'packages/proxy-server/demo.toml'),
      env: { PROXY_PORT: '0', LOG_LEVEL: 'silent' },
    }),
    processMetrics: false,
  });
  relay = await startRelay(demo.url);
  browser = await launchChromium();
  // A stuck browser fails the step in half a minute, naming it, rather than the whole test at its timeout.
  browser.context.setDefaultTimeout(30_000);
  await mkdir(ARTIFACTS, { recursive: true });
  timings.setup = Math.round(performance.now() - started);
});

afterAll(async () => {
  await browser?.close();
  await relay?.close();
  await demo?.close();
  await writeFile(join(ARTIFACTS, 'chat-ui-timings.json'), JSON.stringify(timings, null, 1)).catch(() => {});
});

/** A page with its console problems recorded (errors, CSP violations, uncaught exceptions). */
interface OpenPage {
  readonly page: Page;
  readonly problems: string[];
}

async function openPage(origin: string, allowed: RegExp[] = []): Promise<OpenPage> {
  const page = await browser.context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() !== 'error' && !/Content.Security.Policy/i.test(message.text())) return;
    const where = message.location().url;
    if (allowed.some((pattern) => pattern.test(where))) return;
    problems.push(`${message.type()}: ${message.text()} (${where})`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  pages.add(page);
  await page.goto(`${origin}/ui/`);
  await page.waitForFunction(() => window.__chatUi?.ready === true);
  return { page, problems };
}

/** Every page opened, so that a test that failed half-way leaves none behind (closed in afterEach). */
const pages = new Set<Page>();

afterEach(async () => {
  await Promise.all(
    [...pages].map((page) =>
      Promise.race([page.close(), new Promise((resolve) => setTimeout(resolve, 10_000))]).catch(() => {}),
    ),
  );
  pages.clear();
  relay.tamper = undefined;
});

declare global {
  interface Window {
    __chatUi?: {
      ready: boolean;
      busy: boolean;
      turns: { face: string; state: string; failedStep?: string }[];
    };
  }
}

/** What the last answer's panel shows. */
interface Shown {
  readonly state: string;
  readonly failedStep: string | undefined;
  readonly badges: string[];
  readonly sentence: string;
  readonly answer: string;
  readonly e2eeNote: string;
  /** Whether the answer text is held back (behind a closed "failed: show anyway" disclosure). */
  readonly held: boolean;
}

async function chat(
  page: Page,
  face: string,
  prompt: string,
  options: { stream?: boolean; token?: string } = {},
): Promise<Shown> {
  await page.selectOption('#face', face);
  await page.fill('#token', options.token ?? DEMO_TOKEN);
  await page.setChecked('#stream', options.stream ?? true);
  const before = await page.evaluate(() => window.__chatUi!.turns.length);
  await page.fill('#prompt', prompt);
  await page.keyboard.press('Control+Enter');
  await page.waitForFunction((count) => window.__chatUi!.turns.length > count, before, { timeout: 60_000 });
  return page.evaluate(() => {
    const turn = window.__chatUi!.turns.at(-1)!;
    const answers = document.querySelectorAll('#log article.answer');
    const answer = answers[answers.length - 1]!;
    const panels = [...answer.querySelectorAll('section.verdict')];
    const last = panels.at(-1);
    return {
      state: turn.state,
      failedStep: turn.failedStep,
      badges: panels.map((panel) => panel.querySelector('.badge')?.textContent ?? ''),
      sentence: last?.querySelector('.verdict-sentence')?.textContent ?? '',
      answer: answer.querySelector('.text')?.textContent ?? '',
      e2eeNote: answer.querySelector('.e2ee-note')?.textContent ?? '',
      held: answer.querySelector('details.held:not([open]) .text') !== null,
    };
  });
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `chat-ui-${name}.png`), fullPage: true });
}

/** axe-core's serious and critical violations on the page as it is now. */
async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol: the page's CSP (script-src 'self') does not apply to it.
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run(
            context: Document,
            options: object,
          ): Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }>;
        };
      }
    ).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map((violation) => `${violation.id} (${violation.impact}, ${violation.nodes.length} nodes)`);
  });
}

async function timed<T>(name: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await run();
  } finally {
    timings[name] = Math.round(performance.now() - started);
  }
}

/** The demo TEE gateway has no enclave: its attestation route answers 503 by design (reported as simulated). */
const GATEWAY_NO_ENCLAVE = [/\/tee-gateway\/enclave\/attestation/];

describe('the chat page at /ui/', () => {
  it('is served with strict headers, loads without console errors or CSP violations, and passes axe', async () => {
    await timed('load', async () => {
      const redirect = await fetch(`${relay.url}/ui`, { redirect: 'manual' });
      expect(redirect.status).toBe(308);
      expect(redirect.headers.get('location')).toBe('/ui/');
      const index = await fetch(`${relay.url}/ui/`);
      expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(index.headers.get('content-security-policy')).toContain("connect-src 'self'");
      expect(index.headers.get('x-content-type-options')).toBe('nosniff');
      const script = await fetch(`${relay.url}/ui/app.js`);
      expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      await script.arrayBuffer();

      const { page, problems } = await openPage(relay.url);
      expect(await page.locator('#demo-banner').isVisible()).toBe(true);
      expect(await page.locator('#token').inputValue()).toBe('');
      expect(await page.locator('#face option').allTextContents()).toEqual([
        'vllm-proxy (/v1)',
        'Chutes sidecar (/v1/chutes)',
        'Venice (/venice/v1)',
        'TEE gateway (/tee-gateway/v1)',
      ]);
      // Keyboard: the skip link is the first stop and leads to the message box.
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.className)).toBe('skip-link');
      expect(await axeViolations(page)).toEqual([]);
      await screenshot(page, 'loaded');
      expect(problems).toEqual([]);
    });
  });

  const FACES = [
    { id: 'vllm-proxy', path: '/v1/chat/completions', e2ee: true },
    { id: 'chutes', path: '/v1/chutes/chat/completions', e2ee: true },
    { id: 'venice', path: '/venice/v1/chat/completions', e2ee: false },
    { id: 'tee-gateway', path: '/tee-gateway/v1/chat/completions', e2ee: false },
  ] as const;

  for (const face of FACES) {
    it(`${face.id}: a streamed chat completes and is shown SIMULATED (amber) under the demo policy, never VERIFIED`, async () => {
      await timed(`chat-${face.id}`, async () => {
        const { page, problems } = await openPage(relay.url, GATEWAY_NO_ENCLAVE);
        const secret = `The quick brown fox ${face.id} ${Date.now()}`;
        relay.requests.length = 0;
        const shown = await chat(page, face.id, secret);
        expect(shown.state, shown.sentence).toBe('simulated');
        expect(shown.badges.every((badge) => badge === 'SIMULATED')).toBe(true);
        expect(shown.badges).not.toContain('VERIFIED');
        expect(shown.answer.length).toBeGreaterThan(0);
        expect(shown.held).toBe(false);
        const sent = relay.requests.filter((request) => request.path === face.path);
        expect(sent.length).toBe(1);
        if (face.e2ee) {
          // E2EE in the browser: the prompt never crossed the wire in plaintext.
          expect(sent[0]!.body).not.toContain('quick brown fox');
          expect(shown.e2eeNote).toContain('E2EE v2 in this browser');
          expect(shown.badges).toEqual(['SIMULATED', 'SIMULATED']);
        } else {
          expect(sent[0]!.body).toContain('quick brown fox');
        }
        if (face.id === 'venice' || face.id === 'chutes') expect(shown.sentence).toContain('TEST root');
        if (face.id === 'venice') {
          // The page attested the model key itself, through the face, with its own nonce.
          expect(
            relay.requests.some((request) => request.path.startsWith('/venice/v1/tee/attestation?')),
          ).toBe(true);
        }
        await page
          .locator('section.verdict')
          .last()
          .locator('details')
          .first()
          .evaluate((node) => {
            (node as HTMLDetailsElement).open = true;
          });
        expect(await axeViolations(page)).toEqual([]);
        await screenshot(page, `${face.id}-demo`);
        expect(problems).toEqual([]);
      });
    });
  }

  it('vllm-proxy: a non-streamed chat too, and the token typed stays out of storage unless asked', async () => {
    const { page, problems } = await openPage(relay.url);
    const shown = await chat(page, 'vllm-proxy', 'Hello without streaming', { stream: false });
    expect(shown.state).toBe('simulated');
    expect(await page.evaluate(() => sessionStorage.length + localStorage.length)).toBe(0);
    await page.setChecked('#remember', true);
    expect(await page.evaluate(() => Object.keys(sessionStorage))).toEqual(['confidential-ai.chat-ui.token']);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(problems).toEqual([]);
  });

  it('a wrong token is an HTTP failure shown in red, and nothing is verified', async () => {
    const { page } = await openPage(relay.url);
    // Every face of the composed server takes the client token (the TEE gateway too, x402 being off).
    for (const face of ['vllm-proxy', 'tee-gateway', 'venice'] as const) {
      const refused = await chat(page, face, 'Hello', { token: 'wrong' });
      expect(refused.state, face).toBe('failed');
      expect(refused.badges, face).toContain('FAILED');
    }
  });
});

describe('a test proxy that changes one byte of a response makes the panel red, naming the failed step', () => {
  const CASES = [
    {
      name: 'vllm-proxy-tampered',
      face: 'vllm-proxy',
      stream: true,
      match: (path: string) => path === '/v1/chat/completions',
      body: (_: string, body: Buffer) => flipDigitAfter(body, '"created":', 3),
      step: 'response-hash',
    },
    {
      name: 'chutes-tampered',
      face: 'chutes',
      stream: false,
      match: (path: string) => path === '/v1/chutes/chat/completions',
      body: (_: string, body: Buffer) => flipLetterAfter(body, '"content":"'),
      step: 'response-hash',
    },
    {
      name: 'tee-gateway-tampered',
      face: 'tee-gateway',
      stream: true,
      match: (path: string) => path === '/tee-gateway/v1/chat/completions',
      body: (_: string, body: Buffer) => flipLetterAfter(body, '"content":"'),
      step: 'response-hash',
    },
    {
      name: 'venice-tampered-attestation',
      face: 'venice',
      stream: true,
      match: (path: string) => path.startsWith('/venice/v1/tee/attestation'),
      body: (_: string, body: Buffer) => flipHexAfter(body, '"intel_quote":"', 400),
      step: 'tdx-quote',
    },
  ] as const;

  for (const testCase of CASES) {
    it(`${testCase.face}: one byte changed → FAILED at ${testCase.step}`, async () => {
      await timed(testCase.name, async () => {
        const { page } = await openPage(relay.url);
        relay.tamper = { match: testCase.match, body: testCase.body };
        try {
          const shown = await chat(page, testCase.face, 'Tamper with me', { stream: testCase.stream });
          expect(shown.state).toBe('failed');
          expect(shown.failedStep).toBe(testCase.step);
          expect(shown.badges.at(-1)).toBe('FAILED');
          expect(shown.sentence).toContain(`(${testCase.step},`);
          // Fail closed: the text received is not presented as the answer.
          expect(shown.held).toBe(true);
          expect(await page.locator('#alert').textContent()).toContain('FAILED');
          expect(await axeViolations(page)).toEqual([]);
          await screenshot(page, testCase.name);
        } finally {
          relay.tamper = undefined;
        }
      });
    });
  }

  it('venice: one byte of the model key the answer names → FAILED at encryption-key', async () => {
    const { page } = await openPage(relay.url);
    relay.tamper = {
      match: (path) => path === '/venice/v1/chat/completions',
      headers: (headers) => {
        const key = headers.get('x-venice-proxy-model-public-key') ?? '';
        headers.set('x-venice-proxy-model-public-key', `${key.slice(0, -1)}${key.endsWith('0') ? '1' : '0'}`);
      },
    };
    try {
      const shown = await chat(page, 'venice', 'Which key?', { stream: false });
      expect(shown.state).toBe('failed');
      expect(shown.failedStep).toBe('encryption-key');
      await screenshot(page, 'venice-tampered-key');
    } finally {
      relay.tamper = undefined;
    }
  });

  it('vllm-proxy: one byte of an encrypted streamed chunk → FAILED, the chunk is not shown', async () => {
    const { page } = await openPage(relay.url);
    relay.tamper = {
      match: (path) => path === '/v1/chat/completions',
      body: (_, body) => flipHexAfter(body, '"content":"', 200),
    };
    try {
      const shown = await chat(page, 'vllm-proxy', 'Break my ciphertext');
      expect(shown.state).toBe('failed');
      // The verifier's verdict outranks the chunk that did not decrypt; the text received is held back.
      expect(shown.failedStep).toBe('response-hash');
      expect(shown.held).toBe(true);
    } finally {
      relay.tamper = undefined;
    }
  });
});

describe('VERIFIED (green) when the page policy pins the test PKI roots as trust anchors', () => {
  let fixture: ComposedFixture;
  let trustedRelay: Relay;
  beforeAll(async () => {
    fixture = await startComposed();
    trustedRelay = await startRelay(fixture.server.url);
  });
  afterAll(async () => {
    await trustedRelay?.close();
    await fixture?.close();
  });

  it('venice and tee-gateway verify green, naming the pinned roots; vllm-proxy is refused before sending', async () => {
    await timed('trusted', async () => {
      const { page, problems } = await openPage(trustedRelay.url);
      await page.check('#policy-custom');
      await page.fill('#policy-json', JSON.stringify(fixture.trustedPolicy));
      expect(await page.locator('#demo-banner').isVisible()).toBe(false);
      expect(await page.locator('#policy-error').textContent()).toBe('');
      for (const face of ['venice', 'tee-gateway']) {
        const shown = await chat(page, face, `Prove it, ${face}`, { token: TOKEN });
        expect(shown.state, shown.sentence).toBe('verified');
        expect(shown.badges.at(-1)).toBe('VERIFIED');
        expect(shown.sentence).toContain('root your policy pins as a trust anchor');
        if (face === 'venice') expect(shown.sentence).toContain('Test SGX Root CA');
        await screenshot(page, `${face}-verified`);
      }
      // The proxy's own report is simulated (it runs outside a TEE): the browser will not encrypt to its key.
      const refused = await chat(page, 'vllm-proxy', 'Never sent', { token: TOKEN });
      expect(refused.state).toBe('failed');
      expect(refused.e2eeNote).toBe('Not sent.');
      expect(trustedRelay.requests.some((request) => request.path === '/v1/chat/completions')).toBe(false);
      await screenshot(page, 'vllm-proxy-refused-strict');
      expect(await axeViolations(page)).toEqual([]);
      expect(problems).toEqual([]);
    });
  });

  it('an invalid custom policy is refused, named, and nothing is sent', async () => {
    const { page } = await openPage(trustedRelay.url);
    await page.check('#policy-custom');
    await page.fill('#policy-json', '{"acceptSimulate": true}');
    expect(await page.locator('#policy-error').textContent()).toBe('Unknown policy option "acceptSimulate"');
    expect(await page.locator('#policy-json').getAttribute('aria-invalid')).toBe('true');
    const before = trustedRelay.requests.length;
    await page.fill('#prompt', 'x');
    await page.click('#send');
    expect(await page.locator('#status').textContent()).toBe('Fix the custom policy first.');
    expect(trustedRelay.requests.length).toBe(before);
  });
});
