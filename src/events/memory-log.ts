/**
 * The in-memory {@link EventLog}: a bounded window of occurrences per event name, the default
 * backing of `events/poll` and of replay on `events/stream` and webhook subscribe (SEP-3415
 * Appendix A, "Emit-only event types"). Cursors are `<epoch>.<sequence>`: opaque to clients and
 * scoped to this process, so a restart answers every old cursor with `truncated: true`.
 * @module
 */
import type { EventLog, EventLogEntry, EventLogStart } from './stores.js';
import type { EmittedEvent } from './types.js';

interface Logged {
  seq: number;
  /** When it was logged, in ms since the epoch (what `maxAgeMs` measures). */
  at: number;
  entry: EventLogEntry;
}

interface NameLog {
  list: Logged[];
  /** Index of the first live element of `list` (trimmed from the front lazily). */
  from: number;
  /** Highest dropped sequence. */
  dropped: number;
  /** eventId -> seq of retained occurrences. */
  ids: Map<string, number>;
}

/** Options of {@link InMemoryEventLog}. */
export interface InMemoryEventLogOptions {
  /** Occurrences kept per event name (the oldest go first). Default 1 000. */
  maxEventsPerName?: number;
}

/** The in-memory {@link EventLog} (one process). See the module docs. */
export class InMemoryEventLog implements EventLog {
  readonly #epoch = globalThis.crypto.randomUUID().slice(0, 8);
  readonly #byName = new Map<string, NameLog>();
  readonly #max: number;
  #seq = 0;

  /** @throws RangeError when `maxEventsPerName` is not a positive integer */
  constructor(options: InMemoryEventLogOptions = {}) {
    const max = options.maxEventsPerName ?? 1000;
    if (!Number.isSafeInteger(max) || max <= 0)
      throw new RangeError(`anywire: maxEventsPerName must be a positive integer, got ${max}`);
    this.#max = max;
  }

  #cursor(seq: number): string {
    return `${this.#epoch}.${seq}`;
  }

  #log(name: string): NameLog {
    let log = this.#byName.get(name);
    if (!log) this.#byName.set(name, (log = { list: [], from: 0, dropped: 0, ids: new Map() }));
    return log;
  }

  /** Synchronous append (the in-memory path stays cheap); see {@link EventLog.append}. */
  appendNow(event: EmittedEvent, options: { principal?: string } = {}): string | undefined {
    const log = this.#log(event.name);
    if (log.ids.has(event.eventId)) return undefined;
    const seq = ++this.#seq;
    const cursor = this.#cursor(seq);
    const entry: EventLogEntry = { cursor, event };
    if (options.principal !== undefined) entry.principal = options.principal;
    log.list.push({ seq, at: Date.now(), entry });
    log.ids.set(event.eventId, seq);
    while (log.list.length - log.from > this.#max) {
      const gone = log.list[log.from++]!;
      log.dropped = gone.seq;
      log.ids.delete(gone.entry.event.eventId);
    }
    if (log.from > 1024 && log.from * 2 > log.list.length) {
      log.list = log.list.slice(log.from);
      log.from = 0;
    }
    return cursor;
  }

  append(event: EmittedEvent, options?: { principal?: string }): Promise<string | undefined> {
    return Promise.resolve(this.appendNow(event, options));
  }

  head(): Promise<string> {
    return Promise.resolve(this.#cursor(this.#seq));
  }

  #parse(cursor: unknown): number | undefined {
    const m = typeof cursor === 'string' ? /^([0-9a-f]{8})\.(\d+)$/.exec(cursor) : null;
    if (!m || m[1] !== this.#epoch) return undefined;
    const seq = Number(m[2]);
    return seq <= this.#seq ? seq : undefined;
  }

  start(name: string, cursor: unknown, maxAgeMs?: number): Promise<EventLogStart> {
    if (cursor === null || cursor === undefined)
      return Promise.resolve({ cursor: this.#cursor(this.#seq), truncated: false });
    let after = this.#parse(cursor);
    if (after === undefined) return Promise.resolve({ cursor: this.#cursor(this.#seq), truncated: true });
    const log = this.#byName.get(name);
    // Occurrences of this name after the cursor that are no longer retained were lost to the client.
    let truncated = (log?.dropped ?? 0) > after;
    if (log && maxAgeMs !== undefined) {
      const floor = Date.now() - maxAgeMs;
      for (let i = log.from; i < log.list.length; i++) {
        const l = log.list[i]!;
        if (l.seq <= after) continue;
        if (l.at >= floor) break;
        after = l.seq;
        truncated = true;
      }
    }
    return Promise.resolve({ cursor: this.#cursor(after), truncated });
  }

  /** Synchronous read; see {@link EventLog.read}. */
  readNow(name: string, after: string, limit: number): EventLogEntry[] {
    const log = this.#byName.get(name);
    const seq = this.#parse(after);
    if (!log || seq === undefined) return [];
    let i = log.list.length;
    while (i > log.from && log.list[i - 1]!.seq > seq) i--;
    return log.list.slice(i, i + limit).map((l) => l.entry);
  }

  read(name: string, after: string, limit: number): Promise<EventLogEntry[]> {
    return Promise.resolve(this.readNow(name, after, limit));
  }
}
