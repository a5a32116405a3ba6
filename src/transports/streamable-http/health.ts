/**
 * Health endpoints for load balancers and orchestrators, answered before Host/Origin checks,
 * authentication and MCP routing: `GET /healthz` (liveness: the process serves HTTP) and
 * `GET /readyz` (readiness: the server's shared stores answer, and it is not shutting down).
 * Both are cheap: liveness touches nothing, readiness runs at most one `stores.ready()` at a time
 * (concurrent probes share it).
 * @module
 */
import type { Servable } from '../../server/servable.js';
import type { HttpExchange } from './exchange.js';

/** Options of the health endpoints (part of `StreamableHttpOptions`). */
export interface HealthOptions {
  /**
   * Liveness path, answered `200 {"status":"ok","nodeId":…}` to GET and HEAD. `false`: not served.
   * Default: `/healthz` with `serveHttp` (which owns the listener), off with `createNodeHandler` and
   * `createWebHandler` (a framework routes the paths).
   */
  healthPath?: string | false;
  /**
   * Readiness path: `200 {"status":"ready","nodeId":…}` when the server's `stores.ready()` resolves
   * within `readyTimeoutMs` (a server without shared stores is always ready), else
   * `503 {"status":"not ready","nodeId":…,"reason":"…"}`; also 503 once `close()` began, so a load
   * balancer drains the node. `false`: not served. Default: `/readyz` with `serveHttp`, else off.
   */
  readyPath?: string | false;
  /** Time `stores.ready()` gets before `readyPath` answers 503, in ms. Default 2 000. */
  readyTimeoutMs?: number;
  /**
   * This node's name in a cluster, in health bodies (the CLI's `--node-id`, also given to the
   * stores as their consumer name). Default: `serveHttp` uses `<hostname>-<pid>`, the other
   * handlers a random id.
   */
  nodeId?: string;
}

/** Default {@link HealthOptions.readyTimeoutMs}. */
export const DEFAULT_READY_TIMEOUT_MS = 2000;

const NO_STORE = { 'content-type': 'application/json', 'cache-control': 'no-store' };

/** The health endpoints of one Streamable HTTP server. */
export class HealthProbes {
  readonly nodeId: string;
  readonly #health: string | undefined;
  readonly #ready: string | undefined;
  readonly #timeoutMs: number;
  readonly #server: Servable;
  readonly #closing: () => boolean;
  #probe: Promise<string | undefined> | undefined;

  constructor(server: Servable, options: HealthOptions, closing: () => boolean) {
    const t = options.readyTimeoutMs;
    if (t !== undefined && !(typeof t === 'number' && Number.isFinite(t) && t >= 1))
      throw new RangeError(
        `StreamableHttpOptions.readyTimeoutMs must be a finite number >= 1 (got ${String(t)})`,
      );
    for (const [name, p] of [
      ['healthPath', options.healthPath],
      ['readyPath', options.readyPath],
    ] as const)
      if (p !== undefined && p !== false && !(typeof p === 'string' && p.startsWith('/')))
        throw new TypeError(
          `StreamableHttpOptions.${name} must be a path starting with / or false (got ${String(p)})`,
        );
    this.#server = server;
    this.#health = options.healthPath || undefined;
    this.#ready = options.readyPath || undefined;
    this.#timeoutMs = t ?? DEFAULT_READY_TIMEOUT_MS;
    this.#closing = closing;
    this.nodeId = options.nodeId ?? globalThis.crypto.randomUUID().slice(0, 8);
  }

  /** True when `path` is one of the health endpoints. */
  owns(path: string): boolean {
    return path === this.#health || path === this.#ready;
  }

  /** Answers a request for one of the health endpoints. */
  async handle(ex: HttpExchange): Promise<void> {
    if (ex.method !== 'GET' && ex.method !== 'HEAD') {
      ex.send(405, { ...NO_STORE, allow: 'GET, HEAD' }, JSON.stringify({ error: 'Method Not Allowed' }));
      return;
    }
    const head = ex.method === 'HEAD';
    const reply = (status: number, body: object) => {
      const text = JSON.stringify(body);
      ex.send(status, { ...NO_STORE, 'content-length': String(byteLength(text)) }, head ? undefined : text);
    };
    if (ex.path === this.#health) {
      reply(200, { status: 'ok', nodeId: this.nodeId });
      return;
    }
    const reason = this.#closing() ? 'shutting down' : await this.#check();
    if (reason === undefined) reply(200, { status: 'ready', nodeId: this.nodeId });
    else reply(503, { status: 'not ready', nodeId: this.nodeId, reason });
  }

  /** Why the node is not ready, or `undefined`; one store probe at a time. */
  #check(): Promise<string | undefined> {
    const stores = this.#server.stores;
    if (typeof stores?.ready !== 'function') return Promise.resolve(undefined);
    this.#probe ??= (async () => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<string>((resolve) => {
        timer = setTimeout(
          () => resolve(`stores did not answer within readyTimeoutMs (${this.#timeoutMs} ms)`),
          this.#timeoutMs,
        );
      });
      try {
        return await Promise.race([
          stores.ready!().then(
            () => undefined,
            (e: unknown) => `stores not ready: ${e instanceof Error ? e.message : String(e)}`,
          ),
          timeout,
        ]);
      } finally {
        clearTimeout(timer);
        this.#probe = undefined;
      }
    })();
    return this.#probe;
  }
}

function byteLength(text: string): number {
  return new TextEncoder().encode(text).byteLength;
}
