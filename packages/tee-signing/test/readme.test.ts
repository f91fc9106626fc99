import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import * as tee from '../src/index.js';

it('the README quick start runs as written', async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const code = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  const body = code!.replace(
    /import \{([\s\S]*?)\} from '@confidential-ai\/tee-signing';/,
    'const {$1} = tee;',
  );
  expect(body).not.toContain('import ');
  const logs: unknown[] = [];
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
    ...args: string[]
  ) => (...values: unknown[]) => Promise<void>;
  await new AsyncFunction('tee', 'console', body)(tee, { log: (value: unknown) => logs.push(value) });
  expect(logs[0]).toBe(true);
  expect(tee.isChecksumAddressValid(String(logs[1]))).toBe(true);
});
