import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chatUiAssetsDirectory } from '@confidential-ai/chat-ui';
import { afterAll, describe, expect, it } from 'vitest';
import { chatUiRoutes, UI_CONTENT_SECURITY_POLICY } from '../src/routes/ui.js';
import { vllmProxyRoutes } from '../src/routes/vllm-proxy.js';
import { createTestApp } from './helpers.js';

// The chat page at /ui/: the built files of @confidential-ai/chat-ui, public, with strict security headers.

const { app } = createTestApp({ modules: [vllmProxyRoutes, chatUiRoutes()] });

const scratch = mkdtempSync(join(tmpdir(), 'ui-route-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('GET /ui/', () => {
  it('redirects /ui to /ui/ (308, query kept)', async () => {
    const response = await app.request('/ui?face=venice');
    expect(response.status).toBe(308);
    expect(response.headers.get('location')).toBe('/ui/?face=venice');
  });

  it('serves index.html without authentication, with the strict headers', async () => {
    const response = await app.request('/ui/');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(UI_CONTENT_SECURITY_POLICY);
    expect(UI_CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(UI_CONTENT_SECURITY_POLICY).toContain("connect-src 'self'");
    expect(UI_CONTENT_SECURITY_POLICY).not.toContain('unsafe');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(await response.text()).toBe(readFileSync(join(chatUiAssetsDirectory, 'index.html'), 'utf8'));
  });

  it('serves the script and the stylesheet with their content types, and 304 for a matching ETag', async () => {
    for (const [file, type] of [
      ['app.js', 'text/javascript; charset=utf-8'],
      ['app.css', 'text/css; charset=utf-8'],
      ['app.js.LEGAL.txt', 'text/plain; charset=utf-8'],
    ] as const) {
      const response = await app.request(`/ui/${file}`);
      expect(response.status, file).toBe(200);
      expect(response.headers.get('content-type')).toBe(type);
      const served = Buffer.from(await response.arrayBuffer());
      expect(served.equals(readFileSync(join(chatUiAssetsDirectory, file))), file).toBe(true);
      const etag = response.headers.get('etag')!;
      expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
      const again = await app.request(`/ui/${file}`, { headers: { 'if-none-match': etag } });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe('');
    }
    const head = await app.request('/ui/', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('serves nothing else: no traversal, no sub-folders, no unknown files, no other methods', async () => {
    for (const path of [
      '/ui/../package.json',
      '/ui/%2e%2e%2fpackage.json',
      '/ui/..%2F..%2Fpackage.json',
      '/ui/nested/app.js',
      '/ui/missing.js',
      '/ui/.hidden',
    ]) {
      const response = await app.request(path);
      expect([404], path).toContain(response.status);
    }
    expect((await app.request('/ui/', { method: 'POST', body: 'x' })).status).toBe(404);
  });

  it('answers 404 and says why when the page is not built', async () => {
    const empty = join(scratch, 'empty');
    mkdirSync(empty);
    const { app: bare, logs } = createTestApp({ modules: [chatUiRoutes({ directory: empty })] });
    expect((await bare.request('/ui/')).status).toBe(404);
    expect(logs.text()).toContain('the chat page is not built');
  });

  it('skips files of unknown types and names it cannot serve safely', async () => {
    const dir = join(scratch, 'assets');
    mkdirSync(dir);
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(dir, 'secret.env'), 'TOKEN=x');
    writeFileSync(join(dir, 'notes.txt'), 'ok');
    const { app: custom } = createTestApp({ modules: [chatUiRoutes({ directory: dir })] });
    expect((await custom.request('/ui/secret.env')).status).toBe(404);
    expect((await custom.request('/ui/notes.txt')).status).toBe(200);
    expect(await (await custom.request('/ui/')).text()).toBe('<!doctype html><title>t</title>');
  });
});
