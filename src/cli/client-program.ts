/**
 * The client commands of the `anywire` command line (`call`, `list`, `read`, `prompt`, `complete`,
 * `inspect`): their options, help with examples, and the parsing of positionals (the target URL
 * may stand anywhere among them; a stdio command line follows `--`).
 * @module
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { LogLevel } from '../protocol/constants.js';
import { LOG_LEVELS } from '../protocol/constants.js';
import type { ClientCommandOptions, ListKind } from './commands.js';
import { clientHandlers } from './client-features.js';
import type { Target } from './target.js';
import { childEnv, pickTarget, URL_SCHEMES } from './target.js';

/** Raw option values of a client command, as commander gives them. */
export interface ClientFlags {
  json?: boolean;
  timeout?: number;
  quiet?: boolean;
  verbose?: boolean;
  header: string[];
  env: string[];
  envPass: string[];
  logLevel?: LogLevel;
  elicitJson?: string;
  root: string[];
  samplingCommand?: string;
}

const collect = (v: string, prev: string[]) => [...prev, v];

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** Validates a `--log-level` value. */
export function logLevel(v: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(v))
    throw new InvalidArgumentError(`expected one of ${LOG_LEVELS.join(', ')}`);
  return v as LogLevel;
}

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

/** Adds the options every command that spawns or reaches a server shares. */
export function targetOptions(c: Command): Command {
  return c
    .option(
      '-H, --header <header>',
      'a request header for URL targets, e.g. "authorization: Bearer T" (repeatable)',
      collect,
      [],
    )
    .option(
      '-e, --env <KEY=VALUE>',
      "set a variable in the stdio server's environment (repeatable)",
      collect,
      [],
    )
    .option(
      '--env-pass <NAME>',
      'pass a variable of this environment on to the stdio server (repeatable)',
      collect,
      [],
    )
    .option('-q, --quiet', "drop the stdio server's stderr")
    .option('--verbose', 'print stacks of failures (also ANYWIRE_DEBUG=1)');
}

function clientOptions(c: Command): Command {
  return targetOptions(c)
    .option('--json', 'print JSON for scripts (errors too, on stdout)')
    .option('--timeout <ms>', 'per-request timeout in ms', positiveInt)
    .option(
      '--log-level <level>',
      `ask the server for logs and print them on stderr (${LOG_LEVELS.join(', ')})`,
      logLevel,
    )
    .option('--elicit-json <json>', 'answer every elicitation with this JSON object (no terminal needed)')
    .option('--root <dir>', 'offer this directory as a root (repeatable)', collect, [])
    .option(
      '--sampling-command <cmd>',
      'answer sampling requests: the command reads the request JSON on stdin and prints the reply text',
    );
}

/** Turns commander's flags into command options. */
export function commandOptions(o: ClientFlags): ClientCommandOptions {
  return {
    json: o.json,
    timeoutMs: o.timeout,
    quiet: o.quiet,
    verbose: o.verbose,
    headers: parseHeaders(o.header),
    env: childEnv(o.env, o.envPass),
    logLevel: o.logLevel,
    handlers: clientHandlers({ elicitJson: o.elicitJson, roots: o.root, samplingCommand: o.samplingCommand }),
  };
}

function help(examples: string[]): string {
  return `\nTargets: a URL anywhere among the arguments (${URL_SCHEMES}),\nor a stdio server's command line after --.\n\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`;
}

type Run = (work: () => Promise<number>) => Promise<void>;

/**
 * Registers the client commands on `program`.
 * @param command the stdio command line given after `--`
 * @param run runs a command's work and records its exit status
 */
