/**
 * Starts a server (or a bridge's proxy) on a binding named by URL (`stdio`, `http(s)://host:port/path`,
 * `ws://...`, ...), through the binding registry. `serve` and `bridge` share it.
 * @module
 */
import { bindingFor, bindingUrl, registerBindingDefinition } from '../bindings/registry.js';
export { parseAddress } from '../bindings/registry.js';
import type { BindingFlags, StartedBinding } from '../bindings/registry.js';
import type { Servable } from '../server/servable.js';

export type { BindingFlags, StartedBinding } from '../bindings/registry.js';

/** A server starter for a URL scheme (see {@link registerBinding}). */
export type BindingStarter = (server: Servable, url: URL, flags: BindingFlags) => Promise<StartedBinding>;

/**
 * Registers a server starter for a URL scheme (`'ws:'` or `'ws'`) in the binding registry, as a
 * server-only binding named after the scheme.
 * @throws TypeError for a malformed scheme
 */
export function registerBinding(scheme: string, starter: BindingStarter): void {
  const s = scheme.endsWith(':') ? scheme : `${scheme}:`;
  registerBindingDefinition({
    name: s.slice(0, -1),
    schemes: [s],
    defaultPorts: {},
    clientBinding: {},
    urlForm: `${s}//...`,
    serve: starter,
  });
}

/**
 * Starts `server` on the binding `spec` names (`stdio` or a URL).
 * @throws Error for an unknown scheme (naming the supported ones) or when the binding cannot start
 */
export async function startBinding(
  server: Servable,
  spec: string,
  flags: BindingFlags = {},
): Promise<StartedBinding> {
  const url = bindingUrl(spec);
  return bindingFor(url).serve(server, url, flags);
}

/** Prints the endpoint table to stderr. */
export function printEndpoints(name: string, started: Pick<StartedBinding, 'label' | 'endpoint'>[]): void {
  const width = Math.max(...started.map((b) => b.label.length));
  process.stderr.write(
    `anywire: ${name}\n${started.map((b) => `  ${b.label.padEnd(width)}  ${b.endpoint}`).join('\n')}\n`,
  );
}

/** Resolves on SIGINT or SIGTERM. */
export function signalled(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
