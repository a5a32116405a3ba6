/**
 * Request and body conversion for {@link createHttp2Fetch}: `fetch` arguments reduced to what goes
 * on the wire, response bodies fed into web streams with backpressure, content decoding, and
 * streamed request bodies pumped into an HTTP/2 stream. Node-only.
 * @module
 */
import http2 from 'node:http2';
import type { ClientHttp2Stream } from 'node:http2';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';

const { NGHTTP2_CANCEL } = http2.constants;

/** A request reduced to what goes on the wire. */
export interface Outgoing {
  url: URL;
  method: string;
  headers: Headers;
  /** `null`: no body; bytes can be replayed (retry, redirect); a stream cannot. */
  body: Uint8Array | ReadableStream<Uint8Array> | null;
  signal: AbortSignal | undefined;
  redirect: RequestRedirect;
}

export function failed(cause: unknown): TypeError {
  return new TypeError('fetch failed', { cause });
}

/** Reads `init` (and a `Request` input) into an {@link Outgoing}; bodies other than streams become bytes. */
export async function normalize(input: string | URL | Request, init: RequestInit): Promise<Outgoing> {
  const request = typeof Request !== 'undefined' && input instanceof Request ? input : undefined;
  let url: URL;
  try {
    url = new URL(request ? request.url : input.toString());
  } catch (error) {
    throw failed(error);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw failed(new Error(`createHttp2Fetch: unsupported URL scheme ${url.protocol}`));
  const method = (init.method ?? request?.method ?? 'GET').toUpperCase();
  const headers = new Headers(init.headers ?? request?.headers);
  const signal = init.signal ?? request?.signal ?? undefined;
  const redirect = init.redirect ?? request?.redirect ?? 'follow';
  let raw: unknown = init.body ?? null;
  if (raw === null && request?.body) raw = new Uint8Array(await request.arrayBuffer());
  if (raw !== null && (method === 'GET' || method === 'HEAD'))
    throw failed(new Error(`createHttp2Fetch: a ${method} request cannot have a body`));
  let body: Outgoing['body'] = null;
  if (typeof raw === 'string') {
    body = Buffer.from(raw, 'utf8');
    if (!headers.has('content-type')) headers.set('content-type', 'text/plain;charset=UTF-8');
  } else if (raw instanceof Uint8Array) {
    body = raw;
  } else if (raw instanceof ArrayBuffer) {
    body = new Uint8Array(raw);
  } else if (ArrayBuffer.isView(raw)) {
    body = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  } else if (raw instanceof ReadableStream) {
    body = raw as ReadableStream<Uint8Array>;
  } else if (raw !== null) {
    // Blob, FormData, URLSearchParams: let the platform serialize it and pick the content type.
    const serialized = new Response(raw as BodyInit);
    const type = serialized.headers.get('content-type');
    if (type && !headers.has('content-type')) headers.set('content-type', type);
    body = new Uint8Array(await serialized.arrayBuffer());
  }
  return { url, method, headers, body, signal, redirect };
}

/** Feeds `source` into a web stream: pauses it while the queue is full, resets on cancel. */
export function webBody(
  source: Readable,
  highWaterMark: number,
  oncancel: () => void,
): { body: ReadableStream<Uint8Array>; fail: (reason: unknown) => void } {
  let settled = false;
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined;
  const fail = (reason: unknown) => {
    if (settled) return;
    settled = true;
    controllerRef?.error(reason);
  };
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controllerRef = controller;
        source.on('data', (chunk: Buffer) => {
          if (settled) return;
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 1) <= 0) source.pause();
        });
        source.once('end', () => {
          if (settled) return;
          settled = true;
          controller.close();
        });
        // Errors are built only when they happen: 'close' also follows every normal end.
        source.once('error', (e) => {
          if (!settled) fail(new TypeError('terminated', { cause: e }));
        });
        source.once('close', () => {
          if (!settled)
            fail(
              new TypeError('terminated', { cause: new Error('the HTTP/2 stream closed before its end') }),
            );
        });
      },
      pull() {
        source.resume();
      },
      cancel() {
        settled = true;
        oncancel();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark }),
  );
  return { body, fail };
}

export function decoderFor(
  encoding: string | null,
): zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | undefined {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH });
    case 'deflate':
      return zlib.createInflate({ finishFlush: zlib.constants.Z_SYNC_FLUSH });
    case 'br':
      return zlib.createBrotliDecompress({ finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH });
    default:
      return undefined;
  }
}

/** Writes a streamed request body with backpressure; resets the stream when the source fails. */
export async function pump(source: ReadableStream<Uint8Array>, stream: ClientHttp2Stream): Promise<void> {
  const reader = source.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (stream.destroyed) return;
      if (!stream.write(value))
        await new Promise<void>((resolve) => {
          const go = () => {
            stream.off('drain', go);
            stream.off('close', go);
            resolve();
          };
          stream.on('drain', go);
          stream.on('close', go);
        });
    }
    if (!stream.destroyed) stream.end();
  } catch {
    if (!stream.destroyed) stream.close(NGHTTP2_CANCEL);
  } finally {
    reader.releaseLock();
  }
}
