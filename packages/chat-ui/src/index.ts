import { fileURLToPath } from 'node:url';

/**
 * Absolute path of the directory holding the chat page's built static assets (`index.html`, `app.js`, `app.css`,
 * and `app.js.LEGAL.txt` with the licences of the bundled code). Serve its files as they are, under one path prefix
 * (the composed server uses `/ui/`), with a strict Content-Security-Policy: the page needs only `script-src 'self'`,
 * `style-src 'self'` and `connect-src 'self'`.
 *
 * @example
 * ```ts
 * import { readdirSync } from 'node:fs';
 * import { chatUiAssetsDirectory } from '@confidential-ai/chat-ui';
 * console.log(readdirSync(chatUiAssetsDirectory));
 * ```
 */
export const chatUiAssetsDirectory: string = fileURLToPath(new URL('./ui/', import.meta.url));

/** The package version, injected at build time. */
export const VERSION: string = typeof __PACKAGE_VERSION__ === 'string' ? __PACKAGE_VERSION__ : '0.0.0-dev';
declare const __PACKAGE_VERSION__: string | undefined;
