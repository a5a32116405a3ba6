/**
 * The webhook delivery queue of the Events extension on a Redis Stream with a consumer group
 * ({@link WebhookDeliveryQueue}): jobs are `XADD`ed to `<prefix>events:deliveries` (bounded by
 * `maxQueuedDeliveries`, kept `queueTtlMs` after the last enqueue); every process consumes the
 * group `deliveries` as its own consumer (`consumer`, the node id) with `XREADGROUP`, so each job
 * goes to one process. A worker keeps its lease by resetting the job's idle time every third of
 * `deliveryLeaseMs` (only while the job is still its own); a finished job is `XACK`ed and
 * `XDEL`eted. A job whose process died or stopped mid-delivery stays pending and another process
 * takes it over with `XAUTOCLAIM` once it has been idle `deliveryLeaseMs`. The receiver may then
 * see its `webhook-id` twice (when the first process had sent it but died before acknowledging):
 * Standard Webhooks receivers deduplicate on it. `stop` does not wait for Redis: a blocking read
 * or a reader still connecting while Redis is unreachable is abandoned at once. Node-only.
 * @module
 */
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import type { WebhookDeliveryJob, WebhookDeliveryQueue, WebhookDeliveryWorker } from '../events/stores.js';
import type { EventsRedisClient, EventsRedisOptions } from './events-common.js';
import {
  dropUnless,
  entriesOf,
  keyPrefixOf,
  parseJson,
  positiveInteger,
  run,
  script,
} from './events-common.js';

/** Options of {@link RedisWebhookDeliveryQueue}; units in the names. */
export interface RedisWebhookDeliveryQueueOptions extends EventsRedisOptions {
  /** This process's consumer name in the group (the node id). Default `<hostname>-<pid>-<random>`. */
  consumer?: string;
  /** How long a job may go without its worker's heartbeat before another process takes it over, in ms. Default 30 000. */
  deliveryLeaseMs?: number;
  /** Deliveries this process runs at once. Default 32. */
  maxConcurrentDeliveries?: number;
  /** Longest wait of one blocking read for new jobs, in ms (also the stop latency bound). Default 1 000. */
  pollBlockMs?: number;
  /** Jobs kept in the stream at most (the oldest are trimmed beyond it). Default 100 000. */
  maxQueuedDeliveries?: number;
  /** How long the queue stream lives after its last enqueue, in ms. Default 604 800 000 (7 days). */
  queueTtlMs?: number;
  /** Receives errors of the consuming loop (a Redis outage); it retries after `pollBlockMs`. Default: ignored. */
  onerror?: (error: unknown) => void;
}

const GROUP = 'deliveries';

// KEYS: stream. ARGV: job JSON, maxlen, ttl ms.
const ENQUEUE = script(`${dropUnless(1, 'stream')}
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'j', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return id`);

// KEYS: stream. ARGV: group, ttl ms. Garbage under the key is dropped; an existing group is kept.
const GROUP_CREATE = script(`${dropUnless(1, 'stream')}
redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
redis.call('PEXPIRE', KEYS[1], ARGV[2], 'NX')
return 1`);

// KEYS: stream. ARGV: group, id. Acknowledged and removed in one round trip.
const FINISH = script(`redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return redis.call('XDEL', KEYS[1], ARGV[2])`);

// KEYS: stream. ARGV: group, consumer, id. Resets the idle time only while the job is ours.
const HEARTBEAT = script(`local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if p[1] == nil or p[1][2] ~= ARGV[2] then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1`);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function jobOf(fields: Record<string, string>): WebhookDeliveryJob | undefined {
  const j = parseJson(fields.j);
  if (!isObject(j)) return undefined;
  const { name, subscriptionId, webhookId, body } = j;
  if (
    typeof name !== 'string' ||
    typeof subscriptionId !== 'string' ||
    typeof webhookId !== 'string' ||
    typeof body !== 'string'
  )
    return undefined;
  return { name, subscriptionId, webhookId, body };
}

/** The entry lists of an XREADGROUP reply (RESP2: `[[key, entries]]`; RESP3: a map of key to entries). */
function streamsOf(reply: unknown): unknown[] {
  if (Array.isArray(reply)) return reply.map((s) => (Array.isArray(s) ? s[1] : undefined));
  if (reply instanceof Map) return [...reply.values()];
  if (reply && typeof reply === 'object') return Object.values(reply);
  return [];
}

