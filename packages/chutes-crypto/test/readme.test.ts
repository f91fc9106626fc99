import { readFileSync } from 'node:fs';
import * as bytes from '@confidential-ai/bytes';
import { expect, it } from 'vitest';
import * as chutesCrypto from '../src/index.js';

it('the README quick example runs and prints the decrypted results', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  // The example is plain JavaScript apart from its imports; turn those into destructuring of the modules.
  const body = (code as string).replace(
    /import\s*\{([^}]*)\}\s*from\s*'([^']+)';/g,
    (_, names: string, from: string) => `const {${names}} = modules[${JSON.stringify(from)}];`,
  );
  const printed: unknown[] = [];
  const modules = { '@confidential-ai/bytes': bytes, '@confidential-ai/chutes-crypto': chutesCrypto };
  new Function('modules', 'console', body)(modules, { log: (value: unknown) => printed.push(value) });
  expect(printed).toEqual([
    { choices: [{ message: { content: 'echo deepseek-ai/DeepSeek-V3-0324' } }] },
    'data: {"choices":[{"delta":{"content":"hi"}}]}\n',
  ]);
});
