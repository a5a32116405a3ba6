/**
 * Scope checks inside the server, as middleware for `server.use()`: `requireScopes` for every
 * request (or some methods), `toolScopes` for per-tool scopes (`registerTool(name, { scopes })`)
 * on `tools/call`, optionally hiding from `tools/list` the tools the caller cannot call. A refusal
 * is the {@link AuthError} 403 `insufficient_scope` with the scopes to ask for (MCP
 * authorization: "Scope Challenge Handling"), which every binding maps to its wire (HTTP 403 with
 * `WWW-Authenticate`, gRPC PERMISSION_DENIED, ...).
 * @module
 */
import { AuthError } from '../protocol/auth.js';
import type { AuthInfo, JsonObject } from '../protocol/types.js';
import type { Challenges } from './challenges.js';

/** What the scope middleware reads of a request (a subset of the server's route context). */
export interface ScopeContext {
  readonly method: string;
  readonly params: JsonObject;
  readonly authInfo?: AuthInfo;
}

/** Middleware in the shape `server.use()` takes. */
export type ScopeMiddleware = (ctx: ScopeContext, next: () => Promise<JsonObject>) => Promise<JsonObject>;

/** Options shared by {@link requireScopes} and {@link toolScopes}. */
export interface ScopeCheckOptions {
  /** The resource server whose challenges (with `resource_metadata`) refusals carry. */
  resourceServer?: { readonly challenges: Challenges };
  /**
   * Let requests without any `authInfo` through (bindings without credentials, such as stdio, where
   * the spec has the server trust its environment). Default false: they are refused.
   */
  allowAnonymous?: boolean;
}

function refuse(
  options: ScopeCheckOptions,
  needed: readonly string[],
  granted: readonly string[],
): AuthError {
  if (options.resourceServer)
    return options.resourceServer.challenges.insufficientScope([...needed], granted);
  const description = `insufficient scope: needs ${needed.join(' ')}`;
  return new AuthError(403, description, {
    error: 'insufficient_scope',
    error_description: description,
    scope: [...new Set([...granted, ...needed])].join(' '),
  });
}

/** Scopes of `needed` the caller lacks; `undefined` when it may proceed. */
function missing(authInfo: AuthInfo | undefined, needed: readonly string[], options: ScopeCheckOptions) {
  if (!needed.length) return undefined;
  if (!authInfo) return options.allowAnonymous ? undefined : needed;
  const granted = authInfo.scopes ?? [];
  const lacking = needed.filter((s) => !granted.includes(s));
  return lacking.length ? lacking : undefined;
}

/**
 * Middleware that requires `scopes` (all of them) for every request, or for `methods` only.
 * @throws AuthError 403 `insufficient_scope` with `scope` = granted plus required scopes.
 */
export function requireScopes(
  scopes: readonly string[],
  options: ScopeCheckOptions & { methods?: readonly string[] } = {},
): ScopeMiddleware {
  const needed = [...scopes];
  const methods = options.methods ? new Set(options.methods) : undefined;
  return async (ctx, next) => {
    if ((!methods || methods.has(ctx.method)) && missing(ctx.authInfo, needed, options))
      throw refuse(options, needed, ctx.authInfo?.scopes ?? []);
    return next();
  };
}

/** Options of {@link toolScopes}. */
export interface ToolScopeOptions extends ScopeCheckOptions {
  /** Drop from `tools/list` results the tools the caller lacks scopes for. Default false. */
  hideUnauthorized?: boolean;
  /** Scopes per tool name, in addition to (and overriding) each tool's `scopes` configuration. */
  scopes?: Record<string, readonly string[]>;
}

/** What `toolScopes` reads of a server: its registered tools, by name (each with its `config`). */
export interface ToolSource {
  readonly tools: ReadonlyMap<string, object>;
}

/**
 * Per-tool scopes: a `tools/call` of a tool registered with `scopes` (or listed in
 * `options.scopes`) needs all of them; with `hideUnauthorized`, `tools/list` shows only the tools
 * the caller can call. Tools without scopes are open to every authenticated caller.
 * @throws AuthError 403 `insufficient_scope` naming the tool's scopes (plus those already granted).
 * @example
 * server.registerTool('delete', { scopes: ['files:write'] }, handler);
 * server.use(toolScopes(server, { resourceServer: auth, hideUnauthorized: true }));
 */
export function toolScopes(server: ToolSource, options: ToolScopeOptions = {}): ScopeMiddleware {
  const overrides = new Map(Object.entries(options.scopes ?? {}));
  const scopesOf = (name: string): readonly string[] => {
    const override = overrides.get(name);
    if (override) return override;
    const entry = server.tools.get(name) as { config?: { scopes?: unknown } } | undefined;
    const scopes = entry?.config?.scopes;
    return Array.isArray(scopes) ? scopes : [];
  };
  return async (ctx, next) => {
    if (ctx.method === 'tools/call') {
      const name = ctx.params.name;
      if (typeof name === 'string') {
        const needed = scopesOf(name);
        if (missing(ctx.authInfo, needed, options)) throw refuse(options, needed, ctx.authInfo?.scopes ?? []);
      }
      return next();
    }
    if (ctx.method === 'tools/list' && options.hideUnauthorized) {
      const result = await next();
      if (!Array.isArray(result.tools)) return result;
      const tools = result.tools.filter((tool) => {
        const name = (tool as { name?: unknown } | null)?.name;
        return typeof name !== 'string' || !missing(ctx.authInfo, scopesOf(name), options);
      });
      return { ...result, tools };
    }
    return next();
  };
}
