// Two clean builds of the same commit give the same image IDs and manifest digests: the local Node base (a new
// debootstrap and the pinned Node binary) and every service image (the shared build stage made anew). The first
// build is the one test-images.sh made before the tests (IMAGES_FIRST_BUILD); run alone, this file makes both.
// The haproxy/redis base of the test stack is not shipped and not rebuilt.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { check, images } from './support/commands.js';

type Digests = Record<string, { id: string; digest: string }>;

async function cleanBuild(json: string): Promise<Digests> {
  await check('deploy/scripts/build-images.sh', ['--clean', '--json', json], { timeoutMs: 3_000_000 });
  return JSON.parse(readFileSync(json, 'utf8')) as Digests;
}

describe('reproducible images', () => {
  it('a clean rebuild gives the same image ID and manifest digest for every image', {
    timeout: 3_600_000,
  }, async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'reproducible-'));
    const firstPath = process.env.IMAGES_FIRST_BUILD;
    const first =
      firstPath && existsSync(firstPath)
        ? (JSON.parse(readFileSync(firstPath, 'utf8')) as Digests)
        : await cleanBuild(join(scratch, 'first.json'));
    const second = await cleanBuild(process.env.IMAGES_SECOND_BUILD ?? join(scratch, 'second.json'));
    const shipped = (build: Digests) =>
      Object.fromEntries(Object.entries(build).filter(([image]) => image !== images.servicesBase));
    expect(Object.keys(shipped(first))).toEqual([
      images.nodeBase,
      images.service('confidential-proxy'),
      images.service('tee-gateway'),
      images.service('venice-e2ee-proxy'),
    ]);
    for (const { id, digest } of Object.values(first)) {
      expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    }
    expect(shipped(second)).toEqual(shipped(first));
  });
});
