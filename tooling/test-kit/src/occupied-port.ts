import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that something is already listening on. */
export interface OccupiedPort {
  /** The port number. */
  readonly port: number;
  /** Stops listening. */
  close(): Promise<void>;
}

/**
 * Listens on a free loopback port (port 0) and holds it, for tests of how a server reports `EADDRINUSE`.
 * @example
 * ```ts
 * const occupied = await occupyLoopbackPort();
 * // start the server under test on 127.0.0.1:occupied.port and expect ERR_ADDRESS_IN_USE
 * await occupied.close();
 * ```
 */
export async function occupyLoopbackPort(): Promise<OccupiedPort> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