export function addClientCommands(program: Command, command: string[], run: Run): void {
  const target = (args: string[]): { target: Target; rest: string[] } => pickTarget(args, command);

  clientOptions(
    program
      .command('call')
      .description('call a tool with key=value arguments (typed from its input schema)')
      .argument('<args...>', 'the tool name and key=value arguments (and a target URL)')
      .option('--args <json>', 'arguments as a JSON object'),
  )
    .addHelpText(
      'after',
      help([
        'anywire call echo message=hello -- npx -y @modelcontextprotocol/server-everything stdio',
        'anywire call http://127.0.0.1:3000/mcp add a=1 b=2',
        'anywire call tag tags=a,b,c --args \'{"note":"x"}\' -- node server.js',
      ]),
    )
    .action(async (args: string[], o: ClientFlags & { args?: string }) => {
      const t = target(args);
      const [tool, ...pairs] = t.rest;
      if (!tool) throw new Error('anywire: name the tool to call');
      const { callCommand } = await import('./commands.js');
      await run(() => callCommand(t.target, tool, pairs, { ...commandOptions(o), args: o.args }));
    });

  clientOptions(
    program
      .command('list')
      .description('list tools (default), resources, templates (resource templates) or prompts')
      .argument('[args...]', 'what to list (and a target URL)'),
  )
    .addHelpText(
      'after',
      help([
        'anywire list tools -- npx -y @modelcontextprotocol/server-everything stdio',
        'anywire list templates http://127.0.0.1:3000/mcp',
        'anywire list prompts --json ws://127.0.0.1:3001/mcp',
      ]),
    )
    .action(async (args: string[], o: ClientFlags) => {
      const t = target(args);
      const kind = (t.rest[0] ?? 'tools') as ListKind;
      if (!['tools', 'resources', 'templates', 'prompts'].includes(kind) || t.rest.length > 1)
        throw new Error(
          `anywire: cannot list "${t.rest.join(' ')}" (tools, resources, templates or prompts)`,
        );
      const { listCommand } = await import('./commands.js');
      await run(() => listCommand(t.target, kind, commandOptions(o)));
    });

  clientOptions(
    program
      .command('read')
      .description('read a resource')
      .argument('<args...>', 'the resource URI (and a target URL)'),
  )
    .addHelpText(
      'after',
      help([
        'anywire read test://static-text -- anywire serve server.ts',
        'anywire read http://127.0.0.1:3000/mcp file:///notes.md',
      ]),
    )
    .action(async (args: string[], o: ClientFlags) => {
      // With a stdio command, every positional is the URI's; otherwise the first URL is the target.
      const t = command.length ? { target: { kind: 'stdio' as const, command }, rest: args } : target(args);
      if (t.rest.length !== 1) throw new Error('anywire: name one resource URI to read');
      const { readCommand } = await import('./commands.js');
      await run(() => readCommand(t.target, t.rest[0]!, commandOptions(o)));
    });

  clientOptions(
    program
      .command('prompt')
      .description('render a prompt with key=value arguments')
      .argument('<args...>', 'the prompt name and key=value arguments (and a target URL)'),
  )
    .addHelpText(
      'after',
      help([
        'anywire prompt simple_prompt -- npx -y @modelcontextprotocol/server-everything stdio',
        'anywire prompt http://127.0.0.1:3000/mcp code_review language=ts',
      ]),
    )
    .action(async (args: string[], o: ClientFlags) => {
      const t = target(args);
      const [name, ...pairs] = t.rest;
      if (!name) throw new Error('anywire: name the prompt');
      const { promptCommand } = await import('./commands.js');
      await run(() => promptCommand(t.target, name, pairs, commandOptions(o)));
    });

  clientOptions(
    program
      .command('complete')
      .description(
        'complete an argument of a prompt (prompt:<name>) or a resource template (resource:<uri-template>)',
      )
      .argument('<args...>', '<ref> <argument> [partial value] (and a target URL)')
      .option('--context <key=value>', 'an argument already chosen, as context (repeatable)', collect, []),
  )
    .addHelpText(
      'after',
      help([
        'anywire complete prompt:code_review language py -- node server.js',
        "anywire complete http://127.0.0.1:3000/mcp 'resource:file:///{path}' path src/ --context root=/srv",
      ]),
    )
    .action(async (args: string[], o: ClientFlags & { context: string[] }) => {
      const t = target(args);
      const [ref, argument, value = '', ...extra] = t.rest;
      if (!ref || !argument || extra.length)
        throw new Error('anywire: complete takes <ref> <argument> [partial value]');
      const { completeCommand } = await import('./commands.js');
      await run(() => completeCommand(t.target, ref, argument, value, o.context, commandOptions(o)));
    });

  clientOptions(
    program
      .command('inspect')
      .description('one screen about a server: info, era, capabilities, tools, resources, templates, prompts')
      .argument('[args...]', 'a target URL'),
  )
    .addHelpText(
      'after',
      help([
        'anywire inspect -- npx -y @modelcontextprotocol/server-everything stdio',
        'anywire inspect http://127.0.0.1:3000/mcp --json',
      ]),
    )
    .action(async (args: string[], o: ClientFlags) => {
      const t = target(args);
      if (t.rest.length) throw new Error(`anywire: unexpected argument ${t.rest[0]}`);
      const { inspectCommand } = await import('./inspect.js');
      await run(() => inspectCommand(t.target, commandOptions(o)));
    });

  clientOptions(
    program
      .command('task')
      .description('read, wait for or cancel a task (2026-07-28 Tasks extension) by id')
      .argument('<args...>', 'get | wait | cancel, the task id (and a target URL)'),
  )
    .addHelpText(
      'after',
      help([
        'anywire task get http://127.0.0.1:3000/mcp 1b4e28ba-2fa1-11d2-883f-0016d3cca427',
        'anywire task wait http://127.0.0.1:3000/mcp 1b4e28ba-2fa1-11d2-883f-0016d3cca427',
        'anywire task cancel http://127.0.0.1:3000/mcp 1b4e28ba-2fa1-11d2-883f-0016d3cca427',
      ]),
    )
    .action(async (args: string[], o: ClientFlags) => {
      const t = target(args);
      const [action, taskId, ...extra] = t.rest;
      if ((action !== 'get' && action !== 'wait' && action !== 'cancel') || !taskId || extra.length)
        throw new Error('anywire: task takes get|wait|cancel <taskId>');
      const { taskCommand } = await import('./task.js');
      await run(() => taskCommand(t.target, action, taskId, commandOptions(o)));
    });
  clientOptions(
    program
      .command('events')
      .description('the Events extension: list event types, poll, stream, or (un)subscribe a webhook')
      .argument(
        '<args...>',
        'list | poll | stream | subscribe | unsubscribe, the event name, key=value arguments (and a target URL)',
      )
      .option('--cursor <cursor>', 'poll/stream/subscribe: start after this cursor')
      .option('--max-events <n>', 'poll: the most events to return', positiveInt)
      .option('--webhook <url>', 'subscribe/unsubscribe: the callback URL')
      .option(
        '--secret <whsec>',
        'subscribe: the whsec_ signing secret (default: generated, printed on stderr)',
      )
      .option('--ttl-ms <ms>', 'subscribe: suggested subscription lifetime in ms', positiveInt),
  )
    .addHelpText(
      'after',
      help([
        'anywire events list http://127.0.0.1:3000/mcp',
        'anywire events poll http://127.0.0.1:3000/mcp build.finished repo=anywire --cursor 1f2e.41',
        'anywire events stream http://127.0.0.1:3000/mcp build.finished',
        'anywire events subscribe https://mcp.example.com/mcp build.finished --webhook https://me.example.com/hooks',
      ]),
    )
    .action(
      async (
        args: string[],
        o: ClientFlags & {
          cursor?: string;
          maxEvents?: number;
          webhook?: string;
          secret?: string;
          ttlMs?: number;
        },
      ) => {
        const t = target(args);
        const [action, name, ...pairs] = t.rest;
        const { EVENTS_ACTIONS, eventsCommand } = await import('./events.js');
        if (!(EVENTS_ACTIONS as readonly string[]).includes(action ?? ''))
          throw new Error(`anywire: events takes ${EVENTS_ACTIONS.join('|')}`);
        if (action === 'list' && name) throw new Error(`anywire: unexpected argument ${name}`);
        const { cursor, maxEvents, webhook, secret, ttlMs } = o;
        await run(() =>
          eventsCommand(t.target, action as 'list', name, pairs, {
            ...commandOptions(o),
            cursor,
            maxEvents,
            webhook,
            secret,
            ttlMs,
          }),
        );
      },
    );
}
