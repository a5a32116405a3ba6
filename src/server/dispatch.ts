/**
 * Request dispatch for both eras on any binding. Each inbound request is classified by its own
 * `_meta` (2026-07-28 basic/versioning; digest section 11): a protocol-version claim means modern
 * and is served statelessly; no claim means legacy and needs an initialized session. After the
 * era's checks, the request runs through the middleware chain to its method in the method table.
 * @module
 */
import { ErrorCode, JsonRpcError } from '../jsonrpc/errors.js';
import type { JsonRpcNotification, JsonRpcRequest } from '../jsonrpc/types.js';
import { isModernVersion, LOG_LEVELS, META, MRTR_METHODS, REMOVED_IN_MODERN } from '../protocol/constants.js';
import type { Era } from '../protocol/eras.js';
import { supportedVersions } from '../protocol/eras.js';
import type { ClientCapabilities, JsonObject } from '../protocol/types.js';
import type { LegacySession, RequestInfo, RequestScope } from './context.js';
import { createHandlerContext } from './context.js';
import type { ServerCore } from './core.js';
import { invalidParams } from './methods/wire.js';
import { runWithInputs } from './mrtr.js';
import { createRouteContext, runChain } from './router.js';
import { observeServerRequest, telemetryActive } from '../telemetry/observe.js';

/** Methods a legacy client may send before `initialize` completes (basic/lifecycle). */
const BEFORE_INITIALIZE: ReadonlySet<string> = new Set(['initialize', 'ping']);

/**
 * Dispatches one request and resolves to its result. With an OpenTelemetry SDK installed, the
 * request runs inside a SERVER span (parent from its `_meta` trace context) and is measured
 * (src/telemetry); without one, that costs two identity checks.
 * @throws JsonRpcError with the spec's code for every protocol-level failure; an `AuthError` thrown
 * by middleware propagates unchanged (the binding maps it)
 */
export function dispatchRequest(
  core: ServerCore,
  request: JsonRpcRequest,
  scope: RequestScope,
): Promise<JsonObject> {
  if (!telemetryActive()) return dispatch(core, request, scope);
  const params = request.params as JsonObject | undefined;
  const claimed = (params?._meta as JsonObject | undefined)?.[META.protocolVersion];
  const session = scope.session;
  return observeServerRequest(
    {
      era: claimed !== undefined ? 'modern' : 'legacy',
      method: request.method,
      params: Array.isArray(params) ? undefined : params,
      id: request.id,
      binding: scope.context.binding,
      protocolVersion: typeof claimed === 'string' ? claimed : session?.protocolVersion,
      sessionId: claimed !== undefined ? undefined : (session?.id ?? scope.context.sessionId),
      trace: scope.context.trace,
    },
    () => dispatch(core, request, scope),
  );
}

