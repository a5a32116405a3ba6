/**
 * The router: a method table (the built-in methods are registered in it exactly as a user's
 * `setRequestHandler` is) and a middleware chain that wraps every method, in both eras, on every
 * binding. An empty chain costs nothing: the dispatcher calls the method directly.
 * @module
 */
import { ErrorCode, JsonRpcError } from '../jsonrpc/errors.js';
import type { JsonRpcId } from '../jsonrpc/types.js';
import type { Era } from '../protocol/eras.js';
import type { TraceContext } from '../protocol/transport.js';
import type { AuthInfo, JsonObject } from '../protocol/types.js';
import type { HandlerContext, LegacySession, RequestScope } from './context.js';

/**
 * What a middleware sees of one request. Built once per request, and only when middleware is
 * installed.
 */
export interface RouteContext {
  /** `legacy` (a session opened by `initialize`) or `modern` (2026-07-28, stateless). */
  readonly era: Era;
  /** The JSON-RPC method. */
  readonly method: string;
  /** The request's params (an object; `{}` when absent). Do not replace it; mutate with care. */
  readonly params: JsonObject;
  /** The JSON-RPC id. */
  readonly requestId: JsonRpcId;
  /** Identity established by the binding's authentication, if any. */
  readonly authInfo?: AuthInfo;
  /** The binding the request came in on: `stdio`, `http`, `websocket`, `grpc`, ... */
  readonly binding: string;
  /** Request headers (lower-cased names), where the binding has them. */
  readonly headers?: Record<string, string | undefined>;
  /** Aborts when the client cancels or the connection closes. */
  readonly signal: AbortSignal;
  /** W3C trace context extracted by the binding, if any. */
  readonly trace?: TraceContext;
  /** The legacy session (legacy era only; uninitialized while `initialize` runs). */
  readonly session?: LegacySession;
}

/** Runs the rest of the chain (the next middleware, or the method) and resolves to its result. */
export type Next = () => Promise<JsonObject>;

/**
 * A middleware: `(ctx, next) => Promise<result>`. Call `next()` at most once to run the method (and
 * inner middleware); return its result, a changed result, or throw. A thrown `JsonRpcError` goes on
 * the wire as is; an `AuthError` (protocol/auth.ts) propagates unchanged, so the binding maps it
 * to its own refusal (HTTP 401/403, gRPC UNAUTHENTICATED, ...); anything else becomes -32603.
 */
export type Middleware = (ctx: RouteContext, next: Next) => Promise<JsonObject>;

/**
 * A method handler. `previous` is the handler this one replaced for the era being served (a built-in,
 * or an earlier registration); calling it wraps rather than replaces. It answers -32601 when there was
 * none.
 */
export type MethodHandler = (
  params: JsonObject,
  ctx: HandlerContext,
  previous: (params: JsonObject, ctx: HandlerContext) => Promise<JsonObject>,
) => JsonObject | Promise<JsonObject>;

/** Both eras (the default of a registration). */
export const BOTH_ERAS: readonly Era[] = ['legacy', 'modern'];

type Bound = (params: JsonObject, ctx: HandlerContext) => Promise<JsonObject>;

const notFound =
  (method: string): Bound =>
  () =>
    Promise.reject(new JsonRpcError(ErrorCode.MethodNotFound, `Method not found: ${method}`));

/** The method table: one handler per method and era, each able to wrap the one it replaced. */
export class MethodTable {
  #legacy = new Map<string, Bound>();
  #modern = new Map<string, Bound>();

  /**
   * Registers `handler` for `method` in `eras`, wrapping whatever was there.
   * @returns a function that restores the previous handlers
   */
  register(method: string, handler: MethodHandler, eras: readonly Era[] = BOTH_ERAS): () => void {
    const undo: (() => void)[] = [];
    for (const era of eras) {
      const table = era === 'legacy' ? this.#legacy : this.#modern;
      const before = table.get(method);
      const previous = before ?? notFound(method);
      // Not async: a handler's own promise is passed through (no extra microtask per request).
      const bound: Bound = (params, ctx) => {
        try {
          return Promise.resolve(handler(params, ctx, previous));
        } catch (error) {
          return Promise.reject(error);
        }
      };
      table.set(method, bound);
      undo.push(() => {
        if (table.get(method) !== bound) return;
        if (before) table.set(method, before);
        else table.delete(method);
      });
    }
    return () => {
      for (const u of undo) u();
    };
  }

  /** The handler of `method` in `era`, or `undefined`. */
  lookup(method: string, era: Era): Bound | undefined {
    return (era === 'legacy' ? this.#legacy : this.#modern).get(method);
  }

  /** True when `method` has a handler in `era`. */
  has(method: string, era: Era): boolean {
    return (era === 'legacy' ? this.#legacy : this.#modern).has(method);
  }
}

/** Runs `terminal` inside `chain` (outermost first). */
export function runChain(
  chain: readonly Middleware[],
  ctx: RouteContext,
  terminal: Next,
): Promise<JsonObject> {
  const step = (i: number): Promise<JsonObject> => {
    if (i === chain.length) return terminal();
    let called = false;
    return chain[i]!(ctx, () => {
      if (called) return Promise.reject(new Error('anywire: middleware called next() twice'));
      called = true;
      return step(i + 1);
    });
  };
  return step(0);
}

/** The route context of one request (the abort signal is created only when read). */
class Route implements RouteContext {
  readonly era: Era;
  readonly method: string;
  readonly params: JsonObject;
  readonly requestId: JsonRpcId;
  readonly authInfo?: AuthInfo;
  readonly binding: string;
  readonly headers?: Record<string, string | undefined>;
  readonly trace?: TraceContext;
  readonly session?: LegacySession;
  #scope: RequestScope;

  constructor(era: Era, method: string, params: JsonObject, scope: RequestScope) {
    const context = scope.context;
    this.era = era;
    this.method = method;
    this.params = params;
    this.requestId = scope.call.id;
    this.authInfo = context.authInfo;
    this.binding = context.binding;
    this.headers = context.headers;
    this.trace = context.trace;
    if (era === 'legacy') this.session = scope.session;
    this.#scope = scope;
  }

  get signal(): AbortSignal {
    return this.#scope.call.signal;
  }
}

/** Builds the route context of one request. */
export function createRouteContext(
  era: Era,
  method: string,
  params: JsonObject,
  scope: RequestScope,
): RouteContext {
  return new Route(era, method, params, scope);
}
