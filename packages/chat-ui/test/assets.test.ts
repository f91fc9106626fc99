import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chatUiAssetsDirectory } from '../dist/index.js';

// The built page (run after `pnpm build`): the files the server ships, with nothing a strict CSP would block and
// nothing secret in them.

const file = (name: string) => readFileSync(join(chatUiAssetsDirectory, name), 'utf8');

describe('built assets', () => {
  it('are index.html, app.js, app.css and the licences of the bundled code', () => {
    expect(readdirSync(chatUiAssetsDirectory).sort()).toEqual([
      'app.css',
      'app.js',
      'app.js.LEGAL.txt',
      'index.html',
    ]);
    expect(file('app.js.LEGAL.txt')).toContain('noble-curves - MIT License');
  });

  it('index.html loads only its own script and stylesheet: no inline script, style or handler, no remote URL', () => {
    const html = file('index.html');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map((match) => match[1]!.trim())).toEqual(['type="module" src="./app.js"']);
    expect(scripts.every((match) => match[2] === '')).toBe(true);
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i);
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
    expect(html).toContain('<link rel="stylesheet" href="./app.css" />');
  });

  it('app.js is a browser bundle: no Node built-in imported (only feature-detected), no eval, no remote import', () => {
    const js = file('app.js');
    // Booleans, not the matches: a failure must not print the 600 KB bundle.
    expect(/\bfrom\s*["']node:|\brequire\(\s*["']node:|\bimport\(\s*["']node:/.test(js)).toBe(false);
    expect(/\beval\(/.test(js)).toBe(false);
    expect(/\bimport\(\s*["']https?:/.test(js)).toBe(false);
  });

  it('carries no token or key: the demo token is never part of the page', () => {
    for (const name of ['index.html', 'app.js', 'app.css']) {
      expect(file(name).includes('demo-token'), name).toBe(false);
      expect(/-----BEGIN (?:EC |RSA )?PRIVATE KEY-----/.test(file(name)), name).toBe(false);
    }
  });
});
