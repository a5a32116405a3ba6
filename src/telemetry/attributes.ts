/**
 * Span names and attributes of the OpenTelemetry semantic conventions for MCP (gen-ai/mcp.md,
 * status Development): `{mcp.method.name} {target}` names, `mcp.*`, `gen_ai.*`, `jsonrpc.*`,
 * `network.*` and `error.type`, plus three `anywire.*` attributes the conventions have no key for
 * (binding, era, task id). Pure functions; no I/O.
 * @module
 */
import type { Attributes } from '@opentelemetry/api';
import { AUTH_ERROR_CODE, AuthError } from '../protocol/auth.js';
import type { JsonObject } from '../protocol/types.js';

/** Attribute keys. */
export const ATTR = {
  method: 'mcp.method.name',
  protocolVersion: 'mcp.protocol.version',
  sessionId: 'mcp.session.id',
  resourceUri: 'mcp.resource.uri',
  toolName: 'gen_ai.tool.name',
  promptName: 'gen_ai.prompt.name',
  operation: 'gen_ai.operation.name',
  requestId: 'jsonrpc.request.id',
  errorType: 'error.type',
  statusCode: 'rpc.response.status_code',
  networkTransport: 'network.transport',
  networkProtocol: 'network.protocol.name',
  networkProtocolVersion: 'network.protocol.version',
  /** The anywire binding: `stdio`, `http`, `websocket`, `grpc`, `mqtt`, `tcp`, `unix`, `tls`, `in-memory`. */
  binding: 'anywire.binding',
  /** `legacy` (sessions, 2024-11-05 … 2025-11-25) or `modern` (2026-07-28, stateless). */
  era: 'anywire.era',
  /** The task a request reads, updates or cancels, or the task a `tools/call` created. */
  taskId: 'anywire.task.id',
} as const;

/** Longest tool or prompt name put in a span name; longer ones are cut (names come from the wire). */
const MAX_TARGET_CHARS = 128;

/** The network attributes of each binding ("Recording MCP transport" in the conventions). */
const NETWORK: Record<string, Attributes> = {
  stdio: { [ATTR.networkTransport]: 'pipe' },
  http: { [ATTR.networkTransport]: 'tcp', [ATTR.networkProtocol]: 'http' },
  websocket: { [ATTR.networkTransport]: 'tcp', [ATTR.networkProtocol]: 'websocket' },
  grpc: {
    [ATTR.networkTransport]: 'tcp',
    [ATTR.networkProtocol]: 'http',
    [ATTR.networkProtocolVersion]: '2',
  },
  mqtt: { [ATTR.networkTransport]: 'tcp', [ATTR.networkProtocol]: 'mqtt' },
  tcp: { [ATTR.networkTransport]: 'tcp' },
  tls: { [ATTR.networkTransport]: 'tcp', [ATTR.networkProtocol]: 'tls' },
  unix: { [ATTR.networkTransport]: 'unix' },
};

/** Adds the binding and its network attributes to `into`. */
export function addBinding(into: Attributes, binding: string | undefined): void {
  if (binding === undefined) return;
  into[ATTR.binding] = binding;
  const net = Object.prototype.hasOwnProperty.call(NETWORK, binding) ? NETWORK[binding] : undefined;
  if (net) Object.assign(into, net);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * The span name of a request and the attributes its params give: `tools/call {tool}` with
 * `gen_ai.tool.name` and `gen_ai.operation.name = execute_tool`; `prompts/get {prompt}` with
 * `gen_ai.prompt.name`; `mcp.resource.uri` for resource methods (kept out of the name: high
 * cardinality); `anywire.task.id` for `tasks/*`. Other methods are named by the method alone.
 */
export function describeRequest(method: string, params: JsonObject | undefined, into: Attributes): string {
  into[ATTR.method] = method;
  switch (method) {
    case 'tools/call': {
      const name = str(params?.name);
      into[ATTR.operation] = 'execute_tool';
      if (name === undefined) return method;
      into[ATTR.toolName] = name;
      return `${method} ${name.slice(0, MAX_TARGET_CHARS)}`;
    }
    case 'prompts/get': {
      const name = str(params?.name);
      if (name === undefined) return method;
      into[ATTR.promptName] = name;
      return `${method} ${name.slice(0, MAX_TARGET_CHARS)}`;
    }
    case 'resources/read':
    case 'resources/subscribe':
    case 'resources/unsubscribe': {
      const uri = str(params?.uri);
      if (uri !== undefined) into[ATTR.resourceUri] = uri;
      return method;
    }
    case 'tasks/get':
    case 'tasks/update':
    case 'tasks/cancel':
    case 'tasks/result': {
      const id = str(params?.taskId);
      if (id !== undefined) into[ATTR.taskId] = id;
      return method;
    }
    default:
      return method;
  }
}

/** What the outcome of a request adds: the task a `tools/call` created, a tool error. */
export interface Outcome {
  /** `error.type` (and the span's ERROR status) when set. */
  errorType?: string;
  /** The span status message (the JSON-RPC error message). */
  message?: string;
  /** `rpc.response.status_code`: the JSON-RPC error code. */
  statusCode?: string;
}

/** The outcome of a result: `tool_error` for `isError: true`; the created task's id goes into `into`. */
export function resultOutcome(result: JsonObject, into: Attributes): Outcome | undefined {
  if (result.resultType === 'task') {
    const id = str(result.taskId) ?? str((result.task as JsonObject | undefined)?.taskId);
    if (id !== undefined) into[ATTR.taskId] = id;
  }
  return result.isError === true ? { errorType: 'tool_error' } : undefined;
}

/**
 * The outcome of a failure. A numeric `code` (JsonRpcError) is the JSON-RPC code; an AuthError is
 * {@link AUTH_ERROR_CODE}; a string `code` (McpError: `REQUEST_TIMEOUT`, `CONNECTION_CLOSED`, ...)
 * is used as is. Anything else is `-32603` on a server (what goes on the wire), the error's name
 * on a client.
 */
export function errorOutcome(error: unknown, side: 'server' | 'client'): Outcome {
  const m = (error as { message?: unknown } | null)?.message;
  const message = typeof m === 'string' ? m : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'number') return { errorType: String(code), statusCode: String(code), message };
  if (error instanceof AuthError) {
    const c = String(AUTH_ERROR_CODE);
    return { errorType: c, statusCode: c, message };
  }
  if (typeof code === 'string') return { errorType: code, message };
  if (side === 'server') return { errorType: '-32603', statusCode: '-32603', message };
  return { errorType: error instanceof Error ? error.name || '_OTHER' : '_OTHER', message };
}
