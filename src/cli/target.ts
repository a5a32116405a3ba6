/**
 * Where the CLI's client connects: a stdio command line (after `--`) or a URL among the arguments.
 * A stdio child sees the allow-listed environment (HOME, LOGNAME, PATH, SHELL, TERM, USER, TMPDIR,
 * LANG, LC_ALL, TZ), npm's `npm_config_*`, the proxy variables, plus what `-e KEY=VALUE` and
 * `--env-pass NAME` add.
 * @module
 */
import type { ClientHandlers } from '../client/client.js';
import { Client } from '../client/client.js';
import { transportForUrl } from '../connect.js';
import type { LogLevel } from '../protocol/constants.js';
import { McpError } from '../protocol/errors.js';
import type { Transport } from '../protocol/transport.js';
import { LazyTransport } from '../bindings/lazy-transport.js';
import { bindingDefinitions, supportedSchemes } from '../bindings/registry.js';
import { cachedAuthorization, cachedAuthProvider } from './cached-auth.js';

/** A parsed target. */
export type Target = { kind: 'stdio'; command: string[] } | { kind: 'url'; url: URL };

/** The URL schemes a target (or a `--to` binding) may use, from the binding registry. */
export const URL_SCHEMES = bindingDefinitions()
  .filter((b) => b.name !== 'stdio')
  .map((b) => b.urlForm)
  .join(', ');

const KNOWN = {
  test(s: string): boolean {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(s)?.[1]?.toLowerCase();
    return !!scheme && scheme !== 'stdio' && supportedSchemes().includes(`${scheme}:`);
  },
};

/** True when `s` looks like a target URL (`scheme://...` or `unix:/path`). */
export function looksLikeUrl(s: string | undefined): boolean {
  return s !== undefined && (/^[a-z][a-z0-9+.-]*:\/\//i.test(s) || s.startsWith('unix:'));
}

/**
 * Parses a target URL.
 * @throws Error naming the supported schemes for any other scheme
 */
export function parseTargetUrl(s: string): URL {
  if (!KNOWN.test(s)) {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(s)?.[1] ?? s;
    throw new Error(`anywire: no binding for ${scheme}: targets; supported: ${URL_SCHEMES}`);
  }
  return new URL(s);
}

/** The target in words, for messages: the URL, or the command line. */
export function describeTarget(target: Target): string {
  return target.kind === 'url' ? target.url.href : target.command.join(' ');
}

/**
 * Picks the target out of positional arguments: a stdio command after `--` when given (every
 * positional is then the command's), else the first URL of a supported scheme anywhere among them
 * (`list tools URL` works as well as `list URL tools`).
 * @throws Error when no target is named, or for an unsupported scheme (listing the supported ones)
 */
export function pickTarget(positionals: string[], command: string[]): { target: Target; rest: string[] } {
  if (command.length) return { target: { kind: 'stdio', command }, rest: positionals };
  const i = positionals.findIndex((p) => looksLikeUrl(p) && KNOWN.test(p));
  if (i >= 0) {
    const rest = [...positionals.slice(0, i), ...positionals.slice(i + 1)];
    return { target: { kind: 'url', url: parseTargetUrl(positionals[i]!) }, rest };
  }
  const other = positionals.find((p) => looksLikeUrl(p));
  if (other) parseTargetUrl(other);
  throw new Error(`anywire: name a target: a URL (${URL_SCHEMES}), or a stdio command after --`);
}

/** How to reach a target. */
export interface TargetOptions {
  /** Drop the stdio server's stderr. */
  quiet?: boolean;
  /** Request headers for URL targets. */
  headers?: Record<string, string>;
  /** Extra environment for a stdio child (`-e`, `--env-pass`). */
  env?: Record<string, string>;
}

/** Builds the transport for a target. @throws Error for schemes no binding serves */
export function transportFor(target: Target, options: TargetOptions = {}): Transport {
  if (target.kind === 'stdio') {
    const [command, ...args] = target.command;
    if (!command) throw new Error('give the stdio server command after --');
    return transportForUrl({
      command,
      args,
      stderr: options.quiet ? 'ignore' : 'inherit',
      env: { ...passthroughEnv(), ...options.env },
    });
  }
  // Credentials cached by `anywire login` (only when none were given with -H).
  const given = Object.keys(options.headers ?? {}).some((h) => h.toLowerCase() === 'authorization');
  const authProvider = given ? undefined : cachedAuthProvider(target.url);
  const bearer = given || authProvider ? undefined : cachedAuthorization(target.url);
  const headers = bearer ? { ...options.headers, authorization: bearer } : options.headers;
  if (authProvider) {
    const url = target.url.href;
    return new LazyTransport(async () => {
      const { StreamableHttpClientTransport } = await import('../transports/streamable-http/client.js');
      return new StreamableHttpClientTransport({ url, ...(headers ? { headers } : {}), authProvider });
    }, 'http');
  }
  return transportForUrl(target.url, { headers });
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

/**
 * Builds a child environment from `-e KEY=VALUE` and `--env-pass NAME` options.
 * @throws Error on a malformed `KEY=VALUE`
 */
export function childEnv(set: string[] = [], pass: string[] = []): Record<string, string> {
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const name of pass) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  for (const spec of set) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new Error(`anywire: -e expects KEY=VALUE, got "${spec}"`);
    env[spec.slice(0, eq)] = spec.slice(eq + 1);
  }
  return { ...env };
}

