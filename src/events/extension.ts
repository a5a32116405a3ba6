/**
 * The Events extension (`io.modelcontextprotocol/events`, SEP-3415, a draft) as a server extension,
 * with the three delivery modes: `events/poll` (from the emit buffer, cursors and `truncated`),
 * `events/stream` (push: `notifications/events/active`, `.../event`, `.../heartbeat` stamped with the
 * subscription id, until the client cancels), and webhooks (`events/subscribe` /
 * `events/unsubscribe`: an authenticated principal, `https` callback, `whsec_` secret, endpoint
 * verification, signed SSRF-guarded delivery with retries). Both capability placements: the SEP's
 * `extensions["io.modelcontextprotocol/events"]` and, with `topLevelCapability`, the top-level
 * `events` of OpenAI's webhook-only profile; its callback error code is an option.
 *
 * ```ts
 * const events = createEventsExtension();
 * server.extend(events);
 * events.registerEvent('build.finished', { inputSchema, payloadSchema, match: (e, args) => e.data.repo === args.repo });
 * await events.emitEvent('build.finished', { repo: 'anywire', ok: true }); // resolves once recorded
 * ```
 * @module
 */
import { ErrorCode, JsonRpcError } from '../jsonrpc/errors.js';
import { principalOf } from '../protocol/auth.js';
import { META } from '../protocol/constants.js';
import type { JsonObject } from '../protocol/types.js';
import type { HandlerContext } from '../server/context.js';
import { contextInternals } from '../server/context.js';
import type { Extension } from '../server/extension.js';
import type { CompiledSchema } from '../server/schema.js';
import { compileSchema } from '../server/schema.js';
import { WebhookSender } from '../webhooks/sender.js';
import type { WebhookSenderOptions } from '../webhooks/sender.js';
import { isWebhookSecret } from '../webhooks/secret.js';
import { canonicalJson } from '../protocol/canonical-json.js';
import { publishSafely } from '../protocol/notification-bus.js';
import type { ServerEvent } from '../protocol/notification-bus.js';
import type { ExtensionHost } from '../server/extension.js';
import { InMemoryWebhookDeliveryQueue } from './memory-deliveries.js';
import { InMemoryEventLog } from './memory-log.js';
import { InMemoryWebhookSubscriptionStore } from './memory-subscriptions.js';
import type { EventLog, EventLogEntry, EventsStores } from './stores.js';
import type { DeliveryMode, EmitReceipt, EmittedEvent, EventConfig } from './types.js';
import { EVENTS_EXTENSION_ID, EventsErrorCode } from './types.js';
import type { EventWebhookSender } from './webhook-subscriptions.js';
import { WebhookSubscriptions } from './webhook-subscriptions.js';

