// encryptChatResponse builds each v2 response AAD label once per stream (model, id, choice, field) and reuses it:
// every field must still be sealed under the label of its own chunk, also when the id or model changes mid-stream,
// for choices past the cached ones, and for every field name. Opened with the node:crypto-only cipher
// (test/independent-cipher.ts), which builds each label from the spec's template.
import { createFieldEncryptor } from '@confidential-ai/venice-e2ee';
import { describe, expect, it } from 'vitest';
import type { E2eeContext } from '../src/e2ee.js';
import { encryptChatResponse } from '../src/e2ee-response.js';
import { independentClientKeys, independentDecrypt } from './independent-cipher.js';

const NONCE = 'c0ffee'.repeat(6);
const TIMESTAMP = 1_765_000_000;

describe('encryptChatResponse: v2 labels per chunk', () => {
  it('every field opens under the label of its own model, id, choice and field', () => {
    const client = independentClientKeys('ed25519');
    const context: E2eeContext = {
      algo: 'ed25519',
      version: 2,
      nonce: NONCE,
      timestamp: TIMESTAMP,
      encryptor: createFieldEncryptor(Buffer.from(client.publicKeyHex, 'hex'), { suite: 'ed25519' }),
    };
    const chunks = [
      { id: 'chatcmpl-a', model: 'm1', choice: 0 },
      { id: 'chatcmpl-a', model: 'm1', choice: 0 },
      { id: 'chatcmpl-b', model: 'm1', choice: 0 },
      { id: 'chatcmpl-b', model: 'm2', choice: 3 },
      { id: 'chatcmpl-a', model: 'm1', choice: 0 },
      { id: 'chatcmpl-a', model: 'm1', choice: 40 },
      { id: 'chatcmpl-a', model: 'm1', choice: 16 },
      { id: 'chatcmpl-a', model: 'm1', choice: 15 },
    ];
    for (const [position, { id, model, choice }] of chunks.entries()) {
      const delta: Record<string, unknown> = {
        content: `content ${position}`,
        reasoning_content: `reasoning_content ${position}`,
        reasoning: `reasoning ${position}`,
        refusal: `refusal ${position}`,
      };
      const payload = {
        id,
        object: 'chat.completion.chunk',
        created: 1,
        model,
        choices: [
          { index: choice, delta, finish_reason: null },
          { index: choice + 1, text: `text ${position}`, finish_reason: null },
        ],
      };
      encryptChatResponse(payload, context, 'delta');
      const label = (index: number, field: string) =>
        `v2|resp|algo=ed25519|model=${model}|id=${id}|choice=${index}|field=${field}|n=${NONCE}|ts=${TIMESTAMP}`;
      for (const field of ['content', 'reasoning_content', 'reasoning', 'refusal']) {
        const sealed = payload.choices[0]!.delta![field] as string;
        expect(independentDecrypt(sealed, 'ed25519', client.privateKey, label(choice, field))).toBe(
          `${field} ${position}`,
        );
        // Under any other chunk's label it does not open.
        expect(() =>
          independentDecrypt(sealed, 'ed25519', client.privateKey, label(choice + 1, field)),
        ).toThrow();
      }
      const text = payload.choices[1]!.text as string;
      expect(independentDecrypt(text, 'ed25519', client.privateKey, label(choice + 1, 'text'))).toBe(
        `text ${position}`,
      );
    }
  });
});
