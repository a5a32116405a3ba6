/**
 * `createHttp2Fetch`: a `fetch` for Node that speaks HTTP/2 (Node 20's global fetch speaks
 * HTTP/1.1 only). Every origin gets ONE multiplexed `node:http2` session: h2c with prior knowledge
 * for `http://`, h2 negotiated by ALPN over TLS for `https://`. Response bodies are web
 * `ReadableStream`s fed as DATA frames arrive (SSE streams, nothing is buffered to the end), with
 * backpressure; `init.signal` resets the stream (RST_STREAM CANCEL); a session that closes, fails or
 * receives GOAWAY is replaced on the next request. Node-only: it lives in `anywire/http`, not in the
 * runtime-neutral root entry.
 *
 * ```ts
 * import { createHttp2Fetch } from 'anywire/http';
 * const fetch = createHttp2Fetch({ ca: readFileSync('ca.pem') });
 * await client.connect(new StreamableHttpClientTransport({ url, fetch }));
 * // ...
 * await fetch.close();
 * ```
 * @module
 */
import http2 from 'node:http2';
import type {
  ClientHttp2Stream,
  IncomingHttpHeaders,
  IncomingHttpStatusHeader,
  OutgoingHttpHeaders,
  SecureClientSessionOptions,
} from 'node:http2';
import { pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import { OriginSession } from './http2-origin-session.js';
import { decoderFor, failed, normalize, pump, webBody } from './http2-request.js';
import type { Outgoing } from './http2-request.js';

const {
  NGHTTP2_CANCEL,
  NGHTTP2_NO_ERROR,
  NGHTTP2_REFUSED_STREAM,
  HTTP2_HEADER_AUTHORITY,
  HTTP2_HEADER_METHOD,
  HTTP2_HEADER_PATH,
  HTTP2_HEADER_SCHEME,
  HTTP2_HEADER_STATUS,
} = http2.constants;

/** Options of {@link createHttp2Fetch}. Every limit has its unit in its name. */
export interface Http2FetchOptions {
  /** Trusted CA certificates (PEM) for `https://` origins; they replace Node's bundled roots. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Client certificate chain (PEM) for mutual TLS. */
  cert?: string | Buffer | (string | Buffer)[];
  /** Private key (PEM) of `cert`. */
  key?: string | Buffer | (string | Buffer)[];
  /** Verify the server certificate (chain and host name). Default true. */
  rejectUnauthorized?: boolean;
  /** TLS SNI and certificate host name to check. Default: the URL's host name (none for an IP literal). */
  servername?: string;
  /**
   * Most requests in flight on one session; further requests wait in FIFO order for a stream to
   * close. Default 256. The server's `SETTINGS_MAX_CONCURRENT_STREAMS` applies as well (nghttp2
   * holds back streams beyond it).
   */
  maxConcurrentStreams?: number;
  /** Time in ms to open a session (TCP, TLS and the HTTP/2 preface); requests waiting for it fail with a TypeError after that. Default 10 000. */
  connectTimeoutMs?: number;
  /** A session with no stream open for this long is closed, in ms (the next request opens a new one); 0 keeps it. Default 60 000. */
  idleTimeoutMs?: number;
  /** `close()`: time in ms open streams get to finish after GOAWAY before their session is destroyed. Default 5 000. */
  closeGraceMs?: number;
  /** Most redirects followed for `redirect: 'follow'` (TypeError beyond). Default 20. */
  maxRedirects?: number;
  /** Bytes of a response body queued in its `ReadableStream` before reading from the socket pauses (HTTP/2 flow control then holds the sender). Default 65 536. */
  bodyHighWaterMarkBytes?: number;
  /** Further `http2.connect` options (`settings`, `maxSessionMemory`, ...); the options above win. */
  sessionOptions?: SecureClientSessionOptions;
}

/**
 * A `fetch`-compatible function over HTTP/2 sessions, plus their management.
 *
 * Calling it resolves with a `Response` once the response headers arrived. It rejects, like
 * `fetch`, with a `TypeError` ("fetch failed", the cause attached) on a network, TLS or protocol
 * error, an unsupported URL scheme, a body on GET/HEAD, a refused redirect, or after `close()`;
 * with `init.signal.reason` (an `AbortError` `DOMException` by default) when aborted. A body stream
 * errors with a `TypeError` ("terminated") when the server resets the stream or the session dies,
 * and with the abort reason when aborted. Bodies are not decompressed unless the server sends
 * `content-encoding` `gzip`, `deflate` or `br` (no `accept-encoding` is added).
 */
export interface Http2Fetch {
  (input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** Origins (`scheme://host:port`) with a session open or opening. */
  readonly origins: readonly string[];
  /**
   * Ends every session: GOAWAY, then open streams get `closeGraceMs` to finish before the sessions
   * are destroyed. Later calls reject with a TypeError. Resolves once every session closed. Idempotent.
   */
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
  'http2-settings',
]);
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const CONTENT_HEADERS = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-location',
];