function dispatch(core: ServerCore, request: JsonRpcRequest, scope: RequestScope): Promise<JsonObject> {
  if (Array.isArray(request.params))
    return Promise.reject(invalidParams('Invalid params: MCP params must be an object'));
  const params = (request.params ?? {}) as JsonObject;
  const meta = params._meta as JsonObject | undefined;
  if (meta !== undefined && (typeof meta !== 'object' || meta === null))
    return Promise.reject(invalidParams('Invalid params: _meta must be an object'));
  const claimed = meta?.[META.protocolVersion];
  try {
    if (claimed !== undefined) return dispatchModern(core, request, params, meta!, claimed, scope);
    return dispatchLegacy(core, request, params, scope);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Runs the method of `request` in `era`, inside the middleware chain when there is one. */
function invoke(
  core: ServerCore,
  era: Era,
  request: JsonRpcRequest,
  params: JsonObject,
  scope: RequestScope,
  info: RequestInfo,
): Promise<JsonObject> {
  const method = request.method;
  const terminal = (): Promise<JsonObject> => {
    const handler =
      era === 'modern' && REMOVED_IN_MODERN.has(method) ? undefined : core.methods.lookup(method, era);
    if (!handler) {
      const message =
        era === 'modern' && REMOVED_IN_MODERN.has(method)
          ? `Method not found: ${method} is not part of protocol revision ${info.protocolVersion}`
          : `Method not found: ${method}`;
      return Promise.reject(new JsonRpcError(ErrorCode.MethodNotFound, message));
    }
    if (era === 'modern' && MRTR_METHODS.has(method))
      return runWithInputs(core, request, params, scope, info, (ctx) => handler(params, ctx));
    return handler(params, createHandlerContext(scope, info));
  };
  const chain = core.middleware;
  if (chain.length === 0) return terminal();
  return runChain(chain, createRouteContext(era, method, params, scope), terminal);
}

// --------------------------------------------------------------------------------------------- modern

async function dispatchModern(
  core: ServerCore,
  request: JsonRpcRequest,
  params: JsonObject,
  meta: JsonObject,
  claimed: unknown,
  scope: RequestScope,
): Promise<JsonObject> {
  if (typeof claimed !== 'string')
    throw invalidParams(`Invalid params: _meta["${META.protocolVersion}"] must be a string`);
  if (!isModernVersion(claimed) || !supportedVersions(core).includes(claimed)) {
    throw new JsonRpcError(ErrorCode.UnsupportedProtocolVersion, 'Unsupported protocol version', {
      supported: [...supportedVersions(core)],
      requested: claimed,
    });
  }
  const caps = meta[META.clientCapabilities];
  if (typeof caps !== 'object' || caps === null || Array.isArray(caps)) {
    throw invalidParams(`Invalid params: missing required _meta field "${META.clientCapabilities}"`);
  }
  const logLevel = meta[META.logLevel];
  if (logLevel !== undefined && !(LOG_LEVELS as readonly unknown[]).includes(logLevel)) {
    throw invalidParams(`Invalid params: unknown log level ${JSON.stringify(logLevel)}`);
  }
  const info: RequestInfo = {
    era: 'modern',
    protocolVersion: claimed,
    clientCapabilities: caps as ClientCapabilities,
    clientInfo: meta[META.clientInfo] as RequestInfo['clientInfo'],
    logLevel: logLevel as string | undefined,
    meta,
  };
  const result = await invoke(core, 'modern', request, params, scope, info);
  if (result.resultType === undefined) result.resultType = 'complete';
  const resultMeta = result._meta as JsonObject | undefined;
  result._meta = resultMeta
    ? { ...resultMeta, [META.serverInfo]: core.info }
    : { [META.serverInfo]: core.info };
  return result;
}

// --------------------------------------------------------------------------------------------- legacy

function dispatchLegacy(
  core: ServerCore,
  request: JsonRpcRequest,
  params: JsonObject,
  scope: RequestScope,
): Promise<JsonObject> {
  const method = request.method;
  const session = scope.session;
  if (!BEFORE_INITIALIZE.has(method)) {
    if ((core.options.eras ?? 'both') === 'modern') {
      throw invalidParams(`Invalid params: missing required _meta field "${META.protocolVersion}"`);
    }
    if (!session?.protocolVersion) {
      throw new JsonRpcError(
        ErrorCode.InvalidRequest,
        `Invalid Request: server not initialized; send initialize first, or put "${META.protocolVersion}" in params._meta`,
      );
    }
  }
  const info: RequestInfo = {
    era: 'legacy',
    protocolVersion: session?.protocolVersion ?? '',
    clientCapabilities: session?.clientCapabilities ?? {},
    clientInfo: session?.clientInfo,
    logLevel: session?.logLevel,
    meta: params._meta as JsonObject | undefined,
  };
  return invoke(core, 'legacy', request, params, scope, info);
}

/** Handles a client notification that the peer layer did not consume. */
export function handleClientNotification(
  core: ServerCore,
  n: JsonRpcNotification,
  session: LegacySession | undefined,
): void {
  if (n.method === 'notifications/roots/list_changed' && session) core.options.onRootsListChanged?.(session);
}
