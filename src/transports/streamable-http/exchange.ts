/**
 * One HTTP request/response as the Streamable HTTP handler sees it, so the same logic runs on the
 * Node fast path (`node:http`, `node:http2`) and on web-standard `Request`/`Response`.
 * @module
 */
import type { CertificateIdentity } from '../../protocol/auth.js';
import type { AuthInfo } from '../../protocol/types.js';

/** A failure that maps to an HTTP status (413 body too large, 408 body too slow, 400 bad body). */
export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** A streaming response body. */
export interface StreamWriter {
  /** Writes a chunk; false once the connection is gone. */
  write(chunk: string): boolean;
  /** Ends the response. */
  end(): void;
  /** True once ended or disconnected. */
  readonly closed: boolean;
  /** Called once when the connection closes (either side). */
  onclose?: () => void;
}

/** The handler's view of one exchange. */
export interface HttpExchange {
  readonly method: string;
  /** The path without the query. */
  readonly path: string;
  /** The query string without `?`. */
  readonly query: string;
  /** A request header by lower-case name. */
  header(name: string): string | undefined;
  /** All request headers, lower-case names (built on demand). */
  headers(): Record<string, string | undefined>;
  /**
   * Reads the body as UTF-8. After a 413, up to `drainBytes` more of the body are read and
   * discarded (within `timeoutMs`) so the client sees the answer; beyond that the connection closes.
   * @throws HttpError 413 over `maxBytes`, 408 when it takes longer than `timeoutMs`
   */
  readBody(maxBytes: number, timeoutMs: number, drainBytes?: number): Promise<string>;
  /** Identity from an auth layer in front (e.g. `req.auth` set by middleware). */
  readonly authInfo?: AuthInfo;
  /** The request URL, absolute, without the query (the `htu` a DPoP proof is checked against). */
  requestUrl(): string;
  /** The verified client certificate (mutual TLS), if any. */
  certificate?(): CertificateIdentity | undefined;
  /** The peer's address, if known. */
  readonly remoteAddress?: string;
  /** Sends a whole response. */
  send(status: number, headers: Record<string, string>, body?: string): void;
  /** Starts a streaming response. */
  stream(status: number, headers: Record<string, string>): StreamWriter;
  /** Registers a callback for a client that goes away before the response is complete. */
  onabort(cb: () => void): void;
}
