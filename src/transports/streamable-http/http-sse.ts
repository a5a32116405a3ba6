/**
 * The 2024-11-05 HTTP+SSE transport (2024-11-05 basic/transports "HTTP with SSE"), deprecated but
 * still spoken by older clients: a GET stream that first announces the POST endpoint in an
 * `endpoint` event, then carries every server message as a `message` event.
 * @module
 */
import { ErrorCode, errorResponse } from '../../jsonrpc/errors.js';
import { parseMessage } from '../../jsonrpc/parse.js';
import type { JsonRpcMessage } from '../../jsonrpc/types.js';
import type { MessageContext, SendOptions, Transport } from '../../protocol/transport.js';
import { principalOf } from '../../protocol/auth.js';
import type { AuthInfo } from '../../protocol/types.js';
import type { Servable } from '../../server/servable.js';
import type { ServedConnection } from '../../server/servable.js';
import { ResponseSpacing } from '../shared/response-spacing.js';
import { encodeSseEvent, SSE_KEEPALIVE } from '../shared/sse.js';
import { HttpError } from './exchange.js';
import type { HttpExchange, StreamWriter } from './exchange.js';
import type { HandlerContext, HttpLimits } from './handler-options.js';
import { SSE_HEADERS } from './sse-stream.js';

class HttpSseTransport implements Transport {
  readonly binding = 'http';
  readonly sessionId: string;
  onmessage?: (message: JsonRpcMessage | JsonRpcMessage[], context: MessageContext) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  #writer: StreamWriter;
  #closed = false;
  #spacing = new ResponseSpacing();
  #held = new Set<Promise<unknown>>();

  constructor(id: string, writer: StreamWriter) {
    this.sessionId = id;
    this.#writer = writer;
  }

  async start(): Promise<void> {}

  async send(message: JsonRpcMessage | JsonRpcMessage[], options?: SendOptions): Promise<void> {
    const delay = this.#spacing.delayFor(message, options?.relatedRequestId);
    if (delay > 0) {
      // A response held back for spacing is still written when the session closes meanwhile.
      const wait = new Promise((r) => setTimeout(r, delay));
      this.#held.add(wait);
      await wait;
      this.#held.delete(wait);
    }
    if (!this.#writer.closed)
      this.#writer.write(encodeSseEvent(JSON.stringify(message), undefined, 'message'));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#held);
    this.#writer.end();
    this.onclose?.();
  }
}

/** The HTTP+SSE endpoints of one server. */
export class HttpSseSessions {
  #hc: HandlerContext;
  #server: Servable;
  #paths: { ssePath: string; messagePath: string };
  #limits: HttpLimits;
  #sessions = new Map<string, { transport: HttpSseTransport; conn: ServedConnection; principal: string }>();

  constructor(hc: HandlerContext, paths: { ssePath: string; messagePath: string }) {
    this.#hc = hc;
    this.#server = hc.server;
    this.#paths = paths;
    this.#limits = hc.limits;
  }

  /** True when `path` is one of the HTTP+SSE endpoints. */
  owns(path: string): boolean {
    return path === this.#paths.ssePath || path === this.#paths.messagePath;
  }

  /** Handles a GET on the SSE path or a POST on the message path. */
  async handle(
    ex: HttpExchange,
    cors: Record<string, string>,
    authInfo: AuthInfo | undefined,
  ): Promise<void> {
    const json = { 'content-type': 'application/json', ...cors };
    if (ex.path === this.#paths.ssePath && ex.method === 'GET') {
      // HTTP+SSE streams count toward maxStreams like every other SSE stream of this server.
      if (this.#hc.streams.full) {
        ex.send(
          503,
          json,
          JSON.stringify(
            errorResponse(null, ErrorCode.InternalError, 'Service Unavailable: too many open streams'),
          ),
        );
        return;
      }
      const release = this.#hc.streams.acquire();
      const id = globalThis.crypto.randomUUID();
      const writer = ex.stream(200, { ...SSE_HEADERS, ...cors });
      const transport = new HttpSseTransport(id, writer);
      const ms = this.#limits.keepAliveIntervalMs;
      const keepAlive = ms > 0 ? setInterval(() => writer.write(SSE_KEEPALIVE), ms) : undefined;
      (keepAlive as { unref?: () => void } | undefined)?.unref?.();
      const held: { conn?: ServedConnection } = {};
      writer.onclose = () => {
        if (keepAlive) clearInterval(keepAlive);
        release();
        this.#sessions.delete(id);
        void (held.conn ? held.conn.close() : transport.close());
      };
      writer.write(encodeSseEvent(`${this.#paths.messagePath}?sessionId=${id}`, undefined, 'endpoint'));
      const conn = await this.#server.connect(transport);
      held.conn = conn;
      if (writer.closed) void conn.close();
      else this.#sessions.set(id, { transport, conn, principal: principalOf(authInfo) });
      return;
    }
    if (ex.path === this.#paths.messagePath && ex.method === 'POST') {
      const id = new URLSearchParams(ex.query).get('sessionId') ?? '';
      const session = this.#sessions.get(id);
      // The POSTs are tied to the GET that opened the session: another principal gets 404.
      if (!session || session.principal !== principalOf(authInfo)) {
        ex.send(404, json, JSON.stringify(errorResponse(null, -32001, 'Session not found')));
        return;
      }
      let body: string;
      try {
        body = await ex.readBody(
          this.#limits.maxBodyBytes,
          this.#limits.bodyTimeoutMs,
          this.#limits.maxBodyDrainBytes,
        );
      } catch (error) {
        const status = error instanceof HttpError ? error.status : 400;
        ex.send(
          status,
          json,
          JSON.stringify(errorResponse(null, ErrorCode.InvalidRequest, (error as Error).message)),
        );
        return;
      }
      const r = parseMessage(body);
      if (!r.ok) {
        ex.send(400, json, JSON.stringify(r.error));
        return;
      }
      ex.send(202, cors, 'Accepted');
      session.transport.onmessage?.('message' in r ? r.message : r.batch, {
        binding: 'http',
        headers: ex.headers(),
        sessionId: id,
        authInfo,
      });
      return;
    }
    ex.send(
      405,
      { allow: ex.path === this.#paths.ssePath ? 'GET' : 'POST', ...json },
      JSON.stringify(errorResponse(null, ErrorCode.InvalidRequest, 'Method Not Allowed')),
    );
  }

  /** Closes every HTTP+SSE session. */
  async close(): Promise<void> {
    await Promise.all([...this.#sessions.values()].map((s) => s.conn.close()));
    this.#sessions.clear();
  }
}
