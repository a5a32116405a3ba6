/**
 * Reading HTTP response bodies on the client side, runtime-neutral (web streams only): SSE event
 * streams ({@link SseDecoder}: WHATWG HTML "server-sent events" parsing: `data`, `id`, `event`,
 * `retry`, comment keep-alives), JSON bodies with a size cap, and media-type parsing.
 * @module
 */
import { ChunkBuffer } from '../../jsonrpc/chunk-buffer.js';
import { McpError } from '../../protocol/errors.js';

/** One server-sent event. */
export interface SseEvent {
  /** The `id` field sent with this event, if any. */
  id?: string;
  /** The `event` field sent with this event, if any. */
  event?: string;
  /** The `data` lines joined with `\n`. */
  data: string;
}

/** What {@link readSseStream} reports. */
export interface SseHandlers {
  /** One complete event (`data` joined with `\n`; `id` and `event` as sent). Comments are skipped. */
  onevent: (event: SseEvent) => void;
  /** The server's `retry:` field, in ms. */
  onretry?: (ms: number) => void;
}

/** Options of {@link SseDecoder}. */
export interface SseDecoderOptions extends SseHandlers {
  /** Largest event `data` accepted, in bytes of UTF-8 (a line may exceed it by its field name). */
  maxEventBytes: number;
}

const LF = 0x0a;
const CR = 0x0d;
/** Room for a field name and its colon on a line, beyond `maxEventBytes`. */
const LINE_SLACK_BYTES = 64;

/**
 * An incremental event-stream parser (WHATWG HTML, "Parsing an event stream"): lines end in CRLF,
 * LF or CR, a leading BOM is dropped, `data` lines are joined with `\n`, an event is dispatched on
 * an empty line when it has data, comments and unknown fields are ignored, an `id` holding NUL is
 * ignored, `retry` must be all digits. Each event reports the `id` and `event` sent with it. Pure
 * and runtime-neutral.
 *
 * Fed bytes however they are split, it searches only the new bytes for line ends and holds an
 * incomplete line in blocks ({@link ChunkBuffer}): memory stays within twice `maxEventBytes` plus
 * 64 KiB, and the work stays linear.
 */
export class SseDecoder {
  readonly maxEventBytes: number;
  #onevent: (event: SseEvent) => void;
  #onretry: ((ms: number) => void) | undefined;
  #line = new ChunkBuffer();
  #afterCr = false;
  #first = true;
  #data: string[] = [];
  #dataBytes = 0;
  #event: string | undefined;
  #id: string | undefined;
  #scanned = 0;
  #text = new TextDecoder('utf-8', { ignoreBOM: true });

  constructor(options: SseDecoderOptions) {
    this.maxEventBytes = options.maxEventBytes;
    this.#onevent = options.onevent;
    this.#onretry = options.onretry;
  }

