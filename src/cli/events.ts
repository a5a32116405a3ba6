/**
 * `anywire events list|poll|stream|subscribe|unsubscribe`: the Events extension (SEP-3415) from the
 * command line. Results go to stdout (JSON; `stream` prints one event per line until Ctrl-C),
 * diagnostics and a generated webhook secret to stderr. Each returns the exit status.
 * @module
 */
import {
  listEvents,
  pollEvents,
  streamEvents,
  subscribeEvents,
  unsubscribeEvents,
} from '../client/events.js';
import type { Client } from '../client/client.js';
import type { JsonObject, Tool } from '../protocol/types.js';
import { generateWebhookSecret } from '../webhooks/secret.js';
import type { ClientCommandOptions } from './commands.js';
import { buildArguments, withClient } from './commands.js';
import type { Target } from './target.js';

/** Flags of `anywire events`. */
export interface EventsCommandOptions extends ClientCommandOptions {
  /** `poll`/`stream`/`subscribe`: start after this cursor. */
  cursor?: string;
  /** `poll`: the most events to return. */
  maxEvents?: number;
  /** `subscribe`/`unsubscribe`: the callback URL. */
  webhook?: string;
  /** `subscribe`: the `whsec_` secret (generated and printed on stderr when absent). */
  secret?: string;
  /** `subscribe`: suggested lifetime, in ms. */
  ttlMs?: number;
}

/** The `events` actions. */
export const EVENTS_ACTIONS = ['list', 'poll', 'stream', 'subscribe', 'unsubscribe'] as const;
/** One `events` action. */
export type EventsAction = (typeof EVENTS_ACTIONS)[number];

/** Builds subscription arguments from `key=value` pairs, typed by the event's inputSchema. */
async function eventArguments(client: Client, name: string, pairs: string[]): Promise<JsonObject> {
  if (!pairs.length) return {};
  const type = (await listEvents(client)).find((e) => e.name === name);
  return buildArguments(
    pairs,
    undefined,
    type ? ({ name, inputSchema: type.inputSchema } as Tool) : undefined,
  );
}

const line = (o: ClientCommandOptions, value: unknown, pretty = true) =>
  (o.stdout ?? process.stdout).write(`${pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value)}\n`);

/** Waits for Ctrl-C (SIGINT) or SIGTERM. */
const interrupted = () =>
  new Promise<void>((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });

/**
 * Runs one `anywire events` action against `target`.
 * @throws Error for a missing event name or `--webhook` (before connecting)
 */
export function eventsCommand(
  target: Target,
  action: EventsAction,
  name: string | undefined,
  pairs: string[],
  o: EventsCommandOptions,
): Promise<number> {
  if (action !== 'list' && !name) throw new Error(`anywire: events ${action} needs an event name`);
  if ((action === 'subscribe' || action === 'unsubscribe') && !o.webhook)
    throw new Error(`anywire: events ${action} needs --webhook <URL>`);
  const err = o.stderr ?? process.stderr;
  return withClient(target, o, async (client) => {
    if (action === 'list') {
      const types = await listEvents(client);
      if (o.json) line(o, types);
      else
        for (const t of types)
          (o.stdout ?? process.stdout).write(
            `${t.name} [${t.delivery.join(', ')}]${t.description ? `  ${t.description}` : ''}\n`,
          );
      return 0;
    }
    const args = await eventArguments(client, name!, pairs);
    switch (action) {
      case 'poll': {
        line(o, await pollEvents(client, name!, args, { cursor: o.cursor ?? null, maxEvents: o.maxEvents }));
        return 0;
      }
      case 'stream': {
        const stream = await streamEvents(client, name!, args, (e) => line(o, e, false), {
          cursor: o.cursor ?? null,
        });
        err.write(`streaming ${name} (subscription ${stream.subscriptionId}); Ctrl-C to stop\n`);
        await Promise.race([interrupted(), stream.closed]);
        await stream.close();
        if (stream.cursor) err.write(`resume with --cursor ${stream.cursor}\n`);
        return 0;
      }
      case 'subscribe': {
        const secret = o.secret ?? generateWebhookSecret();
        if (!o.secret) err.write(`webhook secret (verify deliveries with it): ${secret}\n`);
        const sub = await subscribeEvents(client, name!, args, {
          url: o.webhook!,
          secret,
          ttlMs: o.ttlMs,
          cursor: o.cursor,
        });
        line(o, sub);
        return 0;
      }
      case 'unsubscribe':
        await unsubscribeEvents(client, name!, args, { url: o.webhook! });
        if (o.json) line(o, { unsubscribed: true });
        else err.write(`unsubscribed ${name} from ${o.webhook}\n`);
        return 0;
    }
  });
}
