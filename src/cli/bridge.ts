/**
 * `anywire bridge`: exposes an MCP server reachable on one wire on others. The upstream is a URL
 * or a stdio command line; each downstream connection gets its own upstream connection (a stdio
 * child per client session) unless `--shared`.
 * @module
 */
import { McpProxy } from '../bridge/proxy.js';
import { printEndpoints, signalled, startBinding } from './bindings.js';
import type { BindingFlags, StartedBinding } from './bindings.js';
import { transportFor } from './target.js';
import type { Target } from './target.js';

/** Options of {@link bridge}. */
export interface BridgeOptions extends BindingFlags {
  /** Where to expose the upstream: `stdio` or binding URLs. */
  to: string[];
  /** One upstream connection for every client. */
  shared?: boolean;
  /** Drop a stdio upstream's stderr. */
  quiet?: boolean;
}

/** Runs a bridge until stdin ends (`--to stdio`) or SIGINT/SIGTERM. */
export async function bridge(from: Target, options: BridgeOptions): Promise<void> {
  if (options.to.length === 0) throw new Error('name at least one --to binding');
  const proxy = new McpProxy(() => transportFor(from, { quiet: options.quiet }), { shared: options.shared });
  const started: StartedBinding[] = [];
  for (const url of options.to) started.push(await startBinding(proxy, url, options));
  const source = from.kind === 'stdio' ? from.command.join(' ') : from.url.href;
  printEndpoints(`bridging ${source}${options.shared ? ' (one shared upstream)' : ''}`, started);
  await Promise.race([signalled(), ...started.map((b) => b.ended)]);
  await Promise.all(started.map((b) => b.close()));
  await proxy.close();
}
