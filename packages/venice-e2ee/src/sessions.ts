/** Options of {@link createSessionStore}. */
export interface SessionStoreOptions {
  /** A session unused for this long expires. Default 10 minutes. */
  idleTtlMs?: number;
  /** A session expires this long after creation. Default 30 minutes. */
  maxTtlMs?: number;
  /** A session expires once it has served this many requests. Default 100. */
  maxRequests?: number;
  /** Sweep interval; default min(idleTtlMs, 60 s). The timer is unref'd. */
  sweepIntervalMs?: number;
  /** Clock (tests); default `Date.now`. */
  now?: () => number;
}

/** One session: a model key cache for `<model>:<session id>`. */
export interface Session<T> {
  /** `<model>:<session id>`. */
  readonly key: string;
  /** The session id. */
  readonly id: string;
  /** Requests served, this one included. */
  requestCount: number;
  /** Creation time (ms). */
  readonly createdAt: number;
  /** Expiry from `maxTtlMs` (ms). */
  readonly expiresAt: number;
  /** Last use (ms). */
  lastUsed: number;
  /** Cached value (e.g. the attested model key promise), undefined until set. */
  value: T | undefined;
}

/** A bounded session store with idle TTL, max TTL, max requests and a periodic sweep (spec 5.4.3, D6). */
export interface SessionStore<T> {
  /**
   * Returns the live session for `model` and `sessionId`, counting this request, or a fresh one when there is
   * none or it expired (request count reached, max TTL passed, or idle too long).
   */
  acquire(model: string, sessionId: string): Session<T>;
  /** Drops a session (e.g. after a failed attestation). */
  delete(session: Session<T>): void;
  /** Removes every expired session now; returns how many were removed. */
  sweep(): number;
  /** Number of stored sessions. */
  readonly size: number;
  /** Stops the sweep timer and clears the store. */
  close(): void;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const result = value ?? fallback;
  if (!Number.isFinite(result) || result <= 0) throw new RangeError(`${name} must be a positive number`);
  return result;
}

/**
 * Creates a session store.
 * @throws RangeError for non-positive limits or idle TTL above max TTL.
 * @example
 * ```ts
 * const sessions = createSessionStore<Promise<AttestedModelKey>>({ idleTtlMs: 600_000 });
 * const session = sessions.acquire('e2ee-glm-5-1', 'agent-1');
 * session.value ??= attestModel({ ... });
 * ```
 */
export function createSessionStore<T>(options: SessionStoreOptions = {}): SessionStore<T> {
  const idleTtlMs = positive(options.idleTtlMs, 10 * 60_000, 'idleTtlMs');
  const maxTtlMs = positive(options.maxTtlMs, 30 * 60_000, 'maxTtlMs');
  const maxRequests = positive(options.maxRequests, 100, 'maxRequests');
  if (idleTtlMs > maxTtlMs) throw new RangeError('idleTtlMs must not exceed maxTtlMs');
  const now = options.now ?? Date.now;
  const sessions = new Map<string, Session<T>>();
  const expired = (session: Session<T>, at: number) =>
    session.requestCount >= maxRequests || at >= session.expiresAt || at - session.lastUsed >= idleTtlMs;
  const sweep = () => {
    const at = now();
    let removed = 0;
    for (const [key, session] of sessions) {
      // a session is removed once it can no longer serve a request
      if (
        at >= session.expiresAt ||
        at - session.lastUsed >= idleTtlMs ||
        session.requestCount >= maxRequests
      ) {
        sessions.delete(key);
        removed++;
      }
    }
    return removed;
  };
  const interval = positive(options.sweepIntervalMs, Math.min(idleTtlMs, 60_000), 'sweepIntervalMs');
  const timer = setInterval(sweep, interval);
  (timer as { unref?: () => void }).unref?.();
  return {
    acquire(model, sessionId) {
      const key = `${model}:${sessionId}`;
      const at = now();
      const existing = sessions.get(key);
      if (existing && !expired(existing, at)) {
        existing.requestCount++;
        existing.lastUsed = at;
        return existing;
      }
      const session: Session<T> = {
        key,
        id: sessionId,
        requestCount: 1,
        createdAt: at,
        expiresAt: at + maxTtlMs,
        lastUsed: at,
        value: undefined,
      };
      sessions.set(key, session);
      return session;
    },
    delete(session) {
      if (sessions.get(session.key) === session) sessions.delete(session.key);
    },
    sweep,
    get size() {
      return sessions.size;
    },
    close() {
      clearInterval(timer);
      sessions.clear();
    },
  };
}
