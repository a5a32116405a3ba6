/**
 * The `anywire` command line: `serve`, `call`, `list`, `read`. Argument parsing and printing only;
 * the work is in importable functions. Everything after `--` is a stdio server's command line.
 * @module
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import type { ClientCommandOptions } from './commands.js';
import { callCommand, listCommand, readCommand } from './commands.js';
import { bridge } from './bridge.js';
import type { BridgeOptions } from './bridge.js';
import { serve } from './serve.js';
import type { ServeOptions } from './serve.js';
import type { Target } from './target.js';
import { looksLikeUrl } from './target.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** Splits `argv` at the first `--`: our arguments, then the stdio server's command line. */
export function splitArgv(argv: string[]): { own: string[]; command: string[] } {
  const i = argv.indexOf('--');
  return i < 0 ? { own: argv, command: [] } : { own: argv.slice(0, i), command: argv.slice(i + 1) };
}

function resolveTarget(
  first: string | undefined,
  rest: string[],
  command: string[],
): { target: Target; rest: string[] } {
  if (looksLikeUrl(first)) return { target: { kind: 'url', url: new URL(first!) }, rest };
  if (command.length === 0)
    throw new Error('anywire: name a target: a URL first, or a stdio command after --');
  return { target: { kind: 'stdio', command }, rest: first === undefined ? rest : [first, ...rest] };
}

type Opts = { json?: boolean; timeout?: number; quiet?: boolean; args?: string; header?: string[] };

/** Parses repeated `Name: value` options into a header record (lower-case names). */
export function parseHeaders(specs: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const colon = spec.indexOf(':');
    if (colon <= 0) throw new Error(`expected "Name: value", got "${spec}"`);
    out[spec.slice(0, colon).trim().toLowerCase()] = spec.slice(colon + 1).trim();
  }
  return out;
}

const clientOpts = (o: Opts): ClientCommandOptions & { args?: string } => ({
  json: o.json,
  timeoutMs: o.timeout,
  quiet: o.quiet,
  args: o.args,
  headers: parseHeaders(o.header),
});

