// Measures what the verifier costs a browser app: esbuild bundles (ESM, minified, platform browser) of the package
// and of single entry points, raw and gzip (level 9) bytes. Run after `pnpm build`: `node scripts/bundle-size.mjs`.
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const dist = new URL('../dist/index.js', import.meta.url).pathname;

/** The entries measured: what a page imports. */
export const ENTRIES = {
  'whole package (export *)': `export * from ${JSON.stringify(dist)};`,
  'createVerifiedFetch (all four services)': `export { createVerifiedFetch } from ${JSON.stringify(dist)};`,
  'verifyTdxEvidence only': `export { verifyTdxEvidence } from ${JSON.stringify(dist)};`,
  'attestTeeGateway + checkTeeGatewayAnswer': `export { attestTeeGateway, checkTeeGatewayAnswer } from ${JSON.stringify(dist)};`,
};

/** Bundles one entry for browsers and returns its sizes. */
export async function measure(contents) {
  const result = await build({
    stdin: { contents, resolveDir: new URL('..', import.meta.url).pathname, loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  return {
    code: result.outputFiles[0].text,
    minified: code.length,
    gzip: gzipSync(code, { level: 9 }).length,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
  console.log('| entry | minified | minified + gzip |\n|---|---|---|');
  for (const [name, contents] of Object.entries(ENTRIES)) {
    const { minified, gzip } = await measure(contents);
    console.log(`| ${name} | ${kib(minified)} | ${kib(gzip)} |`);
  }
}