/** Waits `ms`, or less when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref?.();
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * `work`, or a rejection as soon as `signal` aborts: `stop` must not wait for a command that
 * hangs while Redis is unreachable (a reader still connecting retries until Redis is back).
 */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => {}); // its outcome is ignored once aborted
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onabort = () => reject(signal.reason);
    signal.addEventListener('abort', onabort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onabort));
  });
}

/** The Redis {@link WebhookDeliveryQueue}. See the module docs; the contract is the interface's. */
export class RedisWebhookDeliveryQueue implements WebhookDeliveryQueue {
  readonly #client: EventsRedisClient;
  readonly #key: string;
  readonly #consumer: string;
  readonly #leaseMs: number;
  readonly #max: number;
  readonly #blockMs: number;
  readonly #maxQueued: number;
  readonly #ttlMs: number;
  readonly #onerror: (error: unknown) => void;
  readonly #stopping = new AbortController();
  readonly #enqueuing = new Set<Promise<unknown>>();
  readonly #inFlight = new Map<string, Promise<void>>();
  #reader: EventsRedisClient | undefined;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  /**
   * @param client a connected node-redis client (the caller owns it; blocking reads use a duplicate
   * this queue opens at `start` and closes at `stop`)
   * @throws RangeError or TypeError for a bad option
   */
  constructor(client: EventsRedisClient, options: RedisWebhookDeliveryQueueOptions = {}) {
    this.#client = client;
    this.#key = `${keyPrefixOf(options)}events:deliveries`;
    this.#consumer =
      options.consumer ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    if (typeof this.#consumer !== 'string' || this.#consumer.length === 0 || this.#consumer.length > 200)
      throw new TypeError('anywire/redis: consumer must be a string of 1 to 200 characters');
    const owner = 'RedisWebhookDeliveryQueue';
    this.#leaseMs = positiveInteger(owner, 'deliveryLeaseMs', options.deliveryLeaseMs, 30_000);
    this.#max = positiveInteger(owner, 'maxConcurrentDeliveries', options.maxConcurrentDeliveries, 32);
    this.#blockMs = positiveInteger(owner, 'pollBlockMs', options.pollBlockMs, 1000);
    this.#maxQueued = positiveInteger(owner, 'maxQueuedDeliveries', options.maxQueuedDeliveries, 100_000);
    this.#ttlMs = positiveInteger(owner, 'queueTtlMs', options.queueTtlMs, 604_800_000);
    this.#onerror = options.onerror ?? (() => {});
    setMaxListeners(0, this.#stopping.signal); // one listener per delivery in flight
  }

  /** This process's consumer name. */
  get consumer(): string {
    return this.#consumer;
  }

  enqueue(job: WebhookDeliveryJob): Promise<void> {
    const p = run(
      this.#client,
      ENQUEUE,
      [this.#key],
      [JSON.stringify(job), this.#maxQueued, this.#ttlMs],
    ).then(() => {});
    const tracked: Promise<unknown> = p.catch(() => {}).finally(() => this.#enqueuing.delete(tracked));
    this.#enqueuing.add(tracked);
    return p;
  }

  /** @throws Error when already started */
  start(worker: WebhookDeliveryWorker): void {
    if (this.#loop) throw new Error('anywire/redis: this delivery queue is already started');
    this.#loop = this.#consume(worker);
  }

  async #ensureGroup(): Promise<void> {
    await run(this.#client, GROUP_CREATE, [this.#key], [GROUP, this.#ttlMs]);
  }

  async #consume(worker: WebhookDeliveryWorker): Promise<void> {
    const signal = this.#stopping.signal;
    let groupReady = false;
    let lastClaim = 0;
    // Where the next XAUTOCLAIM scan of the pending entries resumes ('0-0': from the start), so a
    // long list of pending jobs still in their lease does not hide idle ones behind it.
    let claimFrom = '0-0';
    while (!signal.aborted) {
      try {
        if (!groupReady) {
          await this.#ensureGroup();
          groupReady = true;
        }
        if (this.#inFlight.size >= this.#max) {
          await new Promise<void>((r) => (this.#wake = r));
          continue;
        }
        const free = this.#max - this.#inFlight.size;
        if (Date.now() - lastClaim >= Math.min(this.#leaseMs / 2, this.#blockMs)) {
          lastClaim = Date.now();
          const claimed = (await this.#client.sendCommand([
            'XAUTOCLAIM',
            this.#key,
            GROUP,
            this.#consumer,
            String(this.#leaseMs),
            claimFrom,
            'COUNT',
            String(free),
          ])) as unknown[];
          const next = Array.isArray(claimed) ? claimed[0] : undefined;
          claimFrom = typeof next === 'string' && /^\d+-\d+$/.test(next) ? next : '0-0';
          this.#take(worker, Array.isArray(claimed) ? claimed[1] : undefined);
          if (this.#inFlight.size >= this.#max) continue;
        }
        this.#reader ??= await unlessAborted(this.#openReader(), signal);
        const reply = await unlessAborted(
          this.#reader.sendCommand([
            'XREADGROUP',
            'GROUP',
            GROUP,
            this.#consumer,
            'COUNT',
            String(this.#max - this.#inFlight.size),
            'BLOCK',
            String(this.#blockMs),
            'STREAMS',
            this.#key,
            '>',
          ]) as Promise<unknown>,
          signal,
        );
        for (const entries of streamsOf(reply)) this.#take(worker, entries);
      } catch (error) {
        if (signal.aborted) break;
        const m = String((error as Error)?.message);
        if (m.startsWith('NOGROUP') || m.startsWith('WRONGTYPE'))
          groupReady = false; // expired or garbage
        else this.#onerror(error);
        await pause(Math.min(this.#blockMs, 500), signal);
      }
    }
  }

  async #openReader(): Promise<EventsRedisClient> {
    const reader = this.#client.duplicate();
    reader.on('error', () => {}); // the main client reports outages
    // Closed by stop() even while it is still connecting (Redis unreachable).
    const close = () => {
      try {
        reader.destroy();
      } catch {} // not open yet
    };
    this.#stopping.signal.addEventListener('abort', close, { once: true });
    try {
      await reader.connect();
    } finally {
      this.#stopping.signal.removeEventListener('abort', close);
    }
    return reader as EventsRedisClient;
  }

  /** Starts a worker on each job of an XREADGROUP / XAUTOCLAIM entry list. */
  #take(worker: WebhookDeliveryWorker, entries: unknown): void {
    for (const [id, fields] of entriesOf(entries)) {
      if (this.#inFlight.has(id)) continue;
      const job = jobOf(fields);
      const work = job ? this.#work(worker, id, job) : this.#finish(id);
      this.#inFlight.set(id, work);
      void work.finally(() => {
        this.#inFlight.delete(id);
        this.#wake?.();
        this.#wake = undefined;
      });
    }
  }

  async #work(worker: WebhookDeliveryWorker, id: string, job: WebhookDeliveryJob): Promise<void> {
    const signal = this.#stopping.signal;
    const beat = setInterval(
      () => void run(this.#client, HEARTBEAT, [this.#key], [GROUP, this.#consumer, id]).catch(() => {}),
      Math.max(1, Math.floor(this.#leaseMs / 3)),
    );
    try {
      await worker(job, signal);
    } catch {
      // A worker that throws has finished with the job (the sender never throws).
    } finally {
      clearInterval(beat);
    }
    if (!signal.aborted) await this.#finish(id);
  }

  async #finish(id: string): Promise<void> {
    try {
      await run(this.#client, FINISH, [this.#key], [GROUP, id]);
    } catch (error) {
      this.#onerror(error);
    }
  }

  async settled(): Promise<void> {
    while (this.#enqueuing.size || this.#inFlight.size)
      await Promise.all([...this.#enqueuing, ...this.#inFlight.values()]);
  }

  async stop(): Promise<void> {
    if (this.#stopping.signal.aborted) return;
    this.#stopping.abort();
    this.#wake?.();
    const reader = this.#reader;
    this.#reader = undefined;
    reader?.destroy(); // ends a blocking read at once
    await this.#loop;
    await Promise.all([...this.#inFlight.values()]);
  }
}