/** Options of {@link createEventsExtension}. Limits have units in their names. */
export interface EventsOptions {
  /**
   * The occurrence log, webhook subscriptions and delivery queue (each optional). Unset ones come
   * from the server's shared stores (`host.stores.events`, e.g. `redisStores(url)`), else in memory.
   */
  stores?: EventsStores;
  /** Events kept per event type for `events/poll` and replay by the in-memory log. Default 1 000. */
  maxBufferedEventsPerType?: number;
  /** `nextPollMs` suggested to pollers. Default 5 000. */
  pollIntervalMs?: number;
  /** Most events one poll returns (`maxEvents` may lower it). Default 100. */
  maxEventsPerPoll?: number;
  /** Interval of `notifications/events/heartbeat` on push streams, in ms. Default 15 000 (the SEP: at least every 30 s). */
  heartbeatIntervalMs?: number;
  /** Webhook mode; `false` turns it off. Default on, with the SSRF-guarded `WebhookSender`. */
  webhooks?:
    | false
    | {
        /** A sender (default: `new WebhookSender(senderOptions)`). */
        sender?: EventWebhookSender;
        /** Options of the default sender (e.g. `allowInsecureWebhookTargets` for development). */
        senderOptions?: WebhookSenderOptions;
        /** TTL granted when the client suggests none, in ms. Default 3 600 000. */
        defaultTtlMs?: number;
        /** Longest TTL granted, in ms. Default 86 400 000 (no expiry is never granted). */
        maxTtlMs?: number;
        /** Shortest TTL granted (shorter suggestions are raised), in ms. Default 60 000. */
        minTtlMs?: number;
        /** How long a replaced secret still signs, in ms. Default 300 000. */
        secretGraceMs?: number;
        /** Most webhook subscriptions held (-32025 beyond). Default 10 000. */
        maxSubscriptions?: number;
        /** How long a verified `(principal, url)` stays verified, in ms. Default 86 400 000. */
        verificationTtlMs?: number;
        /** Consecutive failed deliveries before delivery is suspended until the next refresh. Default 20. */
        suspendAfterFailures?: number;
      };
  /**
   * The reserved event type `mcp.task.updated` (experimental, after SEP-3415 open question 6):
   * every status change of a task of the Tasks extension, its `DetailedTask` as `data`, delivered
   * only to subscriptions of the principal that owns the task; argument `taskId` narrows it to one
   * task. With webhooks, a client can start a long job, disconnect, and have the outcome pushed.
   * Default false.
   */
  taskEvents?: boolean;
  /** Also declare the top-level `capabilities.events` (OpenAI's webhook-only profile). Default false. */
  topLevelCapability?: boolean;
  /** The JSON-RPC code of a callback endpoint failure. Default -32027 (SEP-3415); OpenAI's profile uses -32015. */
  callbackErrorCode?: number;
}

/** The Events extension with its server API. */
export interface EventsExtension extends Extension {
  /**
   * Declares an event type.
   * @throws Error when the name is taken
   */
  registerEvent(name: string, config?: EventConfig): void;
  /**
   * Emits an event: logged for pollers, pushed to matching streams, queued for matching webhook
   * subscriptions. Returns an {@link EmitReceipt}: the event as emitted (its fields readable at
   * once) and a promise that resolves with it once the occurrence is appended to the event log and
   * its webhook deliveries are queued (in memory: at once; on a shared store such as Redis: once
   * the store acknowledged both, so the occurrence outlives this process), and rejects with an
   * `Error` (`... was not recorded: ...`, the store's error as `cause`) when it could not be
   * recorded. Await it before reporting the occurrence as done (a tool's result, an HTTP 2xx):
   * otherwise a process that dies, or a store that is down, loses it silently. Not awaiting it is
   * allowed (failures then go to the server's error reporting only).
   * @throws Error for an undeclared event type (synchronously)
   */
  emitEvent(
    name: string,
    data: JsonObject,
    options?: {
      eventId?: string;
      timestamp?: string;
      /** Targeted emit: only subscriptions of this principal receive it. */
      principal?: string;
    },
  ): EmitReceipt;
  /**
   * Resolves when every emit so far is logged and fanned out, and every webhook delivery this
   * process queued or took so far has finished (with a shared queue, other processes may deliver).
   */
  settled(): Promise<void>;
}

interface EventType {
  name: string;
  config: EventConfig;
  input: CompiledSchema;
  delivery: DeliveryMode[];
}

interface PushStream {
  name: string;
  args: JsonObject;
  principal: string;
  id: string | number;
  send(method: string, params: JsonObject): void;
  cursor: string;
  /** Live occurrences held back while the stream replays from the log. */
  held?: EventLogEntry[];
  end(): void;
}

/** A 52-bit FNV-1a hash in hex: a deterministic id for identical content (not a security boundary). */
function contentHash(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++)
    h = ((h ^ BigInt(text.charCodeAt(i))) * 0x100000001b3n) & 0xffffffffffffffffn;
  return (h & 0xfffffffffffffn).toString(16);
}

/** Occurrences read per round trip to the log. */
const LOG_BATCH = 200;

/** The reserved event type of task status changes (`taskEvents`). */
export const TASK_UPDATED_EVENT = 'mcp.task.updated';

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const eventsError = (code: number, message: string, data?: unknown) => new JsonRpcError(code, message, data);
const invalid = (message: string) => new JsonRpcError(ErrorCode.InvalidParams, message);

