/**
 * A gateway request failure answered as the reference's flat JSON error body `{"error": message}` with an
 * HTTP status (tee-gateway.md §4). Messages never carry provider keys, prompts or payment secrets.
 */
export class GatewayHttpError extends Error {
  /** HTTP status of the answer. */
  readonly status: number;
  /** Extra top-level fields of the body (e.g. `message`). */
  readonly extra: Record<string, unknown> | undefined;
  constructor(
    status: number,
    message: string,
    options?: { cause?: unknown; extra?: Record<string, unknown> },
  ) {
    super(message, { cause: options?.cause });
    this.name = 'GatewayHttpError';
    this.status = status;
    this.extra = options?.extra;
  }
}
