/**
 * How the CLI fails: one line that names the target and the cause (refused, DNS, TLS, 401, 404
 * with a hint about `/mcp`, a stdio child's exit code), stacks with `--verbose` or
 * `ANYWIRE_DEBUG=1`, and JSON on stdout with `--json`.
 * @module
 */
import { McpError } from '../protocol/errors.js';
import { JsonRpcError } from '../jsonrpc/errors.js';

const DESCRIBED = Symbol('anywire.described');

/** An error whose message already names the target and the cause (its `cause` keeps the original). */
export function describedError(message: string, cause: unknown): Error {
  const e = new Error(message, { cause });
  Object.defineProperty(e, DESCRIBED, { value: true });
  return e;
}

/** True when stacks should be printed: `--verbose` given, or `ANYWIRE_DEBUG=1` in the environment. */
export function debugEnabled(verbose?: boolean): boolean {
  return !!verbose || process.env.ANYWIRE_DEBUG === '1' || process.env.ANYWIRE_DEBUG === 'true';
}

/** Every `code` found along an error's `cause` chain (and inside AggregateErrors), outermost first. */
function codes(e: unknown, depth = 0): string[] {
  if (!e || typeof e !== 'object' || depth > 6) return [];
  const out: string[] = [];
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') out.push(code);
  for (const inner of (e as { errors?: unknown[] }).errors ?? []) out.push(...codes(inner, depth + 1));
  out.push(...codes((e as { cause?: unknown }).cause, depth + 1));
  return out;
}

const TLS_CODES = /^(ERR_TLS|ERR_SSL|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_OSSL|EPROTO$)/;

/**
 * The cause of a connection failure in words, or undefined when the error speaks for itself.
 * @param where the URL or command the CLI tried to reach
 */
export function explainCause(error: unknown, where?: string): string | undefined {
  if (error instanceof Error && Object.hasOwn(error, DESCRIBED)) return undefined;
  const all = codes(error);
  const message = error instanceof Error ? error.message : String(error);
  if (all.includes('ECONNREFUSED') || /ECONNREFUSED/.test(message))
    return 'connection refused (is the server running on that host and port?)';
  if (all.includes('ENOTFOUND') || all.includes('EAI_AGAIN') || /ENOTFOUND|EAI_AGAIN/.test(message))
    return 'DNS lookup failed (no such host)';
  const tls = all.find((c) => TLS_CODES.test(c));
  if (tls) return `TLS handshake failed (${tls})`;
  if (all.includes('ECONNRESET'))
    return 'connection reset by the server (a TLS server on a plain URL, or the reverse?)';
  if (all.includes('ETIMEDOUT')) return 'connection timed out';
  if (error instanceof McpError && error.code === 'HTTP_ERROR') {
    if (error.status === 401)
      return "401 Unauthorized: the server wants credentials (pass them with -H 'Authorization: Bearer <token>')";
    if (error.status === 403) return '403 Forbidden: the credentials were refused';
    if (error.status === 404) {
      const hint =
        where && /^https?:/.test(where) && !/\/mcp\/?$/.test(new URL(where).pathname)
          ? ` (MCP endpoints usually live at /mcp: try ${new URL('/mcp', where).href})`
          : ' (is the path right?)';
      return `404 Not Found${hint}`;
    }
    return `HTTP ${error.status ?? 'error'}`;
  }
  if (error instanceof McpError && error.code === 'REQUEST_TIMEOUT') return 'no answer in time';
  const inner = innermost(error);
  if (inner && inner !== error && /fetch failed/.test(message)) return inner.message;
  return undefined;
}

function innermost(e: unknown): Error | undefined {
  let c = e instanceof Error ? e : undefined;
  for (let i = 0; c?.cause instanceof Error && i < 6; i++) c = c.cause;
  return c;
}

/** The one-line message for a failure; `where` is the target (URL or command). */
export function describeFailure(error: unknown, where?: string): string {
  const message = (error instanceof Error ? error.message : String(error)).replace(/^anywire: /, '');
  const cause = explainCause(error, where);
  if (!cause) return message;
  return where ? `cannot reach ${where}: ${cause}` : `${message}: ${cause}`;
}

/** A failure as JSON (for `--json`): `{ error: { message, code?, status?, data? } }`. */
export function failureJson(error: unknown, where?: string): string {
  const out: Record<string, unknown> = { message: describeFailure(error, where) };
  if (error instanceof McpError) {
    out.code = error.code;
    if (error.status !== undefined) out.status = error.status;
  } else if (error instanceof JsonRpcError) {
    out.code = error.code;
    if (error.data !== undefined) out.data = error.data;
  }
  return JSON.stringify({ error: out }, null, 2);
}

/** anywire's own code (dist/ and src/ of this package), left out of "where it threw". */
const OWN = [
  new URL('../../dist/', import.meta.url).pathname,
  new URL('../../src/', import.meta.url).pathname,
];

/** The first stack frame outside anywire, its dependencies and node: the user's file and line, or undefined. */
export function userFrame(error: Error): string | undefined {
  for (const line of (error.stack ?? '').split('\n').slice(1)) {
    const m = /\(?((?:file:\/\/)?\/[^()]+:\d+:\d+)\)?\s*$/.exec(line.trim());
    if (!m) continue;
    const where = m[1]!.replace(/^file:\/\//, '');
    if (/node_modules|^node:/.test(where) || OWN.some((own) => where.startsWith(own))) continue;
    return where;
  }
  return undefined;
}

/** Writes a failure: JSON on stdout with `json`, else `anywire: ...` on stderr (plus the stack when debugging). */
export function reportFailure(
  error: unknown,
  o: {
    json?: boolean;
    verbose?: boolean;
    where?: string;
    stdout?: NodeJS.WritableStream;
    stderr?: NodeJS.WritableStream;
  },
): void {
  const err = o.stderr ?? process.stderr;
  const debug = debugEnabled(o.verbose);
  const at = !debug && error instanceof Error ? userFrame(error) : undefined;
  if (o.json) (o.stdout ?? process.stdout).write(`${failureJson(error, o.where)}\n`);
  else
    err.write(
      `anywire: ${describeFailure(error, o.where)}${at ? ` (at ${at}; --verbose for the stack)` : ''}\n`,
    );
  if (debug && error instanceof Error && error.stack) err.write(`${stackOf(error)}\n`);
}

/** The stack of an error and of its causes. */
export function stackOf(error: Error): string {
  const parts = [error.stack ?? String(error)];
  let c: unknown = error.cause;
  for (let i = 0; c instanceof Error && i < 5; i++, c = c.cause)
    parts.push(`caused by: ${c.stack ?? c.message}`);
  return parts.join('\n');
}
