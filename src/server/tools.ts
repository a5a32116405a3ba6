/**
 * Registered tools: listing (`tools/list`) and calling (`tools/call`), with input validation and
 * execution errors reported as `isError: true` results (server/tools; SEP-1303).
 * @module
 */
import { JsonRpcError } from '../jsonrpc/errors.js';
import type {
  CallToolResult,
  ContentBlock,
  Icon,
  JsonObject,
  Meta,
  Tool,
  ToolAnnotations,
} from '../protocol/types.js';
import type { HandlerContext } from './context.js';
import type { CompiledSchema, InferSchema, SchemaInput } from './schema.js';
import { compileSchema } from './schema.js';

/** What a tool handler may return: a full result, a string (one text block), or content blocks. */
export type ToolReturn = CallToolResult | string | ContentBlock[];

/** Configuration of a tool. */
export interface ToolConfig<In extends SchemaInput | undefined = SchemaInput | undefined> {
  title?: string;
  description?: string;
  /** Standard Schema (zod v4, ...), a raw shape of them, or raw JSON Schema (kept verbatim). Default: no arguments. */
  inputSchema?: In;
  /** Schema of `structuredContent`; results are checked against it. */
  outputSchema?: SchemaInput;
  annotations?: ToolAnnotations;
  icons?: Icon[];
  /** Task support and other execution hints (`execution`). */
  execution?: JsonObject;
  /**
   * Tasks (the 2026-07-28 extension and the 2025-11-25 tasks): `optional` or `required`; shorthand for
   * `execution.taskSupport`, listed there. Default: the tool never runs as a task.
   */
  taskSupport?: 'optional' | 'required';
  /**
   * When a task-supporting tool's 2026-07-28 task is created: `immediate` (default) as the call
   * starts, or `handler` when the handler calls `startTask(ctx)` (from `anywire/tasks`), after it
   * may have gathered input over multi round-trip requests.
   */
  taskCreation?: 'immediate' | 'handler';
  _meta?: Meta;
  /**
   * OAuth scopes a caller needs to call this tool (all of them). Not sent to clients; enforced by
   * middleware such as `toolScopes()` from `anywire/auth` (403 `insufficient_scope`), which can also
   * hide the tool from `tools/list` for callers without them. Ignored without such middleware.
   */
  scopes?: string[];
}

/** A tool handler. */
export type ToolHandler<In extends SchemaInput | undefined> = (
  args: In extends SchemaInput ? InferSchema<In> : { [key: string]: unknown },
  ctx: HandlerContext,
) => ToolReturn | Promise<ToolReturn>;

/** A registered tool; `remove()` and `update()` emit `notifications/tools/list_changed`. */
export interface RegisteredTool {
  readonly name: string;
  /** Removes the tool. */
  remove(): void;
  /** Replaces parts of the configuration or the handler. */
  update(changes: { config?: ToolConfig; handler?: ToolHandler<any> }): void;
  /** Hides the tool without removing it. */
  disable(): void;
  enable(): void;
  readonly enabled: boolean;
}

/** Internal record of a tool. */
export interface ToolEntry {
  name: string;
  config: ToolConfig;
  input: CompiledSchema;
  output?: CompiledSchema;
  handler: ToolHandler<any>;
  enabled: boolean;
  listing: Tool;
}

/** Builds the entry (compiles schemas, builds the listing). */
export function makeToolEntry(name: string, config: ToolConfig, handler: ToolHandler<any>): ToolEntry {
  const input = compileSchema(config.inputSchema, 'input');
  const output = config.outputSchema === undefined ? undefined : compileSchema(config.outputSchema, 'output');
  const listing: Tool = { name, inputSchema: input.jsonSchema };
  if (config.title !== undefined) listing.title = config.title;
  if (config.description !== undefined) listing.description = config.description;
  if (output) listing.outputSchema = output.jsonSchema;
  if (config.annotations) listing.annotations = config.annotations;
  if (config.icons) listing.icons = config.icons;
  if (config.execution) listing.execution = config.execution;
  if (config.taskSupport) listing.execution = { ...listing.execution, taskSupport: config.taskSupport };
  if (config._meta) listing._meta = config._meta;
  return { name, config, input, output, handler, enabled: true, listing };
}

function normalize(r: ToolReturn): CallToolResult {
  if (typeof r === 'string') return { content: [{ type: 'text', text: r }] };
  if (Array.isArray(r)) return { content: r };
  if (!Array.isArray(r.content)) return { ...r, content: [] };
  return r;
}

/** Formats a thrown error as a tool execution error result. */
export function toolError(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

/**
 * Runs a tool: validates arguments, calls the handler, checks structured output.
 * Invalid arguments and handler failures become `isError` results; a thrown `JsonRpcError`
 * (such as -32021 from a missing client capability) stays a protocol error.
 */
export async function callTool(
  entry: ToolEntry,
  args: unknown,
  ctx: HandlerContext,
): Promise<CallToolResult> {
  const checked = await entry.input.validate(args ?? {});
  if (!checked.ok)
    return toolError(`Input validation error: invalid arguments for tool ${entry.name}: ${checked.message}`);
  let result: CallToolResult;
  try {
    result = normalize(await entry.handler(checked.value as any, ctx));
  } catch (error) {
    if (error instanceof JsonRpcError) throw error;
    if ((error as Error)?.name === 'InputRequiredSignal') throw error;
    return toolError(error instanceof Error ? error.message : String(error));
  }
  if (entry.output && !result.isError) {
    if (result.structuredContent === undefined) {
      return toolError(
        `Output validation error: tool ${entry.name} has an output schema but returned no structured content`,
      );
    }
    const out = await entry.output.validate(result.structuredContent);
    if (!out.ok) return toolError(`Output validation error: ${out.message}`);
    if (result.content.length === 0) {
      result = { ...result, content: [{ type: 'text', text: JSON.stringify(result.structuredContent) }] };
    }
  }
  return result;
}