/** Runs the CLI; resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  const { own, command } = splitArgv(argv);
  let status = 0;
  const program = new Command()
    .name('anywire')
    .description('One MCP server, every wire: serve MCP servers and talk to any of them.')
    .version(pkg.version)
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) })
    .exitOverride()
    .showHelpAfterError();

  const collect = (v: string, prev: string[]) => [...prev, v];
  const bindingOptions = (c: Command) =>
    c
      .option('--http2', 'HTTP/2: h2c without TLS, h2 beside HTTP/1.1 with TLS')
      .option('--tls-cert <file>', 'TLS certificate (PEM)')
      .option('--tls-key <file>', 'TLS private key (PEM)')
      .option('--tls-ca <file>', 'CA bundle that signs client certificates (PEM)')
      .option('--mtls', 'require and verify client certificates')
      .option('--max-message-bytes <n>', 'longest accepted message on stream bindings', positiveInt);

  bindingOptions(
    program
      .command('serve')
      .description('serve a module that default-exports an McpServer (or a factory) on one or more bindings')
      .argument('<module>', 'a .ts or .js file')
      .option('--stdio', 'serve on stdin/stdout (the default when no other binding is named)')
      .option('--http <address>', 'serve Streamable HTTP (and HTTP+SSE) on host:port, e.g. 127.0.0.1:3000')
      .option('--path <path>', 'HTTP path of the MCP endpoint', '/mcp')
      .option('--ws <address>', 'serve WebSocket (subprotocol mcp) on host:port, path /mcp')
      .option('--grpc <address>', 'serve gRPC (anywire.mcp.v1.Mcp) on host:port')
      .option('--mqtt <url>', 'serve over an MQTT 5 broker: mqtt://broker:1883/<server-name>')
      .option('--tcp <address>', 'serve newline-delimited JSON-RPC over TCP on host:port')
      .option('--unix <path>', 'serve newline-delimited JSON-RPC on a Unix socket')
      .option(
        '--tls <address>',
        'serve newline-delimited JSON-RPC over TLS on host:port (--tls-cert, --tls-key, --mtls)',
      )
      .option(
        '--url <url>',
        'serve on the binding this URL names, e.g. ws://127.0.0.1:3001/mcp (repeatable)',
        collect,
        [],
      ),
  ).action(async (module: string, o: ServeOptions & { url: string[] }) => {
    await serve(module, { ...o, urls: o.url });
  });

  bindingOptions(
    program
      .command('bridge')
      .description(
        'expose an MCP server reachable on one wire on others: anywire bridge <from-URL> --to <URL> ... | --to <URL> ... -- <command ...>',
      )
      .argument('[from]', 'the upstream server URL (or give a stdio command after --)')
      .option(
        '--to <url>',
        'a binding to expose it on: stdio, http://host:port/mcp, ... (repeatable)',
        collect,
        [],
      )
      .option(
        '--shared',
        'one upstream connection for every client (ids remapped) instead of one per client session',
      )
      .option('-q, --quiet', "drop a stdio upstream's stderr"),
  ).action(async (from: string | undefined, o: BridgeOptions) => {
    const t = resolveTarget(from, [], command);
    if (t.rest.length) throw new Error(`unexpected argument ${t.rest[0]}`);
    await bridge(t.target, o);
  });

  const common = (c: Command) =>
    c
      .option('--json', 'print JSON for scripts')
      .option('--timeout <ms>', 'per-request timeout in ms', positiveInt)
      .option(
        '-H, --header <header>',
        'a request header for URL targets, e.g. "authorization: Bearer T" (repeatable)',
        (v: string, prev: string[]) => [...prev, v],
        [] as string[],
      )
      .option('-q, --quiet', "drop the stdio server's stderr");

  common(
    program
      .command('call')
      .description('call a tool: anywire call <tool> [key=value ...] -- <command ...>')
      .argument('[target-or-tool]', 'a URL target, or the tool name')
      .argument('[rest...]', 'the tool name (after a URL) and key=value arguments')
      .option('--args <json>', 'arguments as a JSON object'),
  ).action(async (first: string | undefined, rest: string[], o: Opts) => {
    const t = resolveTarget(first, rest, command);
    const [tool, ...pairs] = t.rest;
    if (!tool) throw new Error('anywire: name the tool to call');
    status = await callCommand(t.target, tool, pairs, clientOpts(o));
  });

  common(
    program
      .command('list')
      .description(
        'list tools, resources or prompts: anywire list [tools|resources|prompts] -- <command ...>',
      )
      .argument('[target-or-kind]', 'a URL target, or what to list')
      .argument('[kind]', 'what to list after a URL: tools (default), resources, prompts'),
  ).action(async (first: string | undefined, second: string | undefined, o: Opts) => {
    const t = resolveTarget(first, second === undefined ? [] : [second], command);
    const kind = (t.rest[0] ?? 'tools') as 'tools' | 'resources' | 'prompts';
    if (!['tools', 'resources', 'prompts'].includes(kind)) throw new Error(`anywire: cannot list "${kind}"`);
    status = await listCommand(t.target, kind, clientOpts(o));
  });

  common(
    program
      .command('read')
      .description('read a resource: anywire read <uri> -- <command ...>')
      .argument('<target-or-uri>', 'a URL target, or the resource URI')
      .argument('[uri]', 'the resource URI after a URL target'),
  ).action(async (first: string, second: string | undefined, o: Opts) => {
    const t =
      second !== undefined && looksLikeUrl(first)
        ? { target: { kind: 'url' as const, url: new URL(first) }, rest: [second] }
        : resolveTarget(undefined, [first], command);
    status = await readCommand(t.target, t.rest[0]!, clientOpts(o));
  });

  try {
    await program.parseAsync(own, { from: 'user' });
  } catch (e) {
    const err = e as { code?: string; exitCode?: number; message: string };
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
    if (err.code?.startsWith('commander.')) return err.exitCode ?? 1;
    process.stderr.write(`anywire: ${err.message.replace(/^anywire: /, '')}\n`);
    return 1;
  }
  return status;
}
