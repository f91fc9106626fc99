// Two clean builds of the same commit give the same image IDs and manifest digests: the local bases (debootstrap
// and the pinned Node binary) and every service image. The first build is the one test-images.sh made before the
// tests (IMAGES_FIRST_BUILD); run alone, this file makes both builds itself.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { check } from './support/commands.js';

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
    expect(Object.keys(first)).toHaveLength(5);
    for (const { id, digest } of Object.values(first)) {
      expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    }
    expect(second).toEqual(first);
  });
});
