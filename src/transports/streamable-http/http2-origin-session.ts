/**
 * One origin's HTTP/2 session for {@link createHttp2Fetch}: its stream slots (FIFO waiters beyond
 * `maxConcurrentStreams`), its connect timeout and its idle timer. Node-only.
 * @module
 */
import type { ClientHttp2Session } from 'node:http2';

/** One origin's session, its stream slots and its idle timer. */
export class OriginSession {
  readonly origin: string;
  readonly session: ClientHttp2Session;
  readonly ready: Promise<void>;
  active = 0;
  usable = true;
  readonly #max: number;
  readonly #idleMs: number;
  readonly #onretire: (s: OriginSession) => void;
  readonly #waiters: (() => void)[] = [];
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    origin: string,
    session: ClientHttp2Session,
    limits: { maxStreams: number; idleMs: number; connectMs: number },
    onretire: (s: OriginSession) => void,
  ) {
    this.origin = origin;
    this.session = session;
    this.#max = limits.maxStreams;
    this.#idleMs = limits.idleMs;
    this.#onretire = onretire;
    // Errors reach the requests through their streams and `ready`; this keeps them from crashing.
    session.on('error', () => {});
    session.on('goaway', () => this.retire());
    session.on('close', () => this.retire());
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => session.destroy(new Error(`connecting to ${origin} took over ${limits.connectMs} ms`)),
        limits.connectMs,
      );
      const settle = (error?: unknown) => {
        clearTimeout(timer);
        session.off('connect', onconnect);
        session.off('error', onerror);
        session.off('close', onclose);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onconnect = () => settle();
      const onerror = (e: Error) => settle(e);
      const onclose = () => settle(new Error(`the session to ${origin} closed while connecting`));
      session.on('connect', onconnect);
      session.on('error', onerror);
      session.on('close', onclose);
    });
    // Held (ref'd) while connecting, so a pending request keeps the process alive; idle after. A
    // failed connect retires the session even when Node emits no 'close' (destroyed while connecting).
    this.ready.then(
      () => {
        if (this.active === 0) this.#idle();
      },
      () => this.retire(),
    );
  }

  /** Stops taking streams (GOAWAY, close, error, `close()`); waiters move on to a new session. */
  retire(): void {
    if (!this.usable) return;
    this.usable = false;
    clearTimeout(this.#idleTimer);
    this.#onretire(this);
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Waits for a stream slot; false when the session retired meanwhile (try a new one). */
  async acquire(signal: AbortSignal | undefined): Promise<boolean> {
    if (signal) {
      signal.throwIfAborted();
      let onabort!: () => void;
      const aborted = new Promise<never>((_, reject) => {
        onabort = () => reject(signal.reason);
        signal.addEventListener('abort', onabort, { once: true });
      });
      try {
        await Promise.race([this.ready, aborted]);
      } finally {
        signal.removeEventListener('abort', onabort);
      }
    } else await this.ready;
    while (this.usable && this.active >= this.#max) {
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          signal?.removeEventListener('abort', onabort);
          resolve();
        };
        const onabort = () => {
          const i = this.#waiters.indexOf(wake);
          if (i >= 0) this.#waiters.splice(i, 1);
          reject(signal!.reason);
        };
        this.#waiters.push(wake);
        signal?.addEventListener('abort', onabort, { once: true });
      });
    }
    if (!this.usable) return false;
    this.active++;
    clearTimeout(this.#idleTimer);
    this.session.ref();
    return true;
  }

  release(): void {
    this.active--;
    this.#waiters.shift()?.();
    if (this.active === 0) this.#idle();
  }

  /** No stream open: let the process exit, and close the session after `idleTimeoutMs`. */
  #idle(): void {
    this.session.unref();
    if (this.#idleMs <= 0 || !this.usable) return;
    this.#idleTimer = setTimeout(() => {
      if (this.active > 0) return;
      this.retire();
      this.session.close();
    }, this.#idleMs);
    this.#idleTimer.unref();
  }
}
