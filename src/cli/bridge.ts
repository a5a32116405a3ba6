/**
 * `anywire bridge`: exposes an MCP server reachable on one wire on others. The upstream is a URL
 * or a stdio command line; each downstream connection gets its own upstream connection (a stdio
 * child per client session) unless `--shared`. The upstream is probed at start (unless `--lazy`):
 * an unreachable one fails the command within the probe timeout, naming the URL and the cause.
 * @module
 */
import { McpProxy } from '../bridge/proxy.js';
import { McpError } from '../protocol/errors.js';
import { printEndpoints, signalled, startBinding } from './bindings.js';
import type { BindingFlags, StartedBinding } from './bindings.js';
import { describedError, describeFailure } from './failures.js';
import { connectTarget, describeTarget, transportFor } from './target.js';
import type { Target, TargetOptions } from './target.js';

/** Options of {@link bridge}. */
export interface BridgeOptions extends BindingFlags, TargetOptions {
  /** Where to expose the upstream: `stdio` or binding URLs. */
  to: string[];
  /** One upstream connection for every client. */
  shared?: boolean;
  /** Skip the start-up probe: connect to the upstream on the first client only. */
  lazy?: boolean;
  /** How long the start-up probe waits, in ms. Default 10 000. */
  probeTimeout?: number;
}

/**
 * Connects to the upstream once, to fail at start rather than on the first client.
 * @throws Error `cannot reach <url>: <cause>` (refused, DNS, TLS, 401, 404, timeout) or the stdio child's failure
 */
export async function probeUpstream(
  from: Target,
  options: TargetOptions & { probeTimeout?: number },
): Promise<void> {
  const ms = options.probeTimeout ?? 10_000;
  const where = describeTarget(from);
  let timer: NodeJS.Timeout | undefined;
  const connecting = connectTarget(from, { ...options, timeoutMs: ms });
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new McpError('REQUEST_TIMEOUT', `no answer within ${ms} ms`)), ms);
  });
  try {
    const client = await Promise.race([connecting, timeout]);
    await client.close().catch(() => {});
  } catch (e) {
    connecting.then((c) => c.close()).catch(() => {});
    const text = describeFailure(e, from.kind === 'url' ? where : undefined);
    const stdioSaid = from.kind === 'stdio' && /\bserver\b/.test(text);
    throw describedError(
      text.startsWith('cannot reach') || stdioSaid ? text : `cannot reach ${where}: ${text}`,
      e,
    );
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a bridge until stdin ends (`--to stdio`) or SIGINT/SIGTERM. */
export async function bridge(from: Target, options: BridgeOptions): Promise<void> {
  if (options.to.length === 0) throw new Error('name at least one --to binding');
  if (!options.lazy) await probeUpstream(from, options);
  const proxy = new McpProxy(() => transportFor(from, options), { shared: options.shared });
  const started: StartedBinding[] = [];
  try {
    for (const url of options.to) started.push(await startBinding(proxy, url, options));
  } catch (e) {
    await Promise.all(started.map((b) => b.close()));
    throw e;
  }
  const source = describeTarget(from);
  const stop = signalled(); // armed before the announcement: a supervisor may signal at once
  printEndpoints(`bridging ${source}${options.shared ? ' (one shared upstream)' : ''}`, started);
  await Promise.race([stop, ...started.map((b) => b.ended)]);
  await Promise.all(started.map((b) => b.close()));
  await proxy.close();
}
