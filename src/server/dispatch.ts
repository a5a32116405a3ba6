/**
 * Request dispatch for both eras on any binding. Each inbound request is classified by its own
 * `_meta` (2026-07-28 basic/versioning; digest section 11): a protocol-version claim means modern
 * and is served statelessly; no claim means legacy and needs an initialized session.
 * @module
 */
import { ErrorCode, JsonRpcError } from '../jsonrpc/errors.js';
import type { JsonRpcNotification, JsonRpcRequest } from '../jsonrpc/types.js';
import { isModernVersion, LOG_LEVELS, META, MRTR_METHODS, REMOVED_IN_MODERN } from '../protocol/constants.js';
import { supportedVersions } from '../protocol/eras.js';
import { digest, openState, sealState } from '../protocol/request-state.js';
import type { ClientCapabilities, JsonObject } from '../protocol/types.js';
import type { HandlerContext, LegacySession, RequestInfo, RequestScope } from './context.js';
import { createHandlerContext, InputCollector } from './context.js';
import { grantFilter, ListenSubscription } from './listen.js';
import type { CacheableMethod, McpServer } from './mcp-server.js';
import { toPromptResult } from './prompts.js';
import { parseUri, resourceListing, templateListing, toReadResult } from './resources.js';
import { callTool } from './tools.js';

const invalidParams = (message: string, data?: unknown) =>
  new JsonRpcError(ErrorCode.InvalidParams, message, data);

export { supportedVersions } from '../protocol/eras.js';

/**
 * Dispatches one request and resolves to its result.
 * @throws JsonRpcError with the spec's code for every protocol-level failure
 */
export async function dispatchRequest(
  server: McpServer,
  request: JsonRpcRequest,
  scope: RequestScope,
): Promise<JsonObject> {
  if (Array.isArray(request.params)) throw invalidParams('Invalid params: MCP params must be an object');
  const params = (request.params ?? {}) as JsonObject;
  const meta = params._meta as JsonObject | undefined;
  if (meta !== undefined && (typeof meta !== 'object' || meta === null))
    throw invalidParams('Invalid params: _meta must be an object');
  const claimed = meta?.[META.protocolVersion];
  if (claimed !== undefined) return dispatchModern(server, request, params, meta!, claimed, scope);
  return dispatchLegacy(server, request, params, scope);
}

// --------------------------------------------------------------------------------------------- modern

