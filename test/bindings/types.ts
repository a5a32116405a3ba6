/**
 * What every binding contributes to the interop matrix (test/matrix.test.ts and its extension suites
 * test/matrix-tasks.test.ts, test/matrix-events.test.ts): how to serve an `McpServer` on it and how
 * to open client transports to that server.
 */
import type { Authenticator } from '../../src/protocol/auth.js';
import type { Transport } from '../../src/protocol/transport.js';
import type { McpServer } from '../../src/server/mcp-server.js';

export interface RunningBinding {
  /**
   * A new client transport to the running server (not started; the Client starts it). With
   * `authorization` (an `Authorization` value such as `Bearer alice`), the client presents it the
   * binding's way: an HTTP or upgrade header, gRPC metadata, an MQTT user property, or the first
   * message's `_meta.authorization` on TCP, Unix and TLS. Bindings without identities ignore it.
   */
  connect(authorization?: string): Promise<Transport> | Transport;
  /** Stops the server side (listeners, brokers the binding started). */
  stop(): Promise<void>;
  /**
   * Optional: sends one raw frame (as a client would put it on the wire, e.g. a line of invalid JSON)
   * on a fresh connection and resolves with the first JSON-RPC message the server answers.
   */
  raw?(frame: string): Promise<unknown>;
  /** Optional: the largest message the server accepts, in bytes (the matrix sends one bigger). */
  maxMessageBytes?: number;
}

/** How a suite wants the server served (beyond the defaults matrix.test.ts uses). */
export interface StartOptions {
  /** Who callers are: the binding hands it to its serve function (bindings with `identities`). */
  authenticator?: Authenticator;
  /**
   * Bindings that run the server in another process (stdio): the module it serves (default
   * test/fixtures/matrix-server.ts) and extra environment for it. In-process bindings serve the
   * `server` they are given and ignore both.
   */
  module?: string;
  env?: Record<string, string>;
}

export interface MatrixBinding {
  /** Name shown in the matrix, e.g. `websocket`, `tcp`, `grpc`. */
  name: string;
  /** Eras this binding carries (every bidirectional binding carries both). */
  eras: ('legacy' | 'modern')[];
  /**
   * Whether callers have identities here: `start` honours `authenticator` and `connect` sends the
   * `authorization` it is given. False (or absent) for stdio (one client per server process) and the
   * in-memory pair.
   */
  identities?: boolean;
  /** Whether every client gets a server of its own (stdio: a child process per client). */
  serverPerClient?: boolean;
  /** Serves `server` on this binding (127.0.0.1, a free port). */
  start(server: McpServer, options?: StartOptions): Promise<RunningBinding>;
  /** Optional: why the binding cannot run here (the matrix prints it and skips). */
  unavailable?(): Promise<string | undefined>;
}