function positive(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isSafeInteger(v) || v <= 0))
    throw new RangeError(`anywire: events ${name} must be a positive integer, got ${v}`);
}

/**
 * Builds the Events extension.
 * @throws RangeError for an out-of-range option
 */
export function createEventsExtension(options: EventsOptions = {}): EventsExtension {
  for (const k of [
    'maxBufferedEventsPerType',
    'pollIntervalMs',
    'maxEventsPerPoll',
    'heartbeatIntervalMs',
  ] as const)
    positive(k, options[k]);
  const w = options.webhooks === false ? undefined : (options.webhooks ?? {});
  if (w)
    for (const k of [
      'defaultTtlMs',
      'maxTtlMs',
      'minTtlMs',
      'secretGraceMs',
      'maxSubscriptions',
      'verificationTtlMs',
      'suspendAfterFailures',
    ] as const)
      positive(`webhooks.${k}`, w[k]);
  const types = new Map<string, EventType>();
  const streams = new Set<PushStream>();
  const limits = w && {
    defaultTtlMs: w.defaultTtlMs ?? 3_600_000,
    maxTtlMs: w.maxTtlMs ?? 86_400_000,
    minTtlMs: w.minTtlMs ?? 60_000,
    secretGraceMs: w.secretGraceMs ?? 300_000,
    maxSubscriptions: w.maxSubscriptions ?? 10_000,
    verificationTtlMs: w.verificationTtlMs ?? 86_400_000,
    suspendAfterFailures: w.suspendAfterFailures ?? 20,
  };
  const callbackErrorCode = options.callbackErrorCode ?? EventsErrorCode.CallbackEndpointError;
  const heartbeatMs = options.heartbeatIntervalMs ?? 15_000;

  // Stores: the options', else the server's shared ones (known at start), else in memory. Used
  // before start (an emit at startup), the in-memory defaults are fixed then.
  let host: ExtensionHost | undefined;
  let log: EventLog | undefined = options.stores?.log;
  let memoryLog = log instanceof InMemoryEventLog ? log : undefined;
  let hooks: WebhookSubscriptions | undefined;
  const shared = (): EventsStores => host?.stores?.events ?? {};
  const getLog = (): EventLog => {
    if (!log) {
      log =
        shared().log ?? new InMemoryEventLog({ maxEventsPerName: options.maxBufferedEventsPerType ?? 1000 });
      if (log instanceof InMemoryEventLog) memoryLog = log;
    }
    return log;
  };
  const getHooks = (): WebhookSubscriptions | undefined => {
    if (!w || !limits) return undefined;
    hooks ??= new WebhookSubscriptions(
      w.sender ?? new WebhookSender(w.senderOptions),
      limits,
      options.stores?.subscriptions ?? shared().subscriptions ?? new InMemoryWebhookSubscriptionStore(),
      options.stores?.deliveries ?? shared().deliveries ?? new InMemoryWebhookDeliveryQueue(),
    );
    return hooks;
  };
  const report = (error: unknown) => host?.reportError(error);

  /** Emits in flight: appended to a shared log (`appending`), fanned out to webhooks (`fanning`). */
  const appending = new Set<Promise<unknown>>();
  const fanning = new Set<Promise<unknown>>();
  const track = (set: Set<Promise<unknown>>, p: Promise<unknown>) => {
    const q: Promise<unknown> = p.catch(report).finally(() => set.delete(q));
    set.add(q);
  };
  const drain = async (set: Set<Promise<unknown>>) => {
    while (set.size) await Promise.all([...set]);
  };

  const shape = (t: EventType, entry: EventLogEntry, args: JsonObject, principal: string) =>
    (entry.principal !== undefined && entry.principal !== principal) ||
    (t.config.match && !t.config.match(entry.event, args, principal))
      ? undefined
      : t.config.transform
        ? t.config.transform(entry.event, args, principal)
        : entry.event;

  /** Resolves and checks name, arguments and mode of an events/* request. */
  async function resolve(
    params: JsonObject,
    mode: DeliveryMode,
  ): Promise<{ type: EventType; args: JsonObject }> {
    if (typeof params.name !== 'string') throw invalid('Invalid params: name must be a string');
    const type = types.get(params.name);
    if (!type)
      throw eventsError(EventsErrorCode.NotFound, `Event type not found: ${params.name}`, { kind: 'event' });
    if (!type.delivery.includes(mode))
      throw eventsError(
        EventsErrorCode.Unsupported,
        `Event type ${type.name} does not offer ${mode} delivery`,
        {
          feature: 'deliveryMode',
          value: mode,
        },
      );
    const args = params.arguments ?? {};
    if (!isObject(args)) throw invalid('Invalid params: arguments must be an object');
    const checked = await type.input.validate(args);
    if (!checked.ok)
      throw invalid(`Invalid params: arguments do not match the event's inputSchema: ${checked.message}`);
    // What this process emitted so far is readable by what follows.
    await drain(appending);
    return { type, args };
  }

  const maxAge = (params: JsonObject) => {
    const v = params.maxAgeMs;
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw invalid('Invalid params: maxAgeMs must be a number >= 0');
    return v;
  };

  const occurrence = (e: EmittedEvent, cursor: string): JsonObject => ({ ...e, cursor });

  /** Every occurrence of `name` after `after`, in batches, oldest first. */
  async function* replay(name: string, after: string): AsyncGenerator<EventLogEntry> {
    for (;;) {
      const batch = await getLog().read(name, after, LOG_BATCH);
      for (const entry of batch) yield entry;
      if (batch.length < LOG_BATCH) return;
      after = batch[batch.length - 1]!.cursor;
    }
  }

  /** Pushes one logged occurrence to a live stream (held while it replays). */
  const pushTo = (s: PushStream, type: EventType, entry: EventLogEntry) => {
    if (s.held) {
      s.held.push(entry);
      return;
    }
    s.cursor = entry.cursor;
    const shaped = shape(type, entry, s.args, s.principal);
    if (shaped) s.send('notifications/events/event', occurrence(shaped, entry.cursor));
  };

  /**
   * After an occurrence is logged: push streams here (at once), queue the matching webhook
   * deliveries. Resolves once every delivery is queued; rejects when one was not.
   */
  function fanOut(type: EventType, entry: EventLogEntry): Promise<void> {
    for (const s of streams) if (s.name === type.name) pushTo(s, type, entry);
    const webhooks = getHooks();
    if (!webhooks || !type.delivery.includes('webhook')) return Promise.resolve();
    const queued = webhooks.matching(type.name).then(async (subs) => {
      const jobs: Promise<void>[] = [];
      for (const sub of subs) {
        const shaped = shape(type, entry, sub.args, sub.principal);
        if (shaped) jobs.push(webhooks.deliver(sub, shaped.eventId, occurrence(shaped, entry.cursor)));
      }
      await Promise.all(jobs);
    });
    track(fanning, queued);
    return queued;
  }

  const methods: Extension['methods'] = {
    'events/list': async () => ({
      resultType: 'complete',
      events: [...types.values()].map((t) => {
        const d: JsonObject = { name: t.name, delivery: t.delivery, inputSchema: t.input.jsonSchema };
        if (t.config.description !== undefined) d.description = t.config.description;
        if (t.config.payloadSchema !== undefined) d.payloadSchema = t.config.payloadSchema;
        if (t.config._meta !== undefined) d._meta = t.config._meta;
        return d;
      }),
    }),
    'events/poll': async (params, ctx) => {
      const { type, args } = await resolve(params, 'poll');
      const start = await getLog().start(type.name, params.cursor ?? null, maxAge(params));
      const limit = Math.min(
        options.maxEventsPerPoll ?? 100,
        typeof params.maxEvents === 'number' && params.maxEvents > 0
          ? Math.floor(params.maxEvents)
          : Infinity,
      );
      const principal = principalOf(ctx.authInfo);
      const out: JsonObject[] = [];
      let last = start.cursor;
      let hasMore = false;
      for await (const entry of replay(type.name, start.cursor)) {
        if (out.length >= limit) {
          hasMore = true;
          break;
        }
        last = entry.cursor;
        const shaped = shape(type, entry, args, principal);
        if (shaped) out.push({ ...shaped });
      }
      return {
        resultType: 'complete',
        events: out,
        // Everything of this type up to `last` was examined.
        cursor: last,
        truncated: start.truncated,
        hasMore,
        nextPollMs: options.pollIntervalMs ?? 5000,
      };
    },
    'events/stream': async (params, ctx) => {
      const { type, args } = await resolve(params, 'push');
      const { scope } = contextInternals(ctx);
      const id = scope.call.id;
      const principal = principalOf(ctx.authInfo);
      const start = await getLog().start(type.name, params.cursor ?? null, maxAge(params));
      const stamp = (p: JsonObject): JsonObject => ({ ...p, _meta: { [META.subscriptionId]: id } });
      let ended!: () => void;
      const done = new Promise<void>((r) => (ended = r));
      const stream: PushStream = {
        name: type.name,
        args,
        principal,
        id,
        cursor: start.cursor,
        held: [],
        send: (method, p) => void scope.notify(method, stamp(p)).catch(() => stream.end()),
        end: () => ended(),
      };
      // Live occurrences are held from here while the log replays, then those not replayed follow.
      streams.add(stream);
      let beat: ReturnType<typeof setInterval> | undefined;
      try {
        await scope.notify(
          'notifications/events/active',
          stamp({ cursor: stream.cursor, truncated: start.truncated }),
        );
        const replayed = new Set<string>();
        for await (const entry of replay(type.name, start.cursor)) {
          replayed.add(entry.event.eventId);
          stream.cursor = entry.cursor;
          const shaped = shape(type, entry, args, principal);
          if (shaped) stream.send('notifications/events/event', occurrence(shaped, stream.cursor));
        }
        const held = stream.held!;
        delete stream.held;
        for (const entry of held) if (!replayed.has(entry.event.eventId)) pushTo(stream, type, entry);
        beat = setInterval(
          () => stream.send('notifications/events/heartbeat', { cursor: stream.cursor }),
          heartbeatMs,
        );
        beat.unref?.();
        const signal = ctx.signal;
        if (signal.aborted) ended();
        else signal.addEventListener('abort', () => ended(), { once: true });
        await done;
      } finally {
        clearInterval(beat);
        streams.delete(stream);
      }
      return { resultType: 'complete', _meta: { [META.subscriptionId]: id } };
    },
    'events/subscribe': async (params, ctx) => subscribe(params, ctx),
    'events/unsubscribe': async (params, ctx) => {
      const { hooks, principal, type, args, delivery } = await webhookTarget(params, ctx);
      if (!(await hooks.remove(principal, delivery.url, type.name, args)))
        throw eventsError(EventsErrorCode.NotFound, 'Subscription not found', { kind: 'subscription' });
      return { resultType: 'complete' };
    },
  };

  /** The checked common part of events/subscribe and events/unsubscribe. */
  async function webhookTarget(params: JsonObject, ctx: HandlerContext) {
    const webhooks = getHooks();
    if (!webhooks)
      throw eventsError(EventsErrorCode.Unsupported, 'Webhook delivery is not offered', {
        feature: 'deliveryMode',
        value: 'webhook',
      });
    const principal = requirePrincipal(ctx);
    const { type, args } = await resolve(params, 'webhook');
    const delivery = params.delivery;
    if (!isObject(delivery) || typeof delivery.url !== 'string')
      throw invalid('Invalid params: delivery.url must be a string');
    return { hooks: webhooks, principal, type, args, delivery: delivery as JsonObject & { url: string } };
  }

  function requirePrincipal(ctx: HandlerContext): string {
    const principal = principalOf(ctx.authInfo);
    if (!principal)
      throw eventsError(
        EventsErrorCode.Forbidden,
        'Forbidden: webhook subscriptions need an authenticated principal',
      );
    return principal;
  }

  async function subscribe(params: JsonObject, ctx: HandlerContext): Promise<JsonObject> {
    const { hooks: webhooks, principal, type, args, delivery } = await webhookTarget(params, ctx);
    if (delivery.mode !== undefined && delivery.mode !== 'webhook')
      throw invalid('Invalid params: delivery.mode must be "webhook"');
    const bad = webhooks.checkUrl(delivery.url);
    if (bad) throw invalid(`Invalid params: delivery.url refused: ${bad}`);
    if (!isWebhookSecret(delivery.secret))
      throw invalid('Invalid params: delivery.secret must be whsec_ followed by base64 of 24 to 64 bytes');
    const ttl = params.ttlMs;
    if (ttl !== undefined && ttl !== null && (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0))
      throw invalid('Invalid params: ttlMs must be a number >= 0 or null');
    const start = await getLog().start(type.name, params.cursor ?? null, maxAge(params));
    const r = await webhooks.upsert(
      principal,
      delivery.url,
      type.name,
      args,
      delivery.secret,
      ttl as number | null | undefined,
    );
    if (!r.ok) {
      if (r.reason === 'limit')
        throw eventsError(EventsErrorCode.ResourceExhausted, 'Too many webhook subscriptions', {
          limit: 'subscriptions',
        });
      throw eventsError(callbackErrorCode, 'Callback endpoint error', { reason: r.reason });
    }
    const sub = r.subscription;
    // Replay what the cursor asked for (as far as the log retains it).
    let head = start.cursor;
    if (r.created && params.cursor !== null && params.cursor !== undefined)
      for await (const entry of replay(type.name, start.cursor)) {
        head = entry.cursor;
        const shaped = shape(type, entry, args, principal);
        if (shaped) webhooks.deliver(sub, shaped.eventId, occurrence(shaped, entry.cursor)).catch(report);
      }
    else head = await getLog().head(type.name);
    const result: JsonObject = {
      resultType: 'complete',
      id: sub.id,
      refreshBefore: new Date(sub.expiresAt).toISOString(),
      cursor: head,
      truncated: start.truncated,
    };
    if (!r.created) result.deliveryStatus = webhooks.status(sub, r.wasActive);
    return result;
  }

  /**
   * Logs an occurrence, then fans it out (at once on the in-memory log). Resolves once it is logged
   * and its webhook deliveries are queued; rejects when either failed (also reported to the host).
   */
  function emitNow(type: EventType, event: EmittedEvent, target: { principal?: string }): Promise<void> {
    const logged = (cursor: string | undefined): Promise<void> => {
      // undefined: this eventId is already logged (emitted here or by another process): once only.
      if (cursor === undefined) return Promise.resolve();
      const queued = fanOut(type, { cursor, event, ...target });
      // A shared log: the push streams of the other processes hear of it over the bus.
      if (!memoryLog && host)
        publishSafely(
          host.bus,
          {
            type: 'event_occurred',
            origin: instanceId,
            cursor,
            event: event as unknown as JsonObject,
            ...target,
          },
          report,
        );
      return queued;
    };
    getLog();
    if (memoryLog) return logged(memoryLog.appendNow(event, target));
    const appended = getLog().append(event, target);
    track(appending, appended);
    return appended.then(logged);
  }

  /** The receipt of an emit: the event's fields on the promise that it was recorded. */
  function receipt(event: EmittedEvent, recorded: Promise<void>): EmitReceipt {
    const p = recorded.then(
      () => event,
      (error: unknown) => {
        const why = error instanceof Error ? error.message : String(error);
        throw new Error(`anywire: event "${event.name}" (${event.eventId}) was not recorded: ${why}`, {
          cause: error,
        });
      },
    );
    p.catch(() => {}); // awaiting is optional: the failure was reported to the host already
    return Object.assign(p, event);
  }

  /** Emits before start, held until the server's stores are known (settled by `start`). */
  const early: {
    event: EmittedEvent;
    target: { principal?: string };
    settle: (recorded: Promise<void>) => void;
  }[] = [];
  const instanceId = globalThis.crypto.randomUUID();

  /** An occurrence another process logged in the shared log: pushed to this process's streams. */
  function pushRemote(o: Extract<ServerEvent, { type: 'event_occurred' }>): void {
    if (o.origin === instanceId || memoryLog) return;
    const type = types.get(o.event.name as string);
    if (!type) return;
    const entry: EventLogEntry = { cursor: o.cursor, event: o.event as unknown as EmittedEvent };
    if (o.principal !== undefined) entry.principal = o.principal;
    for (const s of streams) if (s.name === type.name) pushTo(s, type, entry);
  }

  let unsubscribeBus: (() => void) | undefined;
  const extension: EventsExtension = {
    name: EVENTS_EXTENSION_ID,
    eras: ['modern'],
    settings: { listChanged: false },
    ...(options.topLevelCapability ? { capabilities: { events: {} } } : {}),
    methods,
    registerEvent(name, config = {}) {
      if (types.has(name)) throw new Error(`anywire: event type "${name}" is already registered`);
      const offered: DeliveryMode[] = w ? ['poll', 'push', 'webhook'] : ['poll', 'push'];
      const delivery = (config.delivery ?? offered).filter((m) => offered.includes(m));
      if (delivery.length === 0)
        throw new Error(`anywire: event type "${name}" has no delivery mode this server offers`);
      types.set(name, { name, config, delivery, input: compileSchema(config.inputSchema as never) });
    },
    emitEvent(name, data, emitOptions = {}) {
      const type = types.get(name);
      if (!type) throw new Error(`anywire: event type "${name}" is not registered`);
      const event: EmittedEvent = {
        eventId: emitOptions.eventId ?? `evt_${globalThis.crypto.randomUUID()}`,
        name,
        timestamp: emitOptions.timestamp ?? new Date().toISOString(),
        data,
      };
      const target = emitOptions.principal !== undefined ? { principal: emitOptions.principal } : {};
      if (!host && !log) {
        // Before start the server's stores are unknown: held (the newest maxBufferedEventsPerType), logged at start.
        let settle!: (recorded: Promise<void>) => void;
        const recorded = new Promise<void>((resolve) => (settle = resolve));
        early.push({ event, target, settle });
        if (early.length > (options.maxBufferedEventsPerType ?? 1000))
          early
            .shift()!
            .settle(
              Promise.reject(
                new Error('dropped before the server started (more than maxBufferedEventsPerType emits)'),
              ),
            );
        return receipt(event, recorded);
      }
      return receipt(event, emitNow(type, event, target));
    },
    settled: async () => {
      await drain(appending);
      await drain(fanning);
      await hooks?.settled();
    },
    start(h) {
      host = h;
      getLog();
      getHooks()?.start();
      for (const { event, target, settle } of early.splice(0))
        settle(emitNow(types.get(event.name)!, event, target));
      if (options.taskEvents && !types.has(TASK_UPDATED_EVENT))
        extension.registerEvent(TASK_UPDATED_EVENT, {
          description: 'A task of the Tasks extension changed status (its DetailedTask); only your own tasks',
          inputSchema: { type: 'object', properties: { taskId: { type: 'string' } } },
          match: (e, args) => args.taskId === undefined || e.data.taskId === args.taskId,
        });
      if (memoryLog && !options.taskEvents) return; // nothing to hear from the bus
      unsubscribeBus = h.bus.subscribe((event) => {
        if (event.type === 'event_occurred') return pushRemote(event);
        if (event.type !== 'task_status' || !options.taskEvents) return;
        const task = event.task;
        // The same status change heard on several processes (a shared bus) is one occurrence.
        extension.emitEvent(TASK_UPDATED_EVENT, task, {
          eventId: `task_${event.taskId}_${contentHash(canonicalJson(task))}`,
          principal: event.owner ?? '',
        });
      });
    },
    async stop() {
      unsubscribeBus?.();
      for (const s of streams) s.end();
      await drain(appending);
      await drain(fanning);
      await hooks?.stop();
    },
  };
  return extension;
}
