#!/usr/bin/env node
// Memory of the in-memory signature store (not a test): the bytes it keeps per response, measured with forced
// collections before and after RESPONSES responses, each stored as the server stores it (one record of the
// server's signer under two keys, `<namespace>:chat:<id>`). Baseline in the same run: the store as it was before
// `src/signature-table.ts`, a `Map` in write order with an entry object per key. Each store is measured in a child
// process of its own (`--expose-gc`), twice, alternating.
// Usage: node bench/store-memory.mjs [--responses N] [--json]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const json = args.includes('--json');
const responsesAt = args.indexOf('--responses');
const RESPONSES = responsesAt === -1 ? 50_000 : Number(args[responsesAt + 1]);
const dist = new URL('../dist/index.js', import.meta.url);
if (!existsSync(fileURLToPath(dist))) {
  process.stderr.write('bench: build the package first (pnpm build)\n');
  process.exit(1);
}

// Runs in the child: fills one store and prints what it kept.
const child = (mode) => `
const { createMemorySignatureStore, createModelKeys, createResponseSigner, signatureRecord } = await import(${JSON.stringify(dist.href)});
const signer = createResponseSigner(createModelKeys({ seed: '11'.repeat(32) }));
const previousStore = (maxEntries) => {
  const entries = new Map();
  return {
    async put(key, record, ttlSeconds) {
      entries.delete(key);
      while (entries.size >= maxEntries) entries.delete(entries.keys().next().value);
      entries.set(key, { record, expiresAt: Date.now() + ttlSeconds * 1000 });
    },
  };
};
// Kept on globalThis: V8 collects a module's variable that no later code reads.
globalThis.store = ${mode === 'map' ? 'previousStore(100_000)' : 'createMemorySignatureStore({ maxEntries: 100_000 })'};
const hex = (n, pad) => n.toString(16).padStart(64, pad);
gc(); gc();
const before = process.memoryUsage();
for (let n = 0; n < ${RESPONSES}; n++) {
  const record = signatureRecord(signer, [hex(n, '0'), hex(n * 7, 'f')].join(':'));
  const id = 'chatcmpl-' + crypto.randomUUID();
  await globalThis.store.put(['default-model', 'chat', id].join(':'), record, 1200);
  await globalThis.store.put(['fake-model', 'chat', id].join(':'), record, 1200);
}
gc(); gc();
const after = process.memoryUsage();
process.stdout.write(JSON.stringify({
  heap: (after.heapUsed - before.heapUsed) / ${RESPONSES},
  arrayBuffers: (after.arrayBuffers - before.arrayBuffers) / ${RESPONSES},
}));
`;

const measure = (mode) =>
  JSON.parse(
    execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', child(mode)], {
      encoding: 'utf8',
    }),
  );

const results = { responses: RESPONSES, map: [], table: [] };
for (let round = 0; round < 2; round++) {
  results.map.push(measure('map'));
  results.table.push(measure('table'));
}
if (json) {
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
} else {
  const row = (name, runs) =>
    `${name} | ${runs.map((run) => Math.round(run.heap) || 0).join(' / ')} | ${runs.map((run) => Math.round(run.arrayBuffers) || 0).join(' / ')}\n`;
  process.stdout.write(
    `memory signature store, bytes kept per response (one record under two keys), ${RESPONSES} responses, two runs (node ${process.version}):\n`,
  );
  process.stdout.write('store | JS heap | typed arrays (outside the heap)\n');
  process.stdout.write(row('previous (Map of entry objects)', results.map));
  process.stdout.write(row('createMemorySignatureStore', results.table));
}
