/**
 * The binding registry: for each binding, its URL schemes, their default ports, the `anywire serve`
 * flag that names it, a server factory and a client factory, in one place. `anywire serve`,
 * `anywire bridge`, the CLI's client commands and `anywire/connect` all read it. Every factory
 * imports its binding with a dynamic `import()` when it is first used, so naming one binding never
 * loads another or its dependencies (gRPC, MQTT, `ws`, HTTP/2, MessagePack). Node only; the root
 * entry does not reach it.
 * @module
 */
import { CLIENT_FACTORIES } from './clients.js';
import type { ClientFactory, ServerFactory } from './factory-types.js';
import { SERVER_FACTORIES } from './servers.js';

export type {
  BindingFlags,
  ClientFactory,
  ClientFactoryOptions,
  ServerFactory,
  StartedBinding,
} from './factory-types.js';

/** An `anywire serve` option that names a binding, e.g. `--ws 127.0.0.1:3001`. */
export interface ServeFlag {
  /** The option's name without dashes: `ws`. */
  readonly name: string;
  /**
   * The binding URL the option's value stands for.
   * @param context.secure TLS material was given (`--tls-cert`)
   * @param context.path the HTTP path (`--path`, default `/mcp`)
   * @throws Error for an unreadable address
   */
  toUrl(value: string, context: { secure: boolean; path: string }): string;
}

/** One binding. */
export interface BindingDefinition {
  /** The binding's name, as in the README: `stdio`, `streamable-http`, `websocket`, ... */
  readonly name: string;
  /** URL schemes, with their colon (`http:`, `https:`); the first ones are plaintext. */
  readonly schemes: readonly string[];
  /** Default port of each scheme; a scheme without one (e.g. `tcp:`) needs the port in its URL. */
  readonly defaultPorts: Readonly<Record<string, number>>;
  /** The `transport.binding` name of its client transports, by scheme (e.g. `tcp:` → `tcp`). */
  readonly clientBinding: Readonly<Record<string, string>>;
  /** Shown in help and errors: `ws(s)://host:port/mcp`. */
  readonly urlForm: string;
  /** The `anywire serve` options that name it, in the order they start. */
  readonly serveFlags?: readonly ServeFlag[];
  /** Starts a server on it. */
  readonly serve: ServerFactory;
  /** Connects a client to it; absent for server-only bindings. */
  readonly client?: ClientFactory;
}

const registry = new Map<string, BindingDefinition>();

/**
 * Adds (or replaces) a binding; each of its schemes then names it in `serve --url`, `bridge --to`,
 * client targets and `connect()`.
 * @throws TypeError when a scheme lacks its trailing colon
 */
export function registerBindingDefinition(definition: BindingDefinition): void {
  for (const s of definition.schemes) {
    if (!/^[a-z][a-z0-9+.-]*:$/.test(s))
      throw new TypeError(`scheme "${s}" must be lower-case and end with ":"`);
  }
  for (const s of definition.schemes) registry.set(s, definition);
}

/**
 * Parses `host:port`, `[v6]:port`, `:port` or `port` (host 127.0.0.1 by default).
 * @throws Error for anything else
 */
export function parseAddress(spec: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*))?:?(\d+)$/.exec(spec.trim());
  if (!m) throw new Error(`cannot read address "${spec}" (expected host:port)`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port: Number(m[3]) };
}

/** `scheme://host:port{path}` for an address option's value (IPv6 hosts in brackets). */
function addressUrl(spec: string, scheme: string, path = ''): string {
  const { host, port } = parseAddress(spec);
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
}