async function dispatchModern(
  server: McpServer,
  request: JsonRpcRequest,
  params: JsonObject,
  meta: JsonObject,
  claimed: unknown,
  scope: RequestScope,
): Promise<JsonObject> {
  if (typeof claimed !== 'string')
    throw invalidParams(`Invalid params: _meta["${META.protocolVersion}"] must be a string`);
  if (!isModernVersion(claimed) || !supportedVersions(server).includes(claimed)) {
    throw new JsonRpcError(ErrorCode.UnsupportedProtocolVersion, 'Unsupported protocol version', {
      supported: [...supportedVersions(server)],
      requested: claimed,
    });
  }
  const caps = meta[META.clientCapabilities];
  if (typeof caps !== 'object' || caps === null || Array.isArray(caps)) {
    throw invalidParams(`Invalid params: missing required _meta field "${META.clientCapabilities}"`);
  }
  const method = request.method;
  if (REMOVED_IN_MODERN.has(method)) {
    throw new JsonRpcError(
      ErrorCode.MethodNotFound,
      `Method not found: ${method} is not part of protocol revision ${claimed}`,
    );
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
  const result = MRTR_METHODS.has(method)
    ? await runWithInputs(server, request, params, scope, info)
    : await route(server, method, params, scope, info, createHandlerContext(scope, info));
  if (result.resultType === undefined) result.resultType = 'complete';
  const resultMeta = result._meta as JsonObject | undefined;
  result._meta = resultMeta
    ? { ...resultMeta, [META.serverInfo]: server.info }
    : { [META.serverInfo]: server.info };
  return result;
}

/** Runs an MRTR-capable method; returns `input_required` when the handler asked for client input. */
async function runWithInputs(
  server: McpServer,
  request: JsonRpcRequest,
  params: JsonObject,
  scope: RequestScope,
  info: RequestInfo,
): Promise<JsonObject> {
  const opts = server.options.requestState ?? {};
  const principal = scope.context.authInfo?.subject ?? scope.context.authInfo?.clientId ?? '';
  const requestDigest = () =>
    digest(
      canonicalJson([
        request.method,
        request.method === 'resources/read' ? params.uri : params.name,
        params.arguments ?? null,
      ]),
    );
  let responses: Record<string, unknown> = {};
  let round = 0;
  let dig: string | undefined;
  const state = params.requestState;
  if (state !== undefined) {
    if (typeof state !== 'string') throw invalidParams('Invalid params: requestState must be a string');
    dig = await requestDigest();
    const opened = await openState(server.keyRing, state, { sub: principal, dig });
    if (!opened.ok) throw invalidParams(`Invalid params: requestState rejected (${opened.why})`);
    responses = { ...(opened.payload.data.responses as Record<string, unknown>) };
    round = Number(opened.payload.data.round) || 0;
  }
  const fresh = params.inputResponses;
  if (fresh !== undefined) {
    if (typeof fresh !== 'object' || fresh === null || Array.isArray(fresh)) {
      throw invalidParams('Invalid params: inputResponses must be an object');
    }
    Object.assign(responses, fresh);
  }
  const inputs = new InputCollector(responses);
  const work = route(server, request.method, params, scope, info, createHandlerContext(scope, info, inputs));
  const done = await new Promise<JsonObject | undefined>((resolve, reject) => {
    work.then(resolve, reject);
    inputs.onneeded = () => resolve(undefined);
  });
  if (done) return done;
  work.catch(() => {}); // the abandoned run never settles; keep stray rejections quiet
  if (round + 1 > (opts.maxRounds ?? 8)) {
    throw new JsonRpcError(ErrorCode.InternalError, 'Internal error: too many input rounds for one request');
  }
  const requestState = await sealState(server.keyRing, {
    exp: Date.now() + (opts.ttlMs ?? 600_000),
    sub: principal,
    dig: dig ?? (await requestDigest()),
    data: { responses, round: round + 1 },
  });
  return { resultType: 'input_required', inputRequests: { ...inputs.pending }, requestState };
}

/** JSON with sorted keys, so equal params digest equally whatever their key order. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as JsonObject;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

// --------------------------------------------------------------------------------------------- legacy

function negotiate(server: McpServer, requested: unknown): string | undefined {
  const legacy = supportedVersions(server).filter((v) => !isModernVersion(v));
  if (legacy.length === 0) return undefined;
  return typeof requested === 'string' && legacy.includes(requested) ? requested : legacy[0];
}

async function dispatchLegacy(
  server: McpServer,
  request: JsonRpcRequest,
  params: JsonObject,
  scope: RequestScope,
): Promise<JsonObject> {
  const method = request.method;
  const session = scope.session;
  if (method === 'initialize') {
    if (!session)
      throw new JsonRpcError(
        ErrorCode.InvalidRequest,
        'Invalid Request: this binding has no legacy sessions',
      );
    const version = negotiate(server, params.protocolVersion);
    if (version === undefined) {
      // A modern-only server names its versions in the error (2026-07-28 basic/versioning).
      throw new JsonRpcError(ErrorCode.UnsupportedProtocolVersion, 'Unsupported protocol version', {
        supported: [...supportedVersions(server)],
        requested: params.protocolVersion,
      });
    }
    if (typeof params.capabilities !== 'object' || params.capabilities === null) {
      throw invalidParams('Invalid params: initialize needs a capabilities object');
    }
    session.protocolVersion = version;
    session.clientCapabilities = params.capabilities as ClientCapabilities;
    session.clientInfo = params.clientInfo as LegacySession['clientInfo'];
    server.sessions.add(session);
    const result: JsonObject = {
      protocolVersion: version,
      capabilities: server.capabilities,
      serverInfo: server.info,
    };
    if (server.options.instructions !== undefined) result.instructions = server.options.instructions;
    return result;
  }
  if (method === 'ping') return {};
  if ((server.options.eras ?? 'both') === 'modern') {
    throw invalidParams(`Invalid params: missing required _meta field "${META.protocolVersion}"`);
  }
  if (!session?.protocolVersion) {
    throw new JsonRpcError(
      ErrorCode.InvalidRequest,
      `Invalid Request: server not initialized; send initialize first, or put "${META.protocolVersion}" in params._meta`,
    );
  }
  const info: RequestInfo = {
    era: 'legacy',
    protocolVersion: session.protocolVersion,
    clientCapabilities: session.clientCapabilities,
    clientInfo: session.clientInfo,
    logLevel: session.logLevel,
    meta: params._meta as JsonObject | undefined,
  };
  const tasks = server.taskRunner;
  const owner = session.id ?? scope.context.authInfo?.subject;
  switch (method) {
    case 'tasks/get':
    case 'tasks/result':
    case 'tasks/list':
    case 'tasks/cancel': {
      if (!tasks)
        throw new JsonRpcError(ErrorCode.MethodNotFound, `Method not found: ${method} (no tasks capability)`);
      if (method === 'tasks/get') return tasks.get(params, owner);
      if (method === 'tasks/result') return tasks.result(params, owner, scope.call.signal);
      if (method === 'tasks/list') return tasks.list(owner);
      return tasks.cancel(params, owner);
    }
    case 'tools/call': {
      const tool = typeof params.name === 'string' ? server.tools.get(params.name) : undefined;
      const support =
        (tool?.config.execution as { taskSupport?: string } | undefined)?.taskSupport ?? 'forbidden';
      if (params.task !== undefined && tasks && tool?.enabled) {
        if (support === 'forbidden') {
          throw new JsonRpcError(
            ErrorCode.MethodNotFound,
            `Method not found: tool ${tool.name} does not support task-augmented execution`,
          );
        }
        // The task outlives this request: give it its own call, cancelled only by tasks/cancel.
        return tasks.start(
          (params.task as JsonObject | null)?.ttl,
          owner,
          (call) =>
            callTool(
              tool,
              params.arguments,
              createHandlerContext({ ...scope, call }, info),
            ) as Promise<JsonObject>,
        );
      }
      if (support === 'required' && tasks) {
        throw new JsonRpcError(
          ErrorCode.MethodNotFound,
          `Method not found: tool ${params.name} must be called as a task`,
        );
      }
      break;
    }
    case 'logging/setLevel': {
      if (!(LOG_LEVELS as readonly unknown[]).includes(params.level)) {
        throw invalidParams(`Invalid params: unknown log level ${JSON.stringify(params.level)}`);
      }
      session.logLevel = params.level as string;
      return {};
    }
    case 'resources/subscribe':
    case 'resources/unsubscribe': {
      requireCapability(server, 'resources', method);
      if (typeof params.uri !== 'string') throw invalidParams('Invalid params: uri must be a string');
      if (method === 'resources/subscribe') session.subscriptions.add(params.uri);
      else session.subscriptions.delete(params.uri);
      return {};
    }
  }
  return route(server, method, params, scope, info, createHandlerContext(scope, info));
}

/** Handles a client notification that the peer layer did not consume. */
export function handleClientNotification(
  server: McpServer,
  n: JsonRpcNotification,
  session: LegacySession | undefined,
): void {
  if (n.method === 'notifications/roots/list_changed' && session)
    server.options.onRootsListChanged?.(session);
}

// --------------------------------------------------------------------------------------------- shared

function requireCapability(
  server: McpServer,
  cap: 'tools' | 'resources' | 'prompts' | 'completions',
  method: string,
): void {
  if (!server.capabilities[cap])
    throw new JsonRpcError(ErrorCode.MethodNotFound, `Method not found: ${method} (no ${cap} capability)`);
}

function withHints(
  server: McpServer,
  method: CacheableMethod,
  info: RequestInfo,
  result: JsonObject,
): JsonObject {
  if (info.era === 'modern') {
    const h = server.cacheHints(method);
    result.ttlMs = h.ttlMs;
    result.cacheScope = h.cacheScope;
  }
  return result;
}

function paginate<T>(server: McpServer, items: T[], cursor: unknown): { page: T[]; nextCursor?: string } {
  const size = server.options.pageSize ?? 100;
  let start = 0;
  if (cursor !== undefined) {
    const n = typeof cursor === 'string' && /^\d+$/.test(cursor) ? Number(cursor) : Number.NaN;
    if (!Number.isSafeInteger(n) || n > items.length) throw invalidParams('Invalid params: invalid cursor');
    start = n;
  }
  const page = items.slice(start, start + size);
  return start + size < items.length ? { page, nextCursor: String(start + size) } : { page };
}

function listResult(
  server: McpServer,
  method: CacheableMethod,
  key: string,
  items: unknown[],
  params: JsonObject,
  info: RequestInfo,
): JsonObject {
  const { page, nextCursor } = paginate(server, items, params.cursor);
  const result: JsonObject = { [key]: page };
  if (nextCursor !== undefined) result.nextCursor = nextCursor;
  return withHints(server, method, info, result);
}

async function route(
  server: McpServer,
  method: string,
  params: JsonObject,
  scope: RequestScope,
  info: RequestInfo,
  ctx: HandlerContext,
): Promise<JsonObject> {
  switch (method) {
    case 'server/discover': {
      // The 2025-11-25 tasks capability has no place in 2026-07-28 (tasks became an extension there).
      const { tasks: _legacyTasks, ...capabilities } = server.capabilities;
      const result: JsonObject = { supportedVersions: [...supportedVersions(server)], capabilities };
      if (server.options.instructions !== undefined) result.instructions = server.options.instructions;
      result._meta = { [META.serverInfo]: server.info };
      return withHints(server, 'server/discover', info, result);
    }
    case 'tools/list': {
      requireCapability(server, 'tools', method);
      const tools = [...server.tools.values()].filter((t) => t.enabled).map((t) => t.listing);
      return listResult(server, 'tools/list', 'tools', tools, params, info);
    }
    case 'tools/call': {
      requireCapability(server, 'tools', method);
      if (typeof params.name !== 'string') throw invalidParams('Invalid params: name must be a string');
      const tool = server.tools.get(params.name);
      if (!tool?.enabled)
        throw invalidParams(`Invalid params: unknown tool ${params.name}`, { name: params.name });
      return (await callTool(tool, params.arguments, ctx)) as JsonObject;
    }
    case 'resources/list': {
      requireCapability(server, 'resources', method);
      const list: unknown[] = [...server.resources.values()].filter((r) => r.enabled).map(resourceListing);
      for (const t of server.templates.values()) {
        if (t.enabled && t.template.list) list.push(...(await t.template.list(ctx)));
      }
      return listResult(server, 'resources/list', 'resources', list, params, info);
    }
    case 'resources/templates/list': {
      requireCapability(server, 'resources', method);
      const list = [...server.templates.values()].filter((t) => t.enabled).map(templateListing);
      return listResult(server, 'resources/templates/list', 'resourceTemplates', list, params, info);
    }
    case 'resources/read': {
      requireCapability(server, 'resources', method);
      const uri = params.uri;
      if (typeof uri !== 'string') throw invalidParams('Invalid params: uri must be a string');
      const stat = server.resources.get(uri);
      if (stat?.enabled)
        return withHints(
          server,
          'resources/read',
          info,
          toReadResult(await stat.handler(parseUri(uri), ctx)) as JsonObject,
        );
      for (const t of server.templates.values()) {
        if (!t.enabled) continue;
        const vars = t.template.uriTemplate.match(uri);
        if (vars)
          return withHints(
            server,
            'resources/read',
            info,
            toReadResult(await t.handler(parseUri(uri), vars, ctx)) as JsonObject,
          );
      }
      // 2026-07-28 (SEP-2164): -32602; earlier revisions: -32002. Both carry data.uri.
      if (info.era === 'modern') throw invalidParams(`Resource not found: ${uri}`, { uri });
      throw new JsonRpcError(ErrorCode.ResourceNotFound, `Resource not found: ${uri}`, { uri });
    }
    case 'prompts/list': {
      requireCapability(server, 'prompts', method);
      const prompts = [...server.prompts.values()].filter((p) => p.enabled).map((p) => p.listing);
      return listResult(server, 'prompts/list', 'prompts', prompts, params, info);
    }
    case 'prompts/get': {
      requireCapability(server, 'prompts', method);
      if (typeof params.name !== 'string') throw invalidParams('Invalid params: name must be a string');
      const prompt = server.prompts.get(params.name);
      if (!prompt?.enabled)
        throw invalidParams(`Invalid params: unknown prompt ${params.name}`, { name: params.name });
      const args = (params.arguments ?? {}) as Record<string, unknown>;
      if (typeof args !== 'object' || args === null || Array.isArray(args))
        throw invalidParams('Invalid params: arguments must be an object');
      for (const a of prompt.args) {
        if (a.required && args[a.name] === undefined)
          throw invalidParams(`Invalid params: missing required argument ${a.name}`);
      }
      for (const [k, v] of Object.entries(args)) {
        if (typeof v !== 'string') throw invalidParams(`Invalid params: argument ${k} must be a string`);
      }
      return toPromptResult(await prompt.handler(args as Record<string, string>, ctx)) as JsonObject;
    }
    case 'completion/complete':
      return complete(server, params);
    case 'subscriptions/listen': {
      if (info.era !== 'modern')
        throw new JsonRpcError(
          ErrorCode.MethodNotFound,
          'Method not found: subscriptions/listen needs protocol revision 2026-07-28',
        );
      return listen(server, params, scope);
    }
  }
  const custom = server.customHandlers.get(method);
  if (custom) return custom(params, ctx);
  throw new JsonRpcError(ErrorCode.MethodNotFound, `Method not found: ${method}`);
}

async function complete(server: McpServer, params: JsonObject): Promise<JsonObject> {
  const ref = params.ref as JsonObject | undefined;
  const arg = params.argument as JsonObject | undefined;
  if (
    !ref ||
    typeof ref.type !== 'string' ||
    !arg ||
    typeof arg.name !== 'string' ||
    typeof arg.value !== 'string'
  ) {
    throw invalidParams('Invalid params: completion/complete needs ref and argument {name, value}');
  }
  const context = params.context as { arguments?: Record<string, string> } | undefined;
  let values: string[] = [];
  if (ref.type === 'ref/prompt') {
    const prompt = server.prompts.get(String(ref.name));
    if (!prompt) throw invalidParams(`Invalid params: unknown prompt ${String(ref.name)}`);
    const completer = prompt.args.find((a) => a.name === arg.name)?.complete;
    if (completer) values = await completer(arg.value, context);
  } else if (ref.type === 'ref/resource') {
    const t = [...server.templates.values()].find((x) => x.template.uriTemplate.template === ref.uri);
    if (!t && !server.resources.has(String(ref.uri)))
      throw invalidParams(`Invalid params: unknown resource ${String(ref.uri)}`);
    const completer = t?.template.complete[arg.name];
    if (completer) values = await completer(arg.value, context);
  } else throw invalidParams(`Invalid params: unknown reference type ${ref.type}`);
  const total = values.length;
  return { completion: { values: values.slice(0, 100), total, hasMore: total > 100 } };
}

async function listen(server: McpServer, params: JsonObject, scope: RequestScope): Promise<JsonObject> {
  const requested = (params.notifications ?? {}) as JsonObject;
  if (typeof requested !== 'object' || requested === null || Array.isArray(requested)) {
    throw invalidParams('Invalid params: notifications must be an object');
  }
  const granted = grantFilter(requested, server.capabilities);
  const sub = new ListenSubscription(scope.call.id, granted, (m, p) => scope.notify(m, p));
  await sub.send('notifications/subscriptions/acknowledged', { notifications: granted });
  server.listens.add(sub);
  try {
    await new Promise<void>((resolve) => {
      sub.ended.then(resolve);
      const signal = scope.call.signal;
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    server.listens.delete(sub);
    sub.end();
  }
  return { resultType: 'complete', _meta: { [META.subscriptionId]: scope.call.id } };
}
