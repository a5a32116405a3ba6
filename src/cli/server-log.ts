/**
 * What `anywire serve` logs on stderr about the server it runs: a tool that throws (error level,
 * with its name, and its stack and the module's file and line with `--verbose`), and each tool call
 * with its duration at debug level. stdout stays the protocol's.
 * @module
 */
import type { LogLevel } from '../protocol/constants.js';
import { logLevelRank } from '../protocol/constants.js';
import type { McpServer } from '../server/mcp-server.js';
import type { ToolEntry } from '../server/tools.js';
import { debugEnabled, stackOf, userFrame } from './failures.js';

/** Options of {@link logServerActivity}. */
export interface ServerLogOptions {
  /** Lowest level printed. Default `info`. */
  logLevel?: LogLevel;
  /** Print stacks. */
  verbose?: boolean;
  /** Default process.stderr. */
  stderr?: NodeJS.WritableStream;
}

/**
 * Makes `server` log its tool activity on stderr: tools registered now and later.
 * Tool errors are still returned to the client as `isError` results, unchanged.
 */
export function logServerActivity(server: McpServer, options: ServerLogOptions = {}): void {
  const out = options.stderr ?? process.stderr;
  const min = logLevelRank(options.logLevel ?? 'info');
  const wants = (level: LogLevel) => logLevelRank(level) >= min;
  const verbose = debugEnabled(options.verbose);
  const done = new WeakSet<ToolEntry>();
  const wrap = (entry: ToolEntry): ToolEntry => {
    if (done.has(entry)) return entry;
    done.add(entry);
    let inner = entry.handler;
    const name = entry.name;
    const wrapped: ToolEntry['handler'] = async (args, ctx) => {
      const t0 = performance.now();
      try {
        const r = await inner(args, ctx);
        if (wants('debug'))
          out.write(`anywire: tool ${name} answered in ${Math.round(performance.now() - t0)} ms\n`);
        return r;
      } catch (e) {
        if (wants('error') && !(e instanceof Error && e.name === 'InputRequiredSignal')) {
          const err = e instanceof Error ? e : new Error(String(e));
          const where = userFrame(err);
          out.write(`anywire: tool ${name} threw: ${err.message}${where ? ` (at ${where})` : ''}\n`);
          if (verbose) out.write(`${stackOf(err)}\n`);
        }
        throw e;
      }
    };
    Object.defineProperty(entry, 'handler', {
      configurable: true,
      enumerable: true,
      get: () => wrapped,
      set: (h: ToolEntry['handler']) => {
        inner = h;
      },
    });
    return entry;
  };
  // The registry's live map of tool entries (typed read-only on McpServer's public surface).
  const tools = server.tools as unknown as Map<string, ToolEntry>;
  for (const entry of tools.values()) wrap(entry);
  const set = tools.set.bind(tools);
  tools.set = (key: string, entry: ToolEntry) => set(key, wrap(entry));
}
