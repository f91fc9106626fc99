import type { ServiceKind } from '@confidential-ai/verifier';

/** Where a face's E2EE is done. */
export type E2eeMode = 'browser' | 'proxy' | 'none';

/** One face of the composed server, as the page offers it. */
export interface Face {
  /** Stable id (the `<select>` value). */
  readonly id: ServiceKind;
  /** Label in the picker. */
  readonly label: string;
  /** OpenAI base path on this origin. */
  readonly path: string;
  /** Where the prompt is encrypted. */
  readonly e2ee: E2eeMode;
  /** A model that the demo serves, when `GET {path}/models` lists none. */
  readonly defaultModel: string;
  /** Whether `GET {path}/models` exists. */
  readonly listsModels: boolean;
  /** One sentence on what protects the prompt and what is verified. */
  readonly summary: string;
}

/** The four faces of `confidential-proxy serve`, in the order the page lists them. */
export const FACES: readonly Face[] = Object.freeze([
  {
    id: 'vllm-proxy',
    label: 'vllm-proxy (/v1)',
    path: '/v1',
    e2ee: 'browser',
    defaultModel: 'fake-model',
    listsModels: true,
    summary:
      'Your message is encrypted in this browser (E2EE v2) to the proxy key attested first; every answer is signed by that key.',
  },
  {
    id: 'chutes',
    label: 'Chutes sidecar (/v1/chutes)',
    path: '/v1/chutes',
    e2ee: 'browser',
    defaultModel: 'fake/echo-model',
    listsModels: true,
    summary:
      'Encrypted in this browser to the attested proxy key, then ML-KEM E2EE from the proxy to an attested Chutes instance; answers signed by the proxy.',
  },
  {
    id: 'venice',
    label: 'Venice (/venice/v1)',
    path: '/venice/v1',
    e2ee: 'proxy',
    defaultModel: 'e2ee-qwen3-6-27b',
    listsModels: true,
    summary:
      'Sent to the proxy, which encrypts it to the attested Venice model key; this page attests that key itself. Answers are not signed.',
  },
  {
    id: 'tee-gateway',
    label: 'TEE gateway (/tee-gateway/v1)',
    path: '/tee-gateway/v1',
    e2ee: 'none',
    defaultModel: 'gpt-4.1',
    listsModels: false,
    summary:
      'No E2EE (use TLS to the enclave); every answer is signed (RSA-PSS) by a key bound to the Nitro enclave attestation.',
  },
]);

/** The face with this id. */
export function faceById(id: string): Face | undefined {
  return FACES.find((face) => face.id === id);
}
