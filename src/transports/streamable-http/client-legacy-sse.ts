/**
 * The deprecated HTTP+SSE transport of revision 2024-11-05, client side: one long-lived GET stream
 * that first announces the POST endpoint in an `endpoint` event and then carries every
 * server-to-client message as `message` events (2024-11-05 basic/transports "HTTP with SSE").
 * The Streamable HTTP client switches to it when a legacy `initialize` POST is refused
 * (2025-11-25 basic/transports "Backwards Compatibility"). Runtime-neutral: fetch and web streams.
 * @module
 */
import { McpError } from '../../protocol/errors.js';
import { mediaType, readSseStream } from './client-sse.js';

/** What the connection needs from its owner. */
export interface LegacySseConnectionOptions {
  /** The URL to GET (the server URL the user gave). */
  url: URL;
  /** The fetch to use. */
  fetch: (input: string | URL, init: RequestInit) => Promise<Response>;
  /** Builds the headers of the GET (authorization and other static headers). */
  headers: () => Promise<Headers>;
  /** Extra fetch options. */
  requestInit?: RequestInit;
  /** Largest accepted event in bytes. */
  maxMessageBytes: number;
  /** Time in ms to wait for the `endpoint` event after the GET answered. */
  endpointTimeoutMs: number;
  /** The `data` of each `message` event (JSON text, not yet parsed). */
  ondata: (data: string) => void;
  /** A non-fatal problem. */
  onerror: (error: Error) => void;
  /** The stream ended or broke: the 2024-11-05 connection is over (it has no resumption). */
  onclose: () => void;
}

/** An open HTTP+SSE (2024-11-05) connection. */
export class LegacySseConnection {
  /** Where messages are POSTed: the `endpoint` event's URI, resolved against the GET URL. */
  readonly endpoint: URL;
  #controller: AbortController;
  #closed = false;

  private constructor(endpoint: URL, controller: AbortController) {
    this.endpoint = endpoint;
    this.#controller = controller;
  }

  /**
   * GETs `url` with `Accept: text/event-stream` and waits for the `endpoint` event.
   * @throws McpError `HTTP_ERROR` (with `status`) when the GET is refused or is not an event
   *   stream; `CONNECTION_CLOSED` on a network error or a stream that ends first;
   *   `REQUEST_TIMEOUT` after `endpointTimeoutMs`; `PROTOCOL_ERROR` for a cross-origin endpoint.
   */
  static async open(options: LegacySseConnectionOptions): Promise<LegacySseConnection> {
    const controller = new AbortController();
    const headers = await options.headers();
    headers.set('Accept', 'text/event-stream');
    let response: Response;
    try {
      response = await options.fetch(options.url, {
        ...options.requestInit,
        method: 'GET',
        headers,
        signal: controller.signal,
      });
    } catch (error) {
      throw new McpError('CONNECTION_CLOSED', `GET ${options.url} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (!response.ok || mediaType(response.headers.get('content-type')) !== 'text/event-stream') {
      response.body?.cancel().catch(() => {});
      throw new McpError(
        'HTTP_ERROR',
        `GET ${options.url} answered ${response.status} ${mediaType(response.headers.get('content-type'))}, not an HTTP+SSE stream`,
        { status: response.status },
      );
    }
    let connection: LegacySseConnection | undefined;
    return new Promise<LegacySseConnection>((resolve, reject) => {
      const timer = setTimeout(() => {
        controller.abort();
        reject(new McpError('REQUEST_TIMEOUT', `no endpoint event within ${options.endpointTimeoutMs} ms`));
      }, options.endpointTimeoutMs);
      const fail = (error: McpError) => {
        clearTimeout(timer);
        controller.abort();
        reject(error);
      };
      readSseStream(
        response.body!,
        {
          onevent: (event) => {
            if (!connection) {
              if (event.event !== 'endpoint') return; // nothing is meaningful before the endpoint
              let endpoint: URL;
              try {
                endpoint = new URL(event.data.trim(), options.url);
              } catch {
                fail(new McpError('PROTOCOL_ERROR', `the endpoint event is not a URI: ${event.data}`));
                return;
              }
              // Only the same origin: a server must not steer our POSTs (and credentials) elsewhere.
              if (endpoint.origin !== options.url.origin) {
                fail(new McpError('PROTOCOL_ERROR', `cross-origin endpoint ${endpoint.origin} refused`));
                return;
              }
              clearTimeout(timer);
              connection = new LegacySseConnection(endpoint, controller);
              resolve(connection);
              return;
            }
            if (event.event === undefined || event.event === 'message') options.ondata(event.data);
          },
        },
        options.maxMessageBytes,
      ).then(
        () => {
          if (!connection)
            fail(new McpError('CONNECTION_CLOSED', 'the SSE stream ended before the endpoint event'));
          else connection.#end(options);
        },
        (error: Error) => {
          if (!connection) {
            fail(
              new McpError('CONNECTION_CLOSED', `the SSE stream broke: ${error.message}`, { cause: error }),
            );
            return;
          }
          if (!connection.#closed && error instanceof McpError) options.onerror(error);
          connection.#end(options);
        },
      );
    });
  }

  #end(options: LegacySseConnectionOptions): void {
    if (this.#closed) return;
    this.#closed = true;
    options.onclose();
  }

  /** Ends the GET stream (idempotent); `onclose` does not fire for a close we asked for. */
  close(): void {
    this.#closed = true;
    this.#controller.abort();
  }
}
