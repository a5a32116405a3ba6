/**
 * The session hub of one server: the initialized legacy sessions, the open `subscriptions/listen`
 * streams, and the fan-out of bus events to both (list_changed, resources/updated).
 * @module
 */
import type { NotificationBus, ServerEvent } from '../protocol/notification-bus.js';
import { publishSafely } from '../protocol/notification-bus.js';
import type { LegacySession } from './context.js';
import type { ListenSubscription } from './listen.js';
import { randomHex } from '../protocol/random-hex.js';

/** Sessions and listen streams, fed by a {@link NotificationBus}. */
export class SessionHub {
  /** Legacy sessions that completed `initialize`. */
  readonly sessions = new Set<LegacySession>();
  /** Open modern listen streams. */
  readonly listens = new Set<ListenSubscription>();
  #bus: NotificationBus;
  /** Whether legacy sessions hear changes of `list` (its `listChanged` is declared). Default: every list. */
  announces: (list: 'tools' | 'prompts' | 'resources') => boolean = () => true;
  #unsubscribe: () => void;
  #report: (error: unknown) => void;

  /**
   * @param bus where events come from (and go to)
   * @param report receives a rejected publish; never throws back into the caller
   */
  constructor(bus: NotificationBus, report: (error: unknown) => void) {
    this.#bus = bus;
    this.#report = report;
    this.#unsubscribe = this.#hear(bus);
  }

  /** Where events come from and go to. */
  get bus(): NotificationBus {
    return this.#bus;
  }

  /** Switches to another bus (before serving): stops hearing the current one, hears `bus`. */
  setBus(bus: NotificationBus): void {
    if (bus === this.#bus) return;
    this.#unsubscribe();
    this.#bus = bus;
    this.#unsubscribe = this.#hear(bus);
  }

  #hear(bus: NotificationBus): () => void {
    // Listener errors (a throwing listener never stops the others) go to the server's report too.
    bus.onerror ??= this.#report;
    return bus.subscribe((event) => this.#deliver(event));
  }

  /**
   * Publishes an event. A publish that throws or rejects is reported, never thrown: callers are
   * fire-and-forget (registration changes, `notifyResourceUpdated`).
   */
  publish(event: ServerEvent): void {
    // A broadcast gets an id that every process hears with it (stored once per shared session).
    if ((event.type === 'list_changed' || event.type === 'resource_updated') && event.id === undefined)
      event = { ...event, id: randomHex(16) };
    publishSafely(this.#bus, event, this.#report);
  }

  /** Ends every listen stream and stops hearing the bus. */
  close(): void {
    for (const l of [...this.listens]) l.end();
    this.#unsubscribe();
  }

  #deliver(event: ServerEvent): void {
    if (event.type === 'list_changed' && this.announces(event.list)) {
      const method = `notifications/${event.list}/list_changed`;
      const options = event.id === undefined ? undefined : { broadcastId: event.id };
      for (const s of this.sessions)
        if (s.protocolVersion && s.hearsBroadcasts?.() !== false)
          s.notify(method, undefined, options).catch(() => {});
    } else if (event.type === 'resource_updated') {
      const options = event.id === undefined ? undefined : { broadcastId: event.id };
      for (const s of this.sessions) {
        if (s.protocolVersion && s.subscriptions.has(event.uri) && s.hearsBroadcasts?.() !== false) {
          s.notify('notifications/resources/updated', { uri: event.uri }, options).catch(() => {});
        }
      }
    }
    for (const l of this.listens) l.deliver(event);
  }
}
