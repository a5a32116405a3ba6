/**
 * The Events extension (`io.modelcontextprotocol/events`, SEP-3415) on the everything server, with
 * two event types that show all three delivery modes (poll, push, webhook):
 *
 * - `everything.tick`: emitted on a timer (`tickIntervalMs`, default 5 000; `EVERYTHING_TICK_MS` in
 *   the environment of `anywire serve`). The timer starts and stops with the server and does not
 *   keep the process alive. A tick nobody listens to costs one entry in a bounded buffer (the last
 *   100 per type, for pollers) and nothing per listener. `arguments.every` keeps every n-th tick.
 * - `everything.note`: emitted by the `post_note` tool with the caller's `text` and `topic`;
 *   `arguments.topic` narrows a subscription to one topic. The tool answers once the note is
 *   recorded (it awaits `emitEvent`), and fails with the store's error when it could not be.
 *
 * Webhook subscriptions need an authenticated principal (serve with `--auth-issuer`); deliveries go
 * to public `https` URLs only, unless the server is served with `--allow-insecure-webhooks` (http
 * and loopback targets, for development and tests).
 */
import type { McpServer } from 'anywire';
import { createEventsExtension } from 'anywire/events';
import { z } from 'zod';

/** Options of {@link registerEventFixtures}. */
export interface EverythingEventsOptions {
  /** Interval of `everything.tick`, in ms (>= 10). Default 5 000, or `EVERYTHING_TICK_MS`. */
  tickIntervalMs?: number;
  /** Let webhook deliveries go to http and loopback targets (`anywire serve --allow-insecure-webhooks`). */
  allowInsecureWebhookTargets?: boolean;
}

/** Default interval of `everything.tick`, in ms. */
export const DEFAULT_TICK_INTERVAL_MS = 5_000;

function tickInterval(options: EverythingEventsOptions): number {
  const fromEnv = Number(globalThis.process?.env?.EVERYTHING_TICK_MS);
  const ms = options.tickIntervalMs ?? (fromEnv > 0 ? fromEnv : DEFAULT_TICK_INTERVAL_MS);
  if (!Number.isInteger(ms) || ms < 10)
    throw new RangeError(`everything: tickIntervalMs must be an integer >= 10 (got ${ms})`);
  return ms;
}

/** Adds the Events extension, its two event types, the `post_note` tool and the ticker to `server`. */
export function registerEventFixtures(server: McpServer, options: EverythingEventsOptions = {}): void {
  const intervalMs = tickInterval(options);
  const events = createEventsExtension({
    maxBufferedEventsPerType: 100,
    webhooks: {
      senderOptions: { allowInsecureWebhookTargets: options.allowInsecureWebhookTargets === true },
    },
  });
  server.extend(events);

  events.registerEvent('everything.tick', {
    description: `A clock tick every ${intervalMs} ms (timer)`,
    inputSchema: {
      type: 'object',
      properties: { every: { type: 'integer', minimum: 1, description: 'only every n-th tick' } },
    },
    payloadSchema: {
      type: 'object',
      properties: { n: { type: 'integer' }, at: { type: 'string', format: 'date-time' } },
      required: ['n', 'at'],
    },
    match: (event, args) =>
      args.every === undefined || (event.data.n as number) % (args.every as number) === 0,
  });
  events.registerEvent('everything.note', {
    description: 'A note posted with the post_note tool (the caller’s text)',
    inputSchema: {
      type: 'object',
      properties: { topic: { type: 'string', description: 'only notes of this topic' } },
    },
    payloadSchema: {
      type: 'object',
      properties: { text: { type: 'string' }, topic: { type: 'string' }, from: { type: 'string' } },
      required: ['text', 'topic'],
    },
    match: (event, args) => args.topic === undefined || event.data.topic === args.topic,
  });

  server.registerTool(
    'post_note',
    {
      description: 'Emits the everything.note event with your text (topic default "general")',
      inputSchema: { text: z.string(), topic: z.string().optional() },
    },
    async ({ text, topic }, ctx) => {
      const from = ctx.authInfo?.subject ?? ctx.authInfo?.clientId;
      // Awaited: the call succeeds only once the note is recorded (on Redis: appended to the shared
      // log and its webhook deliveries queued), so a node that dies right after answering loses
      // nothing; when the store is down the call fails with the reason instead.
      const event = await events.emitEvent('everything.note', {
        text,
        topic: topic ?? 'general',
        ...(from ? { from } : {}),
      });
      return { content: [{ type: 'text', text: `posted ${event.eventId}` }] };
    },
  );

  // The ticker: an extension without methods or settings (nothing is advertised), so that the
  // timer runs exactly while the server does.
  let timer: ReturnType<typeof setInterval> | undefined;
  let n = 0;
  server.extend({
    name: 'anywire-everything/ticker',
    start() {
      timer = setInterval(
        // Not awaited: a tick that fails to be recorded is reported on stderr, the next one follows.
        () => void events.emitEvent('everything.tick', { n: ++n, at: new Date().toISOString() }),
        intervalMs,
      );
      (timer as { unref?: () => void }).unref?.();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  });
}
