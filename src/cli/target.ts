/**
 * Where the CLI's client connects: a stdio command line (after `--`) or a URL standing first.
 * @module
 */
import { Client } from '../client/client.js';
import { transportForUrl } from '../connect.js';
import type { Transport } from '../protocol/transport.js';

/** A parsed target. */
export type Target = { kind: 'stdio'; command: string[] } | { kind: 'url'; url: URL };

/** True when `s` looks like a target URL (`scheme://...` or `unix:/path`). */
export function looksLikeUrl(s: string | undefined): boolean {
  return s !== undefined && (/^[a-z][a-z0-9+.-]*:\/\//i.test(s) || s.startsWith('unix:'));
}

/** Builds the transport for a target. @throws Error for schemes no binding serves */
export function transportFor(
  target: Target,
  options: { quiet?: boolean; headers?: Record<string, string> } = {},
): Transport {
  if (target.kind === 'stdio') {
    const [command, ...args] = target.command;
    if (!command) throw new Error('give the stdio server command after --');
    return transportForUrl({
      command,
      args,
      stderr: options.quiet ? 'ignore' : 'inherit',
      env: passthroughEnv(),
    });
  }
  return transportForUrl(target.url, { headers: options.headers });
}

/** Variables a CLI user expects a spawned server to see (npm and proxies need them). */
function passthroughEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (
      v !== undefined &&
      (/^npm_config_/i.test(k) || /^(HTTPS?_PROXY|NO_PROXY|NODE_EXTRA_CA_CERTS)$/i.test(k))
    )
      env[k] = v;
  }
  return env;
}

/** Connects a CLI client to the target. */
export async function connectTarget(
  target: Target,
  options: { quiet?: boolean; timeoutMs?: number; headers?: Record<string, string> } = {},
): Promise<Client> {
  const client = new Client(
    { name: 'anywire-cli', version: '0.1.0' },
    { requestTimeoutMs: options.timeoutMs, probeTimeoutMs: Math.min(options.timeoutMs ?? 20_000, 20_000) },
  );
  await client.connect(transportFor(target, options));
  return client;
}
