/**
 * Loads a user's server module: `.ts`/`.mts` compiled once into the transpile cache (see
 * transpile-cache.ts), `.cts` and what the cache cannot compile through tsx (no build step either
 * way), anything else with a plain import. The module default-exports an `McpServer` or a (possibly async) factory
 * returning one; a named `server` export works too. A factory receives the {@link ServeModuleContext}.
 * @module
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { McpServer } from '../server/mcp-server.js';

function isServer(x: unknown): x is McpServer {
  return typeof x === 'object' && x !== null && typeof (x as McpServer).connect === 'function' && 'info' in x;
}

/** What `anywire serve` tells a module's default-exported factory (its flags that concern the server itself). */
export interface ServeModuleContext {
  /**
   * `--allow-insecure-webhooks`: let webhook senders deliver to http and special-purpose (loopback,
   * private) addresses, i.e. `WebhookSender`'s `allowInsecureWebhookTargets`. For development and
   * tests only. Default false.
   */
  allowInsecureWebhookTargets: boolean;
}

/**
 * Imports `modulePath` and returns its server; a factory is called with `context`.
 * @throws Error when the file is missing or exports no server
 */
export async function loadServerModule(
  modulePath: string,
  context: ServeModuleContext = { allowInsecureWebhookTargets: false },
): Promise<McpServer> {
  const abs = resolve(modulePath);
  if (!existsSync(abs)) throw new Error(`anywire: no such module: ${modulePath}`);
  const url = pathToFileURL(abs).href;
  let mod: Record<string, unknown>;
  if (/\.[mc]?tsx?$/.test(abs)) {
    const { cachedModuleUrl } = await import('./transpile-cache.js');
    const cached = abs.endsWith('.cts') ? undefined : await cachedModuleUrl(abs);
    if (cached) {
      process.setSourceMapsEnabled(true); // stacks name the .ts file and line
      mod = (await import(cached)) as Record<string, unknown>;
    } else {
      const { tsImport } = await import('tsx/esm/api');
      mod = (await tsImport(url, import.meta.url)) as Record<string, unknown>;
    }
  } else mod = (await import(url)) as Record<string, unknown>;
  let candidate: unknown = mod.default ?? mod.server;
  // tsx may wrap a default export once more when loading CommonJS-shaped output.
  if (candidate && typeof candidate === 'object' && 'default' in candidate && !isServer(candidate)) {
    candidate = (candidate as { default: unknown }).default;
  }
  if (typeof candidate === 'function' && !isServer(candidate))
    candidate = await (candidate as (context: ServeModuleContext) => unknown)(context);
  if (!isServer(candidate)) {
    throw new Error(`anywire: ${modulePath} must default-export an McpServer or a function that returns one`);
  }
  return candidate;
}
