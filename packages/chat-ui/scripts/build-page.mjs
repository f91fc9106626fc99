// Builds the chat page into dist/ui/: app.js (esbuild: one ESM bundle for browsers, minified, with the licences of
// the bundled code extracted to app.js.LEGAL.txt), app.css and index.html as written. No CDN, no inline script.
// `node scripts/build-page.mjs --sizes` prints the sizes (minified and gzip) for the README.
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url);
const source = new URL('src/page/', root);
const out = new URL('dist/ui/', root);

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
const result = await build({
  entryPoints: [new URL('main.ts', source).pathname],
  outfile: new URL('app.js', out).pathname,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
});
for (const input of Object.keys(result.metafile.inputs)) {
  if (input.startsWith('node:')) throw new Error(`the page bundle needs a Node built-in: ${input}`);
}
await copyFile(new URL('index.html', source), new URL('index.html', out));
await copyFile(new URL('app.css', source), new URL('app.css', out));

if (process.argv.includes('--sizes')) {
  const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
  console.log('| file | bytes | gzip (level 9) |\n|---|---|---|');
  for (const name of ['app.js', 'app.css', 'index.html']) {
    const bytes = await readFile(new URL(name, out));
    console.log(`| ${name} | ${kib(bytes.length)} | ${kib(gzipSync(bytes, { level: 9 }).length)} |`);
  }
}
