// Orchestration of the browser suite: the browser bundle (esbuild), a loopback server for the page, the vector files
// and a relay to the composed demo server (honest under /api, flipping one byte of chat answers under /tamper), and
// headless Chromium from Debian's `chromium` package driven by playwright-core.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { type BrowserContext, chromium } from 'playwright-core';

/** The repository root. */
export const ROOT = new URL('../../../', import.meta.url).pathname;

/** Where the browser executable is (Debian's chromium, or CHROMIUM_PATH). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags for a quiet, offline, throwaway Chromium. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Bundles the page entry for browsers; fails if anything needs a Node built-in. */
export async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [new URL('../src/page.ts', import.meta.url).pathname],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

const VECTOR_PATH =
  /^packages\/[a-z0-9-]+\/(?:test\/(?:vectors|fixtures)|fixtures|samples)\/[A-Za-z0-9._-]+$/;

/** Reads a vector or fixture file by its repository path (the Node side of the suite's loader). */
export async function loadRepoFile(path: string): Promise<Uint8Array> {
  if (!VECTOR_PATH.test(path)) throw new Error(`not a vector or fixture path: ${path}`);
  return new Uint8Array(await readFile(join(ROOT, path)));
}

/** Flips the case of the first letter after the first `"content":"` (one byte; JSON and SSE stay valid). */
function flipContent(body: Buffer): Buffer {
  const at = body.indexOf('"content":"');
  if (at === -1) return body;
  for (let index = at + 11; index < body.length; index++) {
    const byte = body[index]!;
    if ((byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)) {
      const copy = Buffer.from(body);
      copy[index] = byte ^ 0x20;
      return copy;
    }
  }
  return body;
}

/** The page server. */
export interface PageServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves the page, the bundle, the vector files and the relay to `target` on loopback. */
export async function startPageServer(bundle: string, target: string): Promise<PageServer> {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>confidential-ai browser suite</title>
<style>body{font:13px system-ui,sans-serif;margin:16px}table{border-collapse:collapse}td{padding:2px 8px;border-bottom:1px solid #ddd}
tr.ok td:first-child{color:#0a0;font-weight:bold}tr.bad td:first-child{color:#c00;font-weight:bold}</style></head>
<body><script type="module" src="/suite.js"></script></body></html>`;
  const server: Server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    try {
      if (url.pathname === '/') {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
        return;
      }
      if (url.pathname === '/suite.js') {
        response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(bundle);
        return;
      }
      if (url.pathname.startsWith('/repo/')) {
        const bytes = await loadRepoFile(decodeURIComponent(url.pathname.slice(6)));
        response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bytes);
        return;
      }
      const relay = /^\/(api|tamper)(\/.*)$/.exec(url.pathname);
      if (!relay) {
        response.writeHead(404).end();
        return;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        if (
          typeof value === 'string' &&
          !['host', 'connection', 'content-length', 'origin', 'referer'].includes(name)
        )
          headers[name] = value;
      }
      const body = Buffer.concat(chunks);
      const upstream = await fetch(`${target}${relay[2]}${url.search}`, {
        method: request.method ?? 'GET',
        headers,
        ...(body.length > 0 ? { body: new Uint8Array(body) } : {}),
      });
      const received = Buffer.from(await upstream.arrayBuffer());
      const out =
        relay[1] === 'tamper' && relay[2]!.endsWith('/chat/completions') ? flipContent(received) : received;
      const outHeaders: Record<string, string> = {};
      upstream.headers.forEach((value, name) => {
        if (
          !['content-length', 'transfer-encoding', 'connection', 'content-encoding', 'keep-alive'].includes(
            name,
          )
        )
          outHeaders[name] = value;
      });
      response.writeHead(upstream.status, { ...outHeaders, 'content-length': String(out.length) }).end(out);
    } catch {
      if (!response.headersSent) response.writeHead(502);
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A headless Chromium with a fresh profile; `close()` also deletes the profile. */
export interface Chromium {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Launches Debian's chromium headless, with the suite's flags and a throwaway `--user-data-dir`. */
export async function launchChromium(): Promise<Chromium> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  const profile = await mkdtemp(join(tmpdir(), 'confidential-ai-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 1000 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** What the page reported. */
export interface BrowserRun {
  readonly result: {
    outcomes?: unknown[];
    timings?: Record<string, number>;
    error?: string;
    userAgent: string;
  };
  readonly console: string[];
  readonly screenshot: Buffer;
}

/** Opens `url` in headless Chromium (fresh profile), waits for the suite, takes a full-page screenshot. */
export async function runInChromium(url: string, timeoutMs: number): Promise<BrowserRun> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  const profile = await mkdtemp(join(tmpdir(), 'confidential-ai-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1200, height: 900 },
  });
  const consoleLines: string[] = [];
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => consoleLines.push(`pageerror: ${error.message}`));
    await page.goto(url);
    await page.waitForFunction(() => (window as { __suite?: unknown }).__suite !== undefined, undefined, {
      timeout: timeoutMs,
    });
    const result = (await page.evaluate(
      () => (window as { __suite?: unknown }).__suite,
    )) as BrowserRun['result'];
    const screenshot = await page.screenshot({ fullPage: true });
    return { result, console: consoleLines, screenshot };
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
}
