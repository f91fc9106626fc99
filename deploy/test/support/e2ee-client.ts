import { createHash, randomBytes } from 'node:crypto';
import { bytesToHex } from '@confidential-ai/bytes';
import {
  buildRequestAad,
  buildResponseAad,
  decryptField,
  encryptField,
  generateFieldKeyPair,
} from '@confidential-ai/venice-e2ee';

/**
 * A vllm-proxy E2EE v2 client (ECDSA suite) built from the repository's field cipher, as the proxy-server tests
 * build theirs: it encrypts each message to the model key with the v2 request AAD and decrypts the answer with
 * the v2 response AAD. Each instance has its own nonce, so sending its request twice is a replay.
 */
export function createE2eeV2Client(modelKeyHex: string) {
  const pair = generateFieldKeyPair('secp256k1');
  const nonce = bytesToHex(randomBytes(16));
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    /** The E2EE request headers (`X-Signing-Algo`, keys, version 2, nonce, timestamp). */
    headers: {
      'x-signing-algo': 'ecdsa',
      'x-client-pub-key': bytesToHex(pair.publicKey.subarray(1)),
      'x-model-pub-key': modelKeyHex,
      'x-e2ee-version': '2',
      'x-e2ee-nonce': nonce,
      'x-e2ee-timestamp': String(timestamp),
    },
    /** The chat body with every message's content encrypted. */
    encrypt(model: string, messages: Array<{ role: 'user' | 'system'; content: string }>) {
      return {
        model,
        messages: messages.map((message, messageIndex) => ({
          ...message,
          content: encryptField(message.content, modelKeyHex, {
            suite: 'secp256k1',
            aad: buildRequestAad({
              algo: 'ecdsa',
              model,
              messageIndex,
              contentIndex: null,
              nonce,
              timestamp,
            }),
          }),
        })),
      };
    },
    /** Decrypts an encrypted response field (e.g. `choices[0].message.content`). */
    decrypt(hex: string, where: { model: string; id: string; choice: number; field: string }) {
      return decryptField(hex, pair.privateKey, {
        suite: 'secp256k1',
        aad: buildResponseAad({ algo: 'ecdsa', ...where, nonce, timestamp }),
      });
    },
  };
}

/** What the built-in simulated vLLM answers to a prompt (computed independently with node:crypto). */
export function simulatedReply(prompt: string): string {
  const digest = createHash('sha256').update(prompt).digest('hex').slice(0, 8);
  const words = prompt.split(/\s+/).filter(Boolean).length;
  return `Simulated reply ${digest}: you sent ${words} word${words === 1 ? '' : 's'}.`;
}
