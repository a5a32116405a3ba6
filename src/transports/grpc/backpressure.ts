/**
 * Write backpressure for grpc-js object streams: a write that finds the stream's buffer full waits
 * for `drain`, and every write made meanwhile shares that one wait (no listener per message).
 * @module
 */

/** The part of a grpc-js call this needs. */
export interface FrameSink<T> {
  write(chunk: T): boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

const DONE = Promise.resolve();
const waiting = new WeakMap<object, Promise<void>>();

/** Writes `chunk`; resolves at once, or when the stream drains (or closes) if its buffer is full. */
export function writeFrame<T>(stream: FrameSink<T>, chunk: T): Promise<void> {
  if (stream.write(chunk)) return DONE;
  let wait = waiting.get(stream);
  if (!wait) {
    wait = new Promise<void>((resolve) => {
      const done = () => {
        stream.off('drain', done);
        stream.off('close', done);
        waiting.delete(stream);
        resolve();
      };
      stream.once('drain', done);
      stream.once('close', done);
    });
    waiting.set(stream, wait);
  }
  return wait;
}
