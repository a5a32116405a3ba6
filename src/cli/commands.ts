/**
 * The client commands (`call`, `list`, `read`) as importable functions: each connects, does its
 * work, prints, and returns the process exit status (0 ok, 1 on an error or an `isError` result).
 * @module
 */
import type { Client } from '../client/client.js';
import type { JsonObject, Tool } from '../protocol/types.js';
import { formatList, formatReadResult, formatToolResult, progressBar } from './format.js';
import type { Target } from './target.js';
import { connectTarget } from './target.js';

/** Options shared by the client commands. */
export interface ClientCommandOptions {
  /** Print JSON instead of text. */
  json?: boolean;
  /** Per-request timeout in ms. */
  timeoutMs?: number;
  /** Drop the stdio server's stderr. */
  quiet?: boolean;
  /** Request headers for URL targets (HTTP headers, WebSocket upgrade headers, gRPC metadata, MQTT user properties). */
  headers?: Record<string, string>;
  /** Where to write results (default process.stdout) and diagnostics (default process.stderr). */
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WriteStream;
}

function coerce(raw: string, schema: JsonObject | undefined): unknown {
  const type = schema?.type;
  const types = Array.isArray(type) ? type : [type];
  if (types.includes('string') || (type === undefined && schema?.enum)) return raw;
  if (types.includes('integer') || types.includes('number')) {
    const n = Number(raw);
    if (raw.trim() !== '' && !Number.isNaN(n)) return n;
  }
  if (types.includes('boolean') && (raw === 'true' || raw === 'false')) return raw === 'true';
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/**
 * Builds tool arguments from `key=value` pairs (typed by the tool's input schema) and/or a JSON object.
 * @throws Error on a malformed pair or JSON
 */
export function buildArguments(
  pairs: string[],
  json: string | undefined,
  tool: Tool | undefined,
): JsonObject {
  let args: JsonObject = {};
  if (json !== undefined) {
    const parsed = JSON.parse(json) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('anywire: --args must be a JSON object');
    args = parsed as JsonObject;
  }
  const props = (tool?.inputSchema?.properties ?? {}) as Record<string, JsonObject>;
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`anywire: expected key=value, got "${pair}"`);
    const key = pair.slice(0, eq);
    args[key] = coerce(pair.slice(eq + 1), props[key]);
  }
  return args;
}

async function withClient(
  target: Target,
  o: ClientCommandOptions,
  work: (c: Client) => Promise<number>,
): Promise<number> {
  const err = o.stderr ?? process.stderr;
  let client: Client | undefined;
  try {
    client = await connectTarget(target, o);
    return await work(client);
  } catch (e) {
    err.write(`anywire: ${(e as Error).message.replace(/^anywire: /, '')}\n`);
    return 1;
  } finally {
    await client?.close().catch(() => {});
  }
}

function print(o: ClientCommandOptions, text: string): void {
  (o.stdout ?? process.stdout).write(text.endsWith('\n') ? text : `${text}\n`);
}

/** `anywire call`: calls a tool and prints its result. */
export function callCommand(
  target: Target,
  tool: string,
  pairs: string[],
  o: ClientCommandOptions & { args?: string },
): Promise<number> {
  return withClient(target, o, async (client) => {
    const err = o.stderr ?? process.stderr;
    let listing: Tool | undefined;
    if (pairs.length) listing = (await client.listTools()).find((t) => t.name === tool);
    const args = buildArguments(pairs, o.args, listing);
    const bar = err.isTTY && !o.json ? progressBar(err) : undefined;
    const result = await client.callTool(tool, args, {
      timeoutMs: o.timeoutMs,
      onprogress: bar ? (p) => bar.update(p) : undefined,
    });
    bar?.done();
    if (o.json) print(o, JSON.stringify(result, null, 2));
    else if (result.isError) err.write(`${formatToolResult(result)}\n`);
    else print(o, formatToolResult(result));
    return result.isError ? 1 : 0;
  });
}

/** `anywire list`: lists tools, resources or prompts. */
export function listCommand(
  target: Target,
  kind: 'tools' | 'resources' | 'prompts',
  o: ClientCommandOptions,
): Promise<number> {
  return withClient(target, o, async (client) => {
    const items =
      kind === 'tools'
        ? await client.listTools()
        : kind === 'resources'
          ? await client.listResources()
          : await client.listPrompts();
    print(o, o.json ? JSON.stringify(items, null, 2) : formatList(kind, items));
    return 0;
  });
}

/** `anywire read`: reads a resource. */
export function readCommand(target: Target, uri: string, o: ClientCommandOptions): Promise<number> {
  return withClient(target, o, async (client) => {
    const result = await client.readResource(uri, { timeoutMs: o.timeoutMs });
    print(o, o.json ? JSON.stringify(result, null, 2) : formatReadResult(result));
    return 0;
  });
}
