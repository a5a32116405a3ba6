/**
 * The built-in catalog methods of both eras: `server/discover`, `tools/list`, `tools/call`,
 * `resources/list`, `resources/templates/list`, `resources/read`, `prompts/list`, `prompts/get`,
 * `completion/complete` (server/tools, server/resources, server/prompts, server/utilities/completion,
 * 2026-07-28 server/discover). Registered in the method table like any user method.
 * @module
 */
import { ErrorCode, JsonRpcError } from '../../jsonrpc/errors.js';
import { META } from '../../protocol/constants.js';
import type { Era } from '../../protocol/eras.js';
import { supportedVersions } from '../../protocol/eras.js';
import type { JsonObject } from '../../protocol/types.js';
import type { HandlerContext } from '../context.js';
import type { ServerCore } from '../core.js';
import type { CacheableMethod } from '../options.js';
import { MAX_COMPLETION_VALUES } from '../options.js';
import { toPromptResult } from '../prompts.js';
import { parseUri, resourceListing, templateListing, toReadResult } from '../resources.js';
import { callTool } from '../tools.js';
import { invalidParams, isObject, nullProtoCopy, own } from './wire.js';

type Cap = 'tools' | 'resources' | 'prompts' | 'completions';

function requireCapability(core: ServerCore, era: Era, cap: Cap, method: string): void {
  if (!core.capabilities(era)[cap])
    throw new JsonRpcError(ErrorCode.MethodNotFound, `Method not found: ${method} (no ${cap} capability)`);
}

function withHints(core: ServerCore, method: CacheableMethod, era: Era, result: JsonObject): JsonObject {
  if (era === 'modern') {
    const h = core.cacheHints(method);
    result.ttlMs = h.ttlMs;
    result.cacheScope = h.cacheScope;
  }
  return result;
}

function paginate<T>(core: ServerCore, items: T[], cursor: unknown): { page: T[]; nextCursor?: string } {
  const size = core.pageSize;
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
  core: ServerCore,
  method: CacheableMethod,
  key: string,
  items: unknown[],
  params: JsonObject,
  era: Era,
): JsonObject {
  const { page, nextCursor } = paginate(core, items, params.cursor);
  const result: JsonObject = { [key]: page };
  if (nextCursor !== undefined) result.nextCursor = nextCursor;
  return withHints(core, method, era, result);
}

/** Registers the catalog methods of `core` in its method table. */
export function registerCatalogMethods(core: ServerCore): void {
  const { methods, registry } = core;

  methods.register('server/discover', (_params, ctx) => {
    // The 2025-11-25 tasks capability has no place in 2026-07-28 (tasks became an extension there).
    const { tasks: _legacyTasks, ...capabilities } = core.capabilities('modern');
    const result: JsonObject = { supportedVersions: [...supportedVersions(core)], capabilities };
    if (core.options.instructions !== undefined) result.instructions = core.options.instructions;
    result._meta = { [META.serverInfo]: core.info };
    return withHints(core, 'server/discover', ctx.era, result);
  });

  methods.register('tools/list', (params, ctx) => {
    requireCapability(core, ctx.era, 'tools', 'tools/list');
    const tools = [...registry.tools.values()].filter((t) => t.enabled).map((t) => t.listing);
    return listResult(core, 'tools/list', 'tools', tools, params, ctx.era);
  });

  methods.register('tools/call', async (params, ctx) => {
    requireCapability(core, ctx.era, 'tools', 'tools/call');
    if (typeof params.name !== 'string') throw invalidParams('Invalid params: name must be a string');
    const tool = registry.tools.get(params.name);
    if (!tool?.enabled)
      throw invalidParams(`Invalid params: unknown tool ${params.name}`, { name: params.name });
    return (await callTool(tool, params.arguments, ctx)) as JsonObject;
  });

  methods.register('resources/list', async (params, ctx) => {
    requireCapability(core, ctx.era, 'resources', 'resources/list');
    const list: unknown[] = [...registry.resources.values()].filter((r) => r.enabled).map(resourceListing);
    for (const t of registry.templates.values()) {
      if (t.enabled && t.template.list) list.push(...(await t.template.list(ctx)));
    }
    return listResult(core, 'resources/list', 'resources', list, params, ctx.era);
  });

  methods.register('resources/templates/list', (params, ctx) => {
    requireCapability(core, ctx.era, 'resources', 'resources/templates/list');
    const list = [...registry.templates.values()].filter((t) => t.enabled).map(templateListing);
    return listResult(core, 'resources/templates/list', 'resourceTemplates', list, params, ctx.era);
  });

  methods.register('resources/read', (params, ctx) => readResource(core, params, ctx));

  methods.register('prompts/list', (params, ctx) => {
    requireCapability(core, ctx.era, 'prompts', 'prompts/list');
    const prompts = [...registry.prompts.values()].filter((p) => p.enabled).map((p) => p.listing);
    return listResult(core, 'prompts/list', 'prompts', prompts, params, ctx.era);
  });

  methods.register('prompts/get', async (params, ctx) => {
    requireCapability(core, ctx.era, 'prompts', 'prompts/get');
    if (typeof params.name !== 'string') throw invalidParams('Invalid params: name must be a string');
    const prompt = registry.prompts.get(params.name);
    if (!prompt?.enabled)
      throw invalidParams(`Invalid params: unknown prompt ${params.name}`, { name: params.name });
    const raw = params.arguments ?? {};
    if (!isObject(raw)) throw invalidParams('Invalid params: arguments must be an object');
    for (const a of prompt.args) {
      if (a.required && own(raw, a.name) === undefined)
        throw invalidParams(`Invalid params: missing required argument ${a.name}`);
    }
    for (const [k, v] of Object.entries(raw)) {
      if (typeof v !== 'string') throw invalidParams(`Invalid params: argument ${k} must be a string`);
    }
    return toPromptResult(await prompt.handler(nullProtoCopy<string>(raw), ctx)) as JsonObject;
  });

  methods.register('completion/complete', (params) => complete(core, params));
}