  /**
   * Feeds bytes of the stream.
   * @throws McpError `MESSAGE_TOO_LARGE` when an event's data, or one line, grows beyond `maxEventBytes`
   * (the decoder is reset then)
   */
  push(bytes: Uint8Array): void {
    const end = bytes.length;
    let pos = 0;
    if (this.#afterCr && end > 0) {
      // The LF of a CRLF split between two reads.
      this.#afterCr = false;
      if (bytes[0] === LF) pos = 1;
    }
    let cr = -2;
    let lf = -2;
    while (pos < end) {
      if (cr !== -1 && cr < pos) cr = this.#find(bytes, CR, pos);
      if (lf !== -1 && lf < pos) lf = this.#find(bytes, LF, pos);
      const eol = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
      if (eol === -1) {
        if (this.#line.length + (end - pos) > this.maxEventBytes + LINE_SLACK_BYTES) this.#tooLarge();
        this.#line.append(bytes.subarray(pos));
        return;
      }
      const line =
        this.#line.length === 0 ? bytes.subarray(pos, eol) : this.#line.concat(bytes.subarray(pos, eol));
      this.#line.clear();
      pos = eol + 1;
      if (bytes[eol] === CR) {
        if (pos === end) this.#afterCr = true;
        else if (bytes[pos] === LF) pos++;
      }
      this.#processLine(line);
    }
  }

  /** The end of the stream: an incomplete event is discarded, as the standard says. */
  end(): void {
    this.#reset();
  }

  /** Bytes held: the incomplete line plus the data of the incomplete event. */
  get bufferedBytes(): number {
    return this.#line.length + this.#dataBytes;
  }

  /** Bytes of memory held, about: at most twice `maxEventBytes` plus 64 KiB. */
  get retainedBytes(): number {
    return this.#line.retainedBytes + this.#dataBytes;
  }

  /** Work done so far, in bytes: `scanned` searching for line ends (at most 2 per byte), `copied` while held. */
  get work(): { scanned: number; copied: number } {
    return { scanned: this.#scanned, copied: this.#line.copiedBytes };
  }

  #find(bytes: Uint8Array, byte: number, from: number): number {
    const at = bytes.indexOf(byte, from);
    this.#scanned += (at === -1 ? bytes.length : at + 1) - from;
    return at;
  }

  #tooLarge(): never {
    this.#reset();
    throw new McpError('MESSAGE_TOO_LARGE', `an SSE event exceeded maxMessageBytes (${this.maxEventBytes})`);
  }

  #reset(): void {
    this.#line.clear();
    this.#afterCr = false;
    this.#data = [];
    this.#dataBytes = 0;
    this.#event = undefined;
    this.#id = undefined;
  }

  #processLine(bytes: Uint8Array): void {
    if (bytes.length === 0) {
      this.#first = false;
      this.#dispatch();
      return;
    }
    let line = this.#text.decode(bytes);
    if (this.#first) {
      this.#first = false;
      if (line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    }
    if (line === '') {
      this.#dispatch();
      return;
    }
    if (line.charCodeAt(0) === 0x3a) return; // a comment
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + (line.charCodeAt(colon + 1) === 0x20 ? 2 : 1));
    switch (field) {
      case 'data':
        this.#dataBytes += bytes.length - (line.length - value.length) + (this.#data.length > 0 ? 1 : 0);
        if (this.#dataBytes > this.maxEventBytes) this.#tooLarge();
        this.#data.push(value);
        break;
      case 'event':
        this.#event = value || undefined;
        break;
      case 'id':
        if (!value.includes('\0')) this.#id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.#onretry?.(Number.parseInt(value, 10));
        break;
      default:
    }
  }

  #dispatch(): void {
    const data = this.#data;
    const id = this.#id;
    const event = this.#event;
    this.#data = [];
    this.#dataBytes = 0;
    this.#id = undefined;
    this.#event = undefined;
    if (data.length === 0) return;
    const out: SseEvent = { data: data.length === 1 ? data[0]! : data.join('\n') };
    if (id !== undefined) out.id = id;
    if (event !== undefined) out.event = event;
    this.#onevent(out);
  }
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
 * when one event's data grows beyond `maxEventBytes` bytes — the stream is cancelled then.
 */
export async function readSseStream(
  body: ReadableStream<Uint8Array>,
  handlers: SseHandlers,
  maxEventBytes: number,
): Promise<void> {
  const decoder = new SseDecoder({ ...handlers, maxEventBytes });
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        decoder.end();
        return;
      }
      decoder.push(value);
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
  // Held in blocks and decoded once: small reads never pile up as one string piece each.
  const held = new ChunkBuffer();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return new TextDecoder().decode(held.concat());
      if (held.length + value.byteLength > maxBytes) {
        reader.cancel().catch(() => {});
        throw new McpError('MESSAGE_TOO_LARGE', `a response body exceeded maxMessageBytes (${maxBytes})`);
      }
      held.append(value);
    }
  } finally {
    reader.releaseLock();
  }
}

/** Discards a response body without reading it (frees the connection). */
export function discardBody(response: Response): void {
  response.body?.cancel().catch(() => {});
}
