/**
 * The web-standard binding of Streamable HTTP: `(Request) => Promise<Response>`, for Hono, Deno,
 * Bun, Cloudflare Workers and anything else built on the Fetch API. Runtime-neutral.
 * @module
 */
import type { AuthInfo } from '../../protocol/types.js';
import type { Servable } from '../../server/servable.js';
import { HttpError } from './exchange.js';
import type { HttpExchange, StreamWriter } from './exchange.js';
import { StreamableHttpServer } from './handler.js';
import type { StreamableHttpOptions } from './handler.js';

const encoder = new TextEncoder();

class WebExchange implements HttpExchange {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly authInfo?: AuthInfo;
  readonly response: Promise<Response>;
  #req: Request;
  #resolve!: (r: Response) => void;

  constructor(req: Request, authInfo?: AuthInfo) {
    this.#req = req;
    this.method = req.method;
    const url = new URL(req.url);
    this.path = url.pathname;
    this.query = url.search.slice(1);
    if (authInfo) this.authInfo = authInfo;
    this.response = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  requestUrl(): string {
    const url = new URL(this.#req.url);
    return `${url.origin}${url.pathname}`;
  }

  header(name: string): string | undefined {
    if (name === 'host') return this.#req.headers.get('host') ?? new URL(this.#req.url).host;
    return this.#req.headers.get(name) ?? undefined;
  }

  headers(): Record<string, string | undefined> {
    const out: Record<string, string | undefined> = Object.create(null) as Record<string, string | undefined>;
    this.#req.headers.forEach((v, k) => {
      out[k] = v;
    });
    return out;
  }

  async readBody(maxBytes: number, timeoutMs: number): Promise<string> {
    const declared = Number(this.#req.headers.get('content-length'));
    if (declared > maxBytes)
      throw new HttpError(413, `Payload Too Large: body exceeds maxBodyBytes (${maxBytes})`);
    const body = this.#req.body;
    if (!body) return '';
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        void reader.cancel();
        reject(new HttpError(408, `Request Timeout: body not received within bodyTimeoutMs (${timeoutMs})`));
      }, timeoutMs);
    });
    try {
      for (;;) {
        const { done, value } = await Promise.race([reader.read(), timeout]);
        if (done) break;
        size += value.byteLength;
        if (size > maxBytes) {
          void reader.cancel();
          throw new HttpError(413, `Payload Too Large: body exceeds maxBodyBytes (${maxBytes})`);
        }
        chunks.push(value);
      }
    } finally {
      clearTimeout(timer);
    }
    const all = new Uint8Array(size);
    let off = 0;
    for (const c of chunks) {
      all.set(c, off);
      off += c.byteLength;
    }
    return new TextDecoder().decode(all);
  }

  send(status: number, headers: Record<string, string>, body?: string): void {
    this.#resolve(
      new Response(status === 204 || (status === 202 && !body) ? null : (body ?? null), { status, headers }),
    );
  }

  stream(status: number, headers: Record<string, string>): StreamWriter {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let closed = false;
    const writer: StreamWriter = {
      write: (chunk) => {
        if (closed) return false;
        controller.enqueue(encoder.encode(chunk));
        return true;
      },
      end: () => {
        if (closed) return;
        closed = true;
        controller.close();
        writer.onclose?.();
      },
      get closed() {
        return closed;
      },
    };
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
      },
      cancel() {
        if (closed) return;
        closed = true;
        writer.onclose?.();
      },
    });
    this.#resolve(new Response(stream, { status, headers }));
    return writer;
  }

  onabort(cb: () => void): void {
    this.#req.signal?.addEventListener('abort', cb, { once: true });
  }
}

/** A web-standard MCP handler. */
export type WebMcpHandler = ((request: Request, authInfo?: AuthInfo) => Promise<Response>) & {
  readonly http: StreamableHttpServer;
};

/**
 * Creates a `(Request) => Promise<Response>` handler. Mount it in Hono with
 * `app.all('/mcp', (c) => handler(c.req.raw))`.
 */
export function createWebHandler(server: Servable, options: StreamableHttpOptions = {}): WebMcpHandler {
  const core = new StreamableHttpServer(server, options);
  const handler = (async (request: Request, authInfo?: AuthInfo) => {
    const ex = new WebExchange(request, authInfo);
    void core.handle(ex);
    return ex.response;
  }) as WebMcpHandler;
  Object.defineProperty(handler, 'http', { value: core });
  return handler;
}
