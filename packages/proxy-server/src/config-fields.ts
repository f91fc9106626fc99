import { z } from 'zod';

/**
 * An http(s) URL without credentials, with trailing slashes removed: the one rule for every base URL of the
 * composed configuration (vllm-proxy, Chutes, TEE gateway).
 */
export const httpUrl = z
  .string({ error: 'expected a URL string' })
  .refine(
    (value) => {
      try {
        const url = new URL(value);
        return (url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password;
      } catch {
        return false;
      }
    },
    { error: 'expected an http(s) URL without credentials' },
  )
  .transform((value) => value.replace(/\/+$/, ''));
