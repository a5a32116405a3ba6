/**
 * The client commands (`call`, `list`, `read`, `prompt`, `complete`) as importable functions: each
 * connects, does its work, prints, and returns the process exit status (0 ok, 1 on an error or an
 * `isError` result). A stdio child that writes non-JSON to stdout or exits fails the command at once.
 * @module
 */
import type { Client, ClientHandlers } from '../client/client.js';
import type { LogLevel } from '../protocol/constants.js';
import type { CompletionReference, JsonObject, Tool } from '../protocol/types.js';
import { reportFailure } from './failures.js';
import {
  formatCompletion,
  formatList,
  formatLog,
  formatPrompt,
  formatReadResult,
  formatToolResult,
  progressBar,
} from './format.js';
import type { Target } from './target.js';
import { connectTarget } from './target.js';

/** Options shared by the client commands. */
export interface ClientCommandOptions {
  /** Print JSON instead of text (errors too, as `{ "error": {...} }` on stdout). */
  json?: boolean;
  /** Per-request timeout in ms. */
  timeoutMs?: number;
  /** Drop the stdio server's stderr. */
  quiet?: boolean;
  /** Print stacks of failures. */
  verbose?: boolean;
  /** Request headers for URL targets (HTTP headers, WebSocket upgrade headers, gRPC metadata, MQTT user properties). */
  headers?: Record<string, string>;
  /** Extra environment for a stdio child. */
  env?: Record<string, string>;
  /** Ask the server for logs at this level and print them on stderr. */
  logLevel?: LogLevel;
  /** Answers to the server's elicitation, sampling and roots requests. */
  handlers?: ClientHandlers;
  /** Where to write results (default process.stdout) and diagnostics (default process.stderr). */
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WriteStream;
}

function coerce(raw: string, schema: JsonObject | undefined): unknown {
  const type = schema?.type;
  const types = Array.isArray(type) ? type : [type];
  if (types.includes('array') && !raw.trimStart().startsWith('[')) {
    const items = schema?.items as JsonObject | undefined;
    return raw === '' ? [] : raw.split(',').map((part) => coerce(part.trim(), items));
  }
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

/** Splits `key=value` pairs. @throws Error on a pair without `=` */
export function parsePairs(pairs: string[]): [string, string][] {
  return pairs.map((pair) => {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`anywire: expected key=value, got "${pair}"`);
    return [pair.slice(0, eq), pair.slice(eq + 1)];
  });
}

/**
 * Builds tool arguments from `key=value` pairs (typed by the tool's input schema: numbers,
 * booleans, arrays as `a,b,c` or JSON) and/or a JSON object.
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
  for (const [key, value] of parsePairs(pairs))
    args[key] = coerce(value, Object.hasOwn(props, key) ? props[key] : undefined);
  return args;
}

/** Connects, runs `work`, and turns every failure into a report and status 1. */
export async function withClient(
  target: Target,
  o: ClientCommandOptions,
  work: (c: Client) => Promise<number>,
): Promise<number> {
  const err = o.stderr ?? process.stderr;
  let client: Client | undefined;
  let failFast!: (e: Error) => void;
  const fatal = new Promise<never>((_, reject) => {
    failFast = reject;
  });
  fatal.catch(() => {});
  try {
    client = await connectTarget(target, {
      ...o,
      onfatal: (e) => failFast(e),
      onlog: o.logLevel ? (p) => err.write(`${formatLog(p)}\n`) : undefined,
    });
    return await Promise.race([work(client), fatal]);
  } catch (e) {
    reportFailure(e, {
      json: o.json,
      verbose: o.verbose,
      where: target.kind === 'url' ? target.url.href : undefined,
      stdout: o.stdout,
      stderr: err,
    });
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
    let lastTask = '';
    const result = await client.callTool(tool, args, {
      timeoutMs: o.timeoutMs,
      onprogress: bar ? (p) => bar.update(p) : undefined,
      // A tool that runs as a task (2026-07-28): its id and every status change, on stderr.
      ontask: o.json
        ? undefined
        : (t) => {
            const line = `task ${t.taskId}: ${t.status}${t.statusMessage ? ` (${t.statusMessage})` : ''}`;
            if (line !== lastTask) err.write(`${line}\n`);
            lastTask = line;
          },
    });
    bar?.done();
    if (o.json) print(o, JSON.stringify(result, null, 2));
    else if (result.isError) err.write(`${formatToolResult(result)}\n`);
    else print(o, formatToolResult(result));
    return result.isError ? 1 : 0;
  });
}

/** What `anywire list` lists. */
export type ListKind = 'tools' | 'resources' | 'templates' | 'prompts';

/** `anywire list`: lists tools, resources, resource templates or prompts. */
export function listCommand(target: Target, kind: ListKind, o: ClientCommandOptions): Promise<number> {
  return withClient(target, o, async (client) => {
    const items =
      kind === 'tools'
        ? await client.listTools()
        : kind === 'resources'
          ? await client.listResources()
          : kind === 'templates'
            ? await client.listResourceTemplates()
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

/** `anywire prompt`: renders a prompt with `key=value` arguments. */
export function promptCommand(
  target: Target,
  name: string,
  pairs: string[],
  o: ClientCommandOptions,
): Promise<number> {
  return withClient(target, o, async (client) => {
    const args = Object.fromEntries(parsePairs(pairs));
    const result = await client.getPrompt(name, args, { timeoutMs: o.timeoutMs });
    print(o, o.json ? JSON.stringify(result, null, 2) : formatPrompt(result));
    return 0;
  });
}

/**
 * Reads a completion reference: `prompt:<name>` or `resource:<uri-template>`.
 * @throws Error for anything else
 */
export function parseReference(spec: string): CompletionReference {
  if (spec.startsWith('prompt:')) return { type: 'ref/prompt', name: spec.slice('prompt:'.length) };
  if (spec.startsWith('resource:')) return { type: 'ref/resource', uri: spec.slice('resource:'.length) };
  throw new Error(
    `anywire: a completion reference is prompt:<name> or resource:<uri-template>, got "${spec}"`,
  );
}

/** `anywire complete`: asks for completions of one argument of a prompt or resource template. */
export function completeCommand(
  target: Target,
  ref: string,
  argument: string,
  value: string,
  context: string[],
  o: ClientCommandOptions,
): Promise<number> {
  return withClient(target, o, async (client) => {
    const reference = parseReference(ref);
    const ctx = context.length ? { arguments: Object.fromEntries(parsePairs(context)) } : undefined;
    const result = await client.complete(reference, { name: argument, value }, ctx, {
      timeoutMs: o.timeoutMs,
    });
    print(o, o.json ? JSON.stringify(result, null, 2) : formatCompletion(result));
    return 0;
  });
}
