/**
 * What every binding contributes to the interop matrix (test/matrix.test.ts): how to serve an
 * `McpServer` on it and how to open client transports to that server.
 */
import type { Transport } from '../../src/protocol/transport.js';
import type { McpServer } from '../../src/server/mcp-server.js';

export interface RunningBinding {
  /** A new client transport to the running server (not started; the Client starts it). */
  connect(): Promise<Transport> | Transport;
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

export interface MatrixBinding {
  /** Name shown in the matrix, e.g. `websocket`, `tcp`, `grpc`. */
  name: string;
  /** Eras this binding carries (every bidirectional binding carries both). */
  eras: ('legacy' | 'modern')[];
  /** Serves `server` on this binding (127.0.0.1, a free port). */
  start(server: McpServer): Promise<RunningBinding>;
  /** Optional: why the binding cannot run here (the matrix prints it and skips). */
  unavailable?(): Promise<string | undefined>;
}
