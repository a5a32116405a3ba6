/**
 * An abortable pause: resolves after `ms`, or at once when `signal` aborts (never rejects), so a
 * polling or retry loop checks the signal itself. Runtime-neutral.
 * @module
 */

/** Resolves after `ms` milliseconds, or as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}
