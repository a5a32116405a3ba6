/**
 * How `anywire serve` runs and stops. With only stdio, EOF on stdin ends the process; when other
 * bindings are named, EOF ends only the stdio binding and the rest keep serving (so the command
 * keeps serving when started in the background) until SIGINT or SIGTERM. Shutdown says what it
 * waits for: requests in flight (up to the grace period), then the bindings; a second signal
 * stops at once.
 * @module
 */
import type { StartedBinding } from '../bindings/registry.js';

/** What the lifecycle needs of the server. */
export interface Stoppable {
  readonly inFlight?: number;
  whenIdle(): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link runUntilStopped}. */
export interface LifecycleOptions {
  /** Grace period for requests in flight, in ms. Default 5000. */
  shutdownGraceMs?: number;
  /** Default process.stderr. */
  stderr?: NodeJS.WritableStream;
}

/**
 * Resolves with the signal's name on the next SIGINT or SIGTERM. Arm it before announcing the
 * endpoints: a supervisor that reads the announcement may signal at once.
 */
export function nextSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (s: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(s);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/** Waits for the end (see the module comment), then shuts down gracefully. */
export async function runUntilStopped(
  server: Stoppable,
  started: StartedBinding[],
  options: LifecycleOptions & { signal?: Promise<NodeJS.Signals> } = {},
): Promise<void> {
  const err = options.stderr ?? process.stderr;
  const stdio = started.filter((b) => b.label === 'stdio');
  const others = started.filter((b) => b.label !== 'stdio');
  const signal = options.signal ?? nextSignal();
  let reason: string;
  if (others.length === 0) {
    reason = await Promise.race([
      signal.then((s) => `${s}`),
      ...started.map((b) => b.ended.then(() => 'stdin closed')),
    ]);
  } else {
    for (const b of stdio)
      void b.ended.then(() => {
        err.write(
          `anywire: stdin closed; the stdio binding ended, ${others.length} other binding${others.length === 1 ? '' : 's'} keep${others.length === 1 ? 's' : ''} serving (stop with Ctrl-C or kill ${process.pid})\n`,
        );
      });
    reason = await signal;
  }
  // A second signal during shutdown stops at once.
  void nextSignal().then((s) => {
    err.write(`anywire: ${s} again; stopping now\n`);
    process.exit(130);
  });
  const graceMs = options.shutdownGraceMs ?? 5000;
  const grace = (ms: number) => new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref());
  const busy = server.inFlight ?? 0;
  if (busy > 0) {
    err.write(
      `anywire: ${reason}; waiting for ${busy} request${busy === 1 ? '' : 's'} in flight (up to ${graceMs} ms)\n`,
    );
    if ((await Promise.race([server.whenIdle().then(() => 'idle' as const), grace(graceMs)])) === 'timeout')
      err.write(`anywire: ${server.inFlight ?? '?'} still in flight after ${graceMs} ms; closing anyway\n`);
  } else if (others.length) err.write(`anywire: ${reason}; shutting down\n`);
  if (others.length) err.write(`anywire: closing ${others.map((b) => b.endpoint).join(', ')}\n`);
  const closed = await Promise.race([
    Promise.all(started.map((b) => b.close()))
      .then(() => server.close())
      .then(() => 'closed' as const),
    grace(1000),
  ]);
  if (closed === 'timeout') err.write('anywire: bindings did not close within 1000 ms; exiting\n');
}