/** Options of {@link connectTarget}. */
export interface ConnectTargetOptions extends TargetOptions {
  /** Per-request timeout in ms. */
  timeoutMs?: number;
  /** Answers to the server's requests (elicitation, sampling, roots). */
  handlers?: ClientHandlers;
  /** Log level asked of the server. */
  logLevel?: LogLevel;
  /** Receives the server's log notifications. */
  onlog?: (params: { level: string; logger?: string; data: unknown }) => void;
  /**
   * Receives what makes the connection useless at once: a stdio child writing non-JSON to stdout,
   * or exiting. The caller fails fast instead of waiting for a timeout.
   */
  onfatal?: (error: Error) => void;
}

/** A stdio child's exit status in words, e.g. `exit code 3`, once it has exited. */
export function exitOf(transport: Transport): string | undefined {
  const s = (transport as { exitStatus?: { code: number | null; signal: string | null } }).exitStatus;
  if (!s) return undefined;
  return s.signal ? `killed by ${s.signal}` : `exit code ${s.code}`;
}

/**
 * Connects a CLI client to the target. A fatal stdio failure during the handshake (non-JSON on
 * stdout, the child exiting) rejects at once with its cause; after it, `onfatal` receives it.
 */
export async function connectTarget(target: Target, options: ConnectTargetOptions = {}): Promise<Client> {
  const transport = transportFor(target, options);
  let connected = false;
  let failConnect!: (e: Error) => void;
  const early = new Promise<never>((_, reject) => {
    failConnect = reject;
  });
  early.catch(() => {});
  const client = new Client(
    { name: 'anywire-cli', version: '0.1.0' },
    {
      requestTimeoutMs: options.timeoutMs,
      probeTimeoutMs: Math.min(options.timeoutMs ?? 20_000, 20_000),
      handlers: options.handlers,
      logLevel: options.logLevel,
      onlog: options.onlog,
      onerror: (e) => {
        const fatal =
          target.kind === 'stdio' &&
          e instanceof McpError &&
          (e.code === 'SPAWN_FAILED' || /non-JSON to stdout/.test(e.message));
        if (!fatal) return;
        const exit = exitOf(transport);
        const error =
          e.code === 'SPAWN_FAILED' && exit
            ? new McpError('SPAWN_FAILED', `the server (${describeTarget(target)}) exited: ${exit}`)
            : e;
        if (connected) options.onfatal?.(error);
        else failConnect(error);
      },
    },
  );
  const connecting = client.connect(transport);
  connecting.catch(() => {});
  try {
    await Promise.race([connecting, early]);
  } catch (e) {
    await client.close().catch(() => {});
    await transport.close().catch(() => {});
    throw e;
  }
  connected = true;
  return client;
}