/** Tells the fetch loop to try again on a fresh session (the server did not process the request). */
const RETRY = Symbol('retry');
/** Fresh sessions tried for one request whose sessions keep going away before it is sent. */
const MAX_SESSION_RETRIES = 3;

/**
 * Creates a `fetch` that sends every request over one multiplexed HTTP/2 session per origin (h2c
 * with prior knowledge for `http://`, h2 by ALPN for `https://`). Pass it to
 * `StreamableHttpClientTransport({ fetch })`; call `close()` when done (idle sessions do not keep
 * the process alive meanwhile).
 *
 * Requests the server provably did not process (refused with `REFUSED_STREAM`, beyond a GOAWAY's
 * last stream id, or sent on a session that had just gone away) are retried once on a new session
 * when their body can be replayed. Redirects follow `init.redirect` (`follow` by default, up to
 * `maxRedirects`; `Authorization` is dropped across origins; a streamed body cannot be redirected
 * except by 303).
 *
 * @throws RangeError when a numeric option is negative or not a number
 */
export function createHttp2Fetch(options: Http2FetchOptions = {}): Http2Fetch {
  const maxStreams = options.maxConcurrentStreams ?? 256;
  const connectMs = options.connectTimeoutMs ?? 10_000;
  const idleMs = options.idleTimeoutMs ?? 60_000;
  const graceMs = options.closeGraceMs ?? 5000;
  const maxRedirects = options.maxRedirects ?? 20;
  const highWaterMark = options.bodyHighWaterMarkBytes ?? 65_536;
  for (const [name, v] of Object.entries({ connectMs, idleMs, graceMs, maxRedirects, highWaterMark }))
    if (!(v >= 0)) throw new RangeError(`createHttp2Fetch: ${name} must be a number >= 0 (got ${v})`);
  if (!(maxStreams >= 1))
    throw new RangeError(`createHttp2Fetch: maxConcurrentStreams must be >= 1 (got ${maxStreams})`);

  const sessions = new Map<string, OriginSession>();
  const all = new Set<OriginSession>();
  let closed = false;

  function sessionFor(url: URL): OriginSession {
    const origin = `${url.protocol}//${url.host}`;
    const existing = sessions.get(origin);
    if (existing?.usable) return existing;
    const connectOptions: SecureClientSessionOptions = { ...options.sessionOptions };
    if (url.protocol === 'https:') {
      if (options.ca !== undefined) connectOptions.ca = options.ca;
      if (options.cert !== undefined) connectOptions.cert = options.cert;
      if (options.key !== undefined) connectOptions.key = options.key;
      if (options.rejectUnauthorized !== undefined)
        connectOptions.rejectUnauthorized = options.rejectUnauthorized;
      if (options.servername !== undefined) connectOptions.servername = options.servername;
      connectOptions.ALPNProtocols = ['h2'];
    }
    const session = http2.connect(origin, connectOptions);
    const entry = new OriginSession(origin, session, { maxStreams, idleMs, connectMs }, (s) => {
      if (sessions.get(s.origin) === s) sessions.delete(s.origin);
    });
    sessions.set(origin, entry);
    all.add(entry);
    session.once('close', () => all.delete(entry));
    entry.ready.catch(() => all.delete(entry));
    return entry;
  }

  /** One request/response exchange on the origin's session. */
  async function exchange(req: Outgoing, retriable: boolean): Promise<Response | typeof RETRY> {
    const signal = req.signal;
    signal?.throwIfAborted();
    const entry = sessionFor(req.url);
    let acquired: boolean;
    try {
      acquired = await entry.acquire(signal);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw failed(error);
    }
    if (!acquired) return RETRY; // retired while we waited for a slot: nothing was sent
    if (signal?.aborted) {
      entry.release();
      throw signal.reason;
    }

    const headers: OutgoingHttpHeaders = {
      [HTTP2_HEADER_METHOD]: req.method,
      [HTTP2_HEADER_PATH]: `${req.url.pathname}${req.url.search}`,
      [HTTP2_HEADER_SCHEME]: req.url.protocol.slice(0, -1),
      [HTTP2_HEADER_AUTHORITY]: req.url.host,
    };
    req.headers.forEach((value, name) => {
      if (HOP_BY_HOP.has(name) || (name === 'te' && value.trim().toLowerCase() !== 'trailers')) return;
      headers[name] = value;
    });
    if (headers.accept === undefined) headers.accept = '*/*';
    if (req.body instanceof Uint8Array) headers['content-length'] = String(req.body.byteLength);

    let stream: ClientHttp2Stream;
    try {
      stream = entry.session.request(headers, { endStream: req.body === null });
    } catch (error) {
      // The session went away between acquire() and now: nothing reached the server.
      entry.release();
      entry.retire();
      if (retriable) return RETRY;
      throw failed(error);
    }

    return new Promise<Response | typeof RETRY>((resolve, reject) => {
      let responded = false;
      let failBody: ((reason: unknown) => void) | undefined;
      const onabort = () => {
        const reason = signal!.reason;
        if (responded) failBody?.(reason);
        else reject(reason);
        responded = true;
        if (!stream.destroyed) stream.close(NGHTTP2_CANCEL);
      };
      signal?.addEventListener('abort', onabort, { once: true });
      stream.once('close', () => {
        signal?.removeEventListener('abort', onabort);
        entry.release();
        if (responded) return;
        responded = true;
        const code = stream.rstCode;
        if (retriable && code === NGHTTP2_REFUSED_STREAM) resolve(RETRY);
        else
          reject(
            failed(
              new Error(`the HTTP/2 stream closed before a response (code ${code ?? NGHTTP2_NO_ERROR})`),
            ),
          );
      });
      stream.once('error', (error: NodeJS.ErrnoException) => {
        if (responded) return;
        responded = true;
        if (retriable && error.code === 'ERR_HTTP2_GOAWAY_SESSION') resolve(RETRY);
        else reject(failed(error));
      });
      stream.once('response', (raw: IncomingHttpHeaders & IncomingHttpStatusHeader) => {
        if (responded) return;
        responded = true;
        const status = Number(raw[HTTP2_HEADER_STATUS]);
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(raw)) {
          if (name.startsWith(':') || value === undefined) continue;
          if (Array.isArray(value)) for (const v of value) responseHeaders.append(name, v);
          else responseHeaders.append(name, String(value));
        }
        let body: ReadableStream<Uint8Array> | null = null;
        if (req.method === 'HEAD' || NULL_BODY_STATUSES.has(status)) {
          stream.resume();
        } else {
          const decoder = decoderFor(responseHeaders.get('content-encoding'));
          let source: Readable = stream;
          if (decoder) {
            pipeline(stream, decoder, () => {});
            source = decoder;
          }
          const web = webBody(source, highWaterMark, () => {
            if (!stream.destroyed) stream.close(NGHTTP2_CANCEL);
            decoder?.destroy();
          });
          body = web.body;
          failBody = web.fail;
        }
        let response: Response;
        try {
          response = new Response(body, { status, headers: responseHeaders });
        } catch (error) {
          if (!stream.destroyed) stream.close(NGHTTP2_CANCEL);
          reject(failed(error));
          return;
        }
        Object.defineProperty(response, 'url', { value: req.url.href });
        resolve(response);
      });
      if (req.body instanceof Uint8Array) stream.end(req.body);
      else if (req.body) void pump(req.body, stream);
    });
  }

  async function http2Fetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    if (closed) throw failed(new Error('createHttp2Fetch: close() was called'));
    const req = await normalize(input, init);
    let redirects = 0;
    let retries = 0;
    for (;;) {
      if (closed) throw failed(new Error('createHttp2Fetch: close() was called'));
      const replayable = !(req.body instanceof ReadableStream);
      const response = await exchange(req, replayable && retries < 1);
      if (response === RETRY) {
        if (++retries > MAX_SESSION_RETRIES)
          throw failed(new Error(`the sessions to ${req.url.origin} kept going away`));
        continue;
      }
      if (!REDIRECT_STATUSES.has(response.status) || req.redirect === 'manual') return response;
      const location = response.headers.get('location');
      if (location === null) return response;
      await response.body?.cancel();
      if (req.redirect === 'error')
        throw failed(new Error(`redirect to ${location} refused (redirect: 'error')`));
      if (++redirects > maxRedirects) throw failed(new Error(`more than ${maxRedirects} redirects`));
      let next: URL;
      try {
        next = new URL(location, req.url);
      } catch (error) {
        throw failed(error);
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:')
        throw failed(new Error(`redirect to unsupported scheme ${next.protocol}`));
      const toGet =
        (response.status === 303 && req.method !== 'GET' && req.method !== 'HEAD') ||
        ((response.status === 301 || response.status === 302) && req.method === 'POST');
      if (toGet) {
        req.method = 'GET';
        req.body = null;
        for (const h of CONTENT_HEADERS) req.headers.delete(h);
      } else if (req.body instanceof ReadableStream) {
        throw failed(new Error('cannot follow a redirect with a streamed request body'));
      }
      if (next.origin !== req.url.origin) {
        req.headers.delete('authorization');
        req.headers.delete('proxy-authorization');
        req.headers.delete('cookie');
      }
      req.url = next;
      retries = 0;
    }
  }

  async function close(): Promise<void> {
    closed = true;
    await Promise.all(
      [...all].map(
        (entry) =>
          new Promise<void>((resolve) => {
            entry.retire();
            if (entry.session.destroyed) return resolve();
            const done = () => {
              clearTimeout(timer);
              resolve();
            };
            const timer = setTimeout(() => {
              entry.session.destroy();
              done();
            }, graceMs);
            timer.unref();
            entry.session.once('close', done);
            entry.session.close();
            // A session still connecting is destroyed at once, and Node emits no 'close' for it.
            if (entry.session.destroyed) done();
          }),
      ),
    );
  }

  return Object.defineProperties(http2Fetch, {
    origins: { get: () => [...sessions.keys()], enumerable: true },
    close: { value: close, enumerable: true },
  }) as Http2Fetch;
}