async function readResource(core: ServerCore, params: JsonObject, ctx: HandlerContext): Promise<JsonObject> {
  const { registry } = core;
  requireCapability(core, ctx.era, 'resources', 'resources/read');
  const uri = params.uri;
  if (typeof uri !== 'string') throw invalidParams('Invalid params: uri must be a string');
  const stat = registry.resources.get(uri);
  if (stat?.enabled)
    return withHints(
      core,
      'resources/read',
      ctx.era,
      toReadResult(await stat.handler(parseUri(uri), ctx)) as JsonObject,
    );
  for (const t of registry.templates.values()) {
    if (!t.enabled) continue;
    const vars = t.template.uriTemplate.match(uri);
    if (vars)
      return withHints(
        core,
        'resources/read',
        ctx.era,
        toReadResult(await t.handler(parseUri(uri), vars, ctx)) as JsonObject,
      );
  }
  // 2026-07-28 (SEP-2164): -32602; earlier revisions: -32002. Both carry data.uri.
  if (ctx.era === 'modern') throw invalidParams(`Resource not found: ${uri}`, { uri });
  throw new JsonRpcError(ErrorCode.ResourceNotFound, `Resource not found: ${uri}`, { uri });
}

/** The `context.arguments` of a completion request: own string values only, in a null-prototype map. */
function completionContext(context: unknown): { arguments?: Record<string, string> } | undefined {
  if (!isObject(context)) return undefined;
  const args = own(context, 'arguments');
  if (!isObject(args)) return {};
  const clean = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(args)) if (typeof v === 'string') clean[k] = v;
  return { arguments: clean };
}

async function complete(core: ServerCore, params: JsonObject): Promise<JsonObject> {
  const { registry } = core;
  const ref = params.ref;
  const arg = params.argument;
  if (
    !isObject(ref) ||
    typeof ref.type !== 'string' ||
    !isObject(arg) ||
    typeof arg.name !== 'string' ||
    typeof arg.value !== 'string'
  ) {
    throw invalidParams('Invalid params: completion/complete needs ref and argument {name, value}');
  }
  const context = completionContext(params.context);
  let values: string[] = [];
  if (ref.type === 'ref/prompt') {
    const prompt = registry.prompts.get(String(ref.name));
    if (!prompt) throw invalidParams(`Invalid params: unknown prompt ${String(ref.name)}`);
    const completer = prompt.args.find((a) => a.name === arg.name)?.complete;
    if (completer) values = await completer(arg.value, context);
  } else if (ref.type === 'ref/resource') {
    const t = [...registry.templates.values()].find((x) => x.template.uriTemplate.template === ref.uri);
    if (!t && !registry.resources.has(String(ref.uri)))
      throw invalidParams(`Invalid params: unknown resource ${String(ref.uri)}`);
    const completer = t ? own(t.template.complete, arg.name) : undefined;
    if (typeof completer === 'function')
      values = await (completer as (v: string, c: typeof context) => string[] | Promise<string[]>)(
        arg.value,
        context,
      );
  } else throw invalidParams(`Invalid params: unknown reference type ${ref.type}`);
  const total = values.length;
  return {
    completion: {
      values: values.slice(0, MAX_COMPLETION_VALUES),
      total,
      hasMore: total > MAX_COMPLETION_VALUES,
    },
  };
}
