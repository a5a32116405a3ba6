/**
 * The `anywire` command line: `serve`, `call`, `list`, `read`. Argument parsing and printing only;
 * the work is in importable functions. Everything after `--` is a stdio server's command line.
 * @module
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { bridge } from './bridge.js';
import type { BridgeOptions } from './bridge.js';
import { registerLoginCommands } from './login-command.js';
import type { ServeAuthFlags } from './serve-auth.js';
import { serve } from './serve.js';
import type { ServeOptions } from './serve.js';
import { addClientCommands, logLevel, parseHeaders, targetOptions } from './client-program.js';
import { reportFailure } from './failures.js';
import { childEnv, pickTarget, URL_SCHEMES } from './target.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected an integer >= 0');
  return n;
}

/** Splits `argv` at the first `--`: our arguments, then the stdio server's command line. */
export function splitArgv(argv: string[]): { own: string[]; command: string[] } {
  const i = argv.indexOf('--');
  return i < 0 ? { own: argv, command: [] } : { own: argv.slice(0, i), command: argv.slice(i + 1) };
}

/** Reads `host:port`, `:port` or `port` (127.0.0.1 by default); a port outside 0..65535 is an error. */
function address(v: string): string {
  const m = /(\d+)$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError(`expected host:port, :port or port, got "${v}"`);
  if (Number(m[1]) > 65535) throw new InvalidArgumentError(`port ${m[1]} is out of range (0-65535)`);
  return /^\d+$/.test(v.trim()) ? `127.0.0.1:${v.trim()}` : v;
}

/** Reads a node id: 1 to 64 letters, digits, `.`, `_`, `:` or `-` (it names Redis consumers and keys). */
function nodeId(v: string): string {
  if (!/^[A-Za-z0-9._:-]{1,64}$/.test(v))
    throw new InvalidArgumentError(`expected 1 to 64 letters, digits, ".", "_", ":" or "-", got "${v}"`);
  return v;
}

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
      .option(
        '--http <address>',
        'serve Streamable HTTP (and HTTP+SSE) on host:port (a bare port means 127.0.0.1:port)',
        address,
      )
      .option('--path <path>', 'HTTP path of the MCP endpoint', '/mcp')
      .option('--ws <address>', 'serve WebSocket (subprotocol mcp) on host:port, path /mcp', address)
      .option('--grpc <address>', 'serve gRPC (anywire.mcp.v1.Mcp) on host:port', address)
      .option('--mqtt <url>', 'serve over an MQTT 5 broker: mqtt://broker:1883/<server-name>')
      .option('--tcp <address>', 'serve newline-delimited JSON-RPC over TCP on host:port', address)
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
      )
      .option(
        '--log-level <level>',
        'lowest level of what the server logs on stderr (debug: every tool call)',
        logLevel,
      )
      .option('--verbose', 'print stacks, with the module file and line (also ANYWIRE_DEBUG=1)')
      .option(
        '--cors <origin>',
        'allow this browser origin (or *) on HTTP, with CORS headers (repeatable)',
        collect,
        [],
      )
      .option('--watch', 'restart when the module or a file it imports changes (dev mode)')
      .option(
        '--node-id <id>',
        "this node's name in a cluster: in /healthz and /readyz, and the shared stores' consumer name (default: hostname-pid)",
        nodeId,
      )
      .option(
        '--allow-insecure-webhooks',
        "tell the module's factory to allow webhook deliveries over http and to loopback/private addresses (development)",
      )
      .option(
        '--redis <url>',
        'keep every shared store in Redis (redis://host:port/db): sessions, events, tasks, notifications; exit status 69 when unreachable',
      )
      .option(
        '--max-clock-skew-ms <ms>',
        "with --redis: how far the nodes' clocks may differ; tasks expire that long after their ttl (default 2000)",
        nonNegativeInt,
      )
      .option(
        '--delivery-lease-ms <ms>',
        'with --redis: how long a webhook job a node took may stay unacknowledged before another node re-claims it (default 30000)',
        positiveInt,
      )
      .option('--auth-issuer <url>', 'require OAuth access tokens from this authorization server')
      .option('--auth-resource <url>', "this server's resource URL (RFC 8707); default: the --http endpoint")
      .option('--auth-scope <scope>', 'a scope every request needs (repeatable)', collect, [])
      .option('--auth-jwks <url>', "the issuer's JWKS URL (default: from its RFC 8414 or OIDC metadata)"),
  ).action(
    async (
      module: string,
      o: ServeOptions & ServeAuthFlags & { url: string[]; cors: string[]; watch?: boolean },
    ) => {
      if (o.watch) {
        const { serveWatching } = await import('./watch.js');
        await serveWatching(
          module,
          own.filter((a) => a !== '--watch'),
        );
        return;
      }
      const corsOrigins = o.cors.includes('*') ? '*' : o.cors.length ? o.cors : undefined;
      const { serveAuth } = await import('./serve-auth.js');
      await serve(module, { ...o, urls: o.url, corsOrigins, auth: (stores) => serveAuth(o, stores) });
    },
  );

  bindingOptions(
    targetOptions(
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
        .option('--config <file>', 'serve every server of an mcpServers JSON file, each under /<name>/')
        .option('--lazy', 'do not probe the upstream at start (connect on the first client)')
        .option('--probe-timeout <ms>', 'how long the start-up probe waits, in ms', positiveInt, 10_000),
    ),
  )
    .addHelpText(
      'after',
      `\nUpstream and --to URLs: stdio, ${URL_SCHEMES}.\n\nExamples:\n  $ anywire bridge --to http://127.0.0.1:3000/mcp -- npx -y @modelcontextprotocol/server-everything stdio\n  $ anywire bridge https://example.com/mcp -H 'Authorization: Bearer T' --to stdio\n  $ anywire bridge --config mcp.json --to http://127.0.0.1:3000 --to ws://127.0.0.1:3001\n`,
    )
    .action(
      async (
        from: string | undefined,
        o: BridgeOptions & { header: string[]; env: string[]; envPass: string[]; config?: string },
      ) => {
        const options = { ...o, headers: parseHeaders(o.header), env: childEnv(o.env, o.envPass) };
        if (o.config) {
          if (from !== undefined || command.length)
            throw new Error('anywire: --config names the upstreams itself');
          const { bridgeConfig } = await import('./gateway.js');
          await bridgeConfig(o.config, options);
          return;
        }
        const t = pickTarget(from === undefined ? [] : [from], command);
        if (t.rest.length) throw new Error(`anywire: unexpected argument ${t.rest[0]}`);
        await bridge(t.target, options);
      },
    );

  addClientCommands(program, command, async (work) => {
    status = await work();
  });

  registerLoginCommands(program);

  try {
    await program.parseAsync(own, { from: 'user' });
  } catch (e) {
    const err = e as { code?: string; exitCode?: number; message: string };
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
    if (err.code?.startsWith('commander.')) return err.exitCode ?? 1;
    reportFailure(e, { json: own.includes('--json'), verbose: own.includes('--verbose') });
    // A failure may carry its own status (serve --redis: 69 when Redis is unreachable).
    return typeof err.exitCode === 'number' && err.exitCode > 0 ? err.exitCode : 1;
  }
  return status;
}
