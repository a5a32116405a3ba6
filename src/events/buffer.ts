/**
 * The emit buffer: a bounded window of emitted events per event type, the backing of `events/poll`
 * and of replay on `events/stream` and webhook subscribe (SEP-3415 Appendix A, "Emit-only event
 * types"). Cursors are `<epoch>.<sequence>`: opaque to clients, scoped to this process, so a
 * restart answers every old cursor with `truncated: true` and a fresh one.
 * @module
 */
import type { EmittedEvent } from './types.js';

/** One buffered event with its position. */
export interface Buffered {
  seq: number;
  event: EmittedEvent;
}

/** Where to start reading for a client cursor. */
export interface ReadStart {
  /** Read events with a sequence above this. */
  after: number;
  /** True when events the client had not seen were dropped (or the cursor was unknown). */
  truncated: boolean;
}

/** Bounded per-type event windows with process-scoped cursors. */
export class EmitBuffer {
  readonly #epoch = globalThis.crypto.randomUUID().slice(0, 8);
  readonly #byName = new Map<string, Buffered[]>();
  readonly #max: number;
  readonly #dropped = new Map<string, number>(); // name -> highest dropped sequence
  #seq = 0;

  /** @param maxEventsPerType events kept per event type (the oldest go first) */
  constructor(maxEventsPerType: number) {
    this.#max = maxEventsPerType;
  }

  /** The cursor of the newest position (what `cursor: null` starts from). */
  head(): string {
    return this.cursorOf(this.#seq);
  }

  /** The cursor after `seq`. */
  cursorOf(seq: number): string {
    return `${this.#epoch}.${seq}`;
  }

  /** Appends an event; returns its sequence number. */
  push(event: EmittedEvent): number {
    const seq = ++this.#seq;
    let list = this.#byName.get(event.name);
    if (!list) this.#byName.set(event.name, (list = []));
    list.push({ seq, event });
    if (list.length > this.#max) {
      const gone = list.splice(0, list.length - this.#max);
      this.noteDropped(event.name, gone[gone.length - 1]!.seq);
    }
    return seq;
  }

  /**
   * Resolves a client cursor for `name`, bounded below by `maxAgeMs` when given. `null` means now.
   */
  start(name: string, cursor: unknown, maxAgeMs?: number): ReadStart {
    if (cursor === null || cursor === undefined) return { after: this.#seq, truncated: false };
    const m = typeof cursor === 'string' ? /^([0-9a-f]{8})\.(\d+)$/.exec(cursor) : null;
    if (!m || m[1] !== this.#epoch || Number(m[2]) > this.#seq) return { after: this.#seq, truncated: true };
    let after = Number(m[2]);
    let truncated = false;
    const list = this.#byName.get(name) ?? [];
    // Events of this type after the cursor that are no longer buffered were lost to the client.
    if (this.#droppedAfter(name, after)) truncated = true;
    if (maxAgeMs !== undefined) {
      const floor = Date.now() - maxAgeMs;
      for (const b of list) {
        if (b.seq <= after) continue;
        if (Date.parse(b.event.timestamp) >= floor) break;
        after = b.seq;
        truncated = true;
      }
    }
    return { after, truncated };
  }

  /** Buffered events of `name` with a sequence above `after`, oldest first. */
  after(name: string, after: number): Buffered[] {
    const list = this.#byName.get(name) ?? [];
    let i = list.length;
    while (i > 0 && list[i - 1]!.seq > after) i--;
    return list.slice(i);
  }

  #droppedAfter(name: string, after: number): boolean {
    return (this.#dropped.get(name) ?? 0) > after;
  }

  /** Records that events up to `seq` of `name` were dropped (called by `push`). */
  noteDropped(name: string, seq: number): void {
    this.#dropped.set(name, Math.max(this.#dropped.get(name) ?? 0, seq));
  }
}
