/**
 * Reading HTTP response bodies on the client side, runtime-neutral (web streams only): SSE event
 * streams through `eventsource-parser` (WHATWG HTML "server-sent events" parsing: `data`, `id`,
 * `event`, `retry`, comment keep-alives), JSON bodies with a size cap, and media-type parsing.
 * @module
 */
import type { EventSourceMessage } from 'eventsource-parser';
import { createParser } from 'eventsource-parser';
import { McpError } from '../../protocol/errors.js';

/** What {@link readSseStream} reports. */
export interface SseHandlers {
  /** One complete event (`data` joined with `\n`; `id` and `event` as sent). Comments are skipped. */
  onevent: (event: EventSourceMessage) => void;
  /** The server's `retry:` field, in ms. */
  onretry?: (ms: number) => void;
}

/**
 * The lower-cased media type of a `Content-Type` header without parameters (`text/event-stream`
 * for `Text/Event-Stream; charset=utf-8`), or `''` when absent. Compare whole types, never substrings.
 */
export function mediaType(contentType: string | null): string {
  if (!contentType) return '';
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/**
 * Reads an SSE stream to its end, reporting each event. Resolves when the stream ends cleanly;
 * rejects with the read error (a cut connection, an abort) or with McpError `MESSAGE_TOO_LARGE`
 * when one event grows beyond `maxEventBytes` (counted in UTF-16 code units, an upper bound for
 * ASCII JSON) — the stream is cancelled then.
 */
export async function readSseStream(
  body: ReadableStream<Uint8Array>,
  handlers: SseHandlers,
  maxEventBytes: number,
): Promise<void> {
  let tooLarge = false;
  const parser = createParser({
    onEvent: handlers.onevent,
    onRetry: handlers.onretry,
    onError: (error) => {
      if (error.type === 'max-buffer-size-exceeded') tooLarge = true;
    },
    maxBufferSize: maxEventBytes,
  });
  const reader = body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        const rest = decoder.decode();
        if (rest) parser.feed(rest);
        return;
      }
      parser.feed(decoder.decode(value, { stream: true }));
      if (tooLarge) {
        throw new McpError('MESSAGE_TOO_LARGE', `an SSE event exceeded maxMessageBytes (${maxEventBytes})`);
      }
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    throw error;
  } finally {
    reader.releaseLock();
  }
}

/**
 * Reads a whole response body as UTF-8 text, at most `maxBytes` bytes.
 * @throws McpError `MESSAGE_TOO_LARGE` beyond `maxBytes` (the body is cancelled); the read error otherwise
 */
export async function readBodyText(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.body.cancel().catch(() => {});
    throw new McpError(
      'MESSAGE_TOO_LARGE',
      `a response body of ${declared} bytes exceeds maxMessageBytes (${maxBytes})`,
    );
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let size = 0;
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return text + decoder.decode();
      size += value.byteLength;
      if (size > maxBytes) {
        reader.cancel().catch(() => {});
        throw new McpError('MESSAGE_TOO_LARGE', `a response body exceeded maxMessageBytes (${maxBytes})`);
      }
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    reader.releaseLock();
  }
}

/** Discards a response body without reading it (frees the connection). */
export function discardBody(response: Response): void {
  response.body?.cancel().catch(() => {});
}