const builtIn: Omit<BindingDefinition, 'serve' | 'client'>[] = [
  {
    name: 'stdio',
    schemes: ['stdio:'],
    defaultPorts: {},
    clientBinding: { 'stdio:': 'stdio' },
    urlForm: 'stdio',
  },
  {
    name: 'streamable-http',
    schemes: ['http:', 'https:'],
    defaultPorts: { 'http:': 80, 'https:': 443 },
    clientBinding: { 'http:': 'http', 'https:': 'http' },
    urlForm: 'http(s)://host:port/mcp',
    serveFlags: [{ name: 'http', toUrl: (v, c) => addressUrl(v, c.secure ? 'https' : 'http', c.path) }],
  },
  {
    name: 'websocket',
    schemes: ['ws:', 'wss:'],
    defaultPorts: { 'ws:': 80, 'wss:': 443 },
    clientBinding: { 'ws:': 'websocket', 'wss:': 'websocket' },
    urlForm: 'ws(s)://host:port/mcp',
    serveFlags: [{ name: 'ws', toUrl: (v, c) => addressUrl(v, c.secure ? 'wss' : 'ws', '/mcp') }],
  },
  {
    name: 'stream',
    schemes: ['tcp:', 'tls:', 'unix:'],
    defaultPorts: {},
    clientBinding: { 'tcp:': 'tcp', 'tls:': 'tls', 'unix:': 'unix' },
    urlForm: 'tcp://host:port, tls://host:port, unix:/path',
    serveFlags: [
      { name: 'tcp', toUrl: (v) => addressUrl(v, 'tcp') },
      { name: 'unix', toUrl: (v) => `unix:${v}` },
      { name: 'tls', toUrl: (v) => addressUrl(v, 'tls') },
    ],
  },
  {
    name: 'grpc',
    schemes: ['grpc:', 'grpcs:'],
    defaultPorts: { 'grpc:': 50051, 'grpcs:': 50051 },
    clientBinding: { 'grpc:': 'grpc', 'grpcs:': 'grpc' },
    urlForm: 'grpc(s)://host:port',
    serveFlags: [{ name: 'grpc', toUrl: (v, c) => addressUrl(v, c.secure ? 'grpcs' : 'grpc') }],
  },
  {
    name: 'mqtt',
    schemes: ['mqtt:', 'mqtts:'],
    defaultPorts: { 'mqtt:': 1883, 'mqtts:': 8883 },
    clientBinding: { 'mqtt:': 'mqtt', 'mqtts:': 'mqtt' },
    urlForm: 'mqtt(s)://broker:port/<server>',
    serveFlags: [{ name: 'mqtt', toUrl: (v) => v }],
  },
];
for (const b of builtIn)
  registerBindingDefinition({ ...b, serve: SERVER_FACTORIES[b.name]!, client: CLIENT_FACTORIES[b.name] });

/** Every registered binding, each once, in registration order. */
export function bindingDefinitions(): BindingDefinition[] {
  return [...new Set(registry.values())];
}

/** Every registered scheme, with its colon. */
export function supportedSchemes(): string[] {
  return [...registry.keys()];
}

/** One line for help and errors: `stdio, http(s)://host:port/mcp, ws(s)://host:port/mcp, ...`. */
export function describeSchemes(): string {
  return bindingDefinitions()
    .map((b) => b.urlForm)
    .join(', ');
}

/** `stdio`, `stdio:` or a URL, as a URL (`stdio:` for stdio). @throws TypeError when not a URL */
export function bindingUrl(spec: string | URL): URL {
  if (spec instanceof URL) return new URL(spec.href);
  if (spec === 'stdio') return new URL('stdio:');
  try {
    return new URL(spec);
  } catch {
    throw new TypeError(`"${spec}" is not a URL; bindings are named ${describeSchemes()}`);
  }
}

/**
 * The binding serving `url`'s scheme.
 * @throws Error naming the supported schemes when none does
 */
export function bindingFor(url: URL): BindingDefinition {
  const b = registry.get(url.protocol.toLowerCase());
  if (!b) {
    const schemes = supportedSchemes()
      .map((s) => s.slice(0, -1))
      .join(', ');
    throw new Error(`no binding for ${url.protocol} URLs; the supported schemes are ${schemes}`);
  }
  return b;
}

/** The port `url` names, or its scheme's default (undefined when it has none). */
export function portOf(url: URL): number | undefined {
  if (url.port) return Number(url.port);
  return bindingFor(url).defaultPorts[url.protocol.toLowerCase()];
}
