/**
 * Inbound helpers of the Streamable HTTP client: turning a JSON body or SSE event into JSON-RPC
 * messages, and the `tools/list` filter that learns each tool's `Mcp-Param-*` header declarations
 * (2026-07-28 streamable-http "Schema Extension"). Internal to `StreamableHttpClientTransport`.
 * @module
 */
import { validateValue } from '../../jsonrpc/parse.js';
import type { JsonRpcMessage, JsonRpcResponse } from '../../jsonrpc/types.js';
import { McpError } from '../../protocol/errors.js';
import type { ParamHeaderDeclaration } from './client-headers.js';
import { scanToolHeaders } from './client-headers.js';

/**
 * Parses a body or event into messages; `undefined` when it is not JSON-RPC at all. Invalid
 * members of a batch are dropped and reported through `onerror`.
 */
export function parseMessages(text: string, onerror: (error: Error) => void): JsonRpcMessage[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = validateValue(value);
  if (!parsed.ok) return undefined;
  if ('message' in parsed) return [parsed.message];
  for (const e of parsed.errors)
    onerror(new McpError('PROTOCOL_ERROR', `ignored an invalid message in a batch: ${e.error.message}`));
  return parsed.batch;
}

/** The `x-mcp-header` declarations of the tools seen in modern `tools/list` results, by tool name. */
export class ToolHeaderCache {
  readonly #declarations = new Map<string, readonly ParamHeaderDeclaration[]>();

  /** The declarations of tool `name`, if it has any. */
  get(name: string): readonly ParamHeaderDeclaration[] | undefined {
    return this.#declarations.get(name);
  }

  /**
   * Drops tools whose `x-mcp-header` annotations are invalid (reporting each through `onerror`) and
   * remembers the declarations of the others (2026-07-28 streamable-http "Schema Extension": an
   * HTTP client MUST exclude them). Returns `response` itself when nothing was dropped.
   */
  filter(
    response: JsonRpcResponse & { result: Record<string, unknown> },
    onerror: (error: Error) => void,
  ): JsonRpcResponse {
    const tools = response.result.tools;
    if (!Array.isArray(tools)) return response;
    const kept: unknown[] = [];
    for (const tool of tools) {
      const name = (tool as { name?: unknown } | null)?.name;
      if (typeof name !== 'string') {
        kept.push(tool);
        continue;
      }
      const scan = scanToolHeaders((tool as { inputSchema?: unknown }).inputSchema);
      if (scan.ok) {
        if (scan.declarations.length > 0) this.#declarations.set(name, scan.declarations);
        else this.#declarations.delete(name);
        kept.push(tool);
      } else {
        this.#declarations.delete(name);
        onerror(new McpError('PROTOCOL_ERROR', `dropped tool "${name}" from tools/list: ${scan.reason}`));
      }
    }
    return kept.length === tools.length
      ? response
      : { ...response, result: { ...response.result, tools: kept } };
  }
}
