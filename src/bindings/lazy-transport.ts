/**
 * A client transport whose binding is imported when it starts: `transportForUrl()` stays
 * synchronous while each binding's code (and its dependencies) loads only when used.
 * @module
 */
import type { JsonRpcMessage } from '../jsonrpc/types.js';
import type { MessageContext, SendOptions, Transport } from '../protocol/transport.js';

/** Wraps the transport `create()` resolves to; `create` runs on `start()`. */
export class LazyTransport implements Transport {
  onmessage?: (message: JsonRpcMessage | JsonRpcMessage[], context: MessageContext) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  readonly #create: () => Promise<Transport>;
  readonly #binding: string | undefined;
  #inner: Transport | undefined;
  #closed = false;

  /**
   * @param create makes the real (unstarted) transport
   * @param binding the real transport's `binding` name, known before it exists
   */
  constructor(create: () => Promise<Transport>, binding?: string) {
    this.#create = create;
    this.#binding = binding;
  }

  /** The real transport once started. */
  get inner(): Transport | undefined {
    return this.#inner;
  }

  get binding(): string | undefined {
    return this.#inner?.binding ?? this.#binding;
  }

  get sessionId(): string | undefined {
    return this.#inner?.sessionId;
  }

  /** Imports the binding, builds its transport and starts it. @throws Error when closed first */
  async start(): Promise<void> {
    if (this.#inner) throw new Error('transport already started');
    const inner = await this.#create();
    if (this.#closed) {
      await inner.close().catch(() => {});
      throw new Error('transport closed before it started');
    }
    this.#inner = inner;
    inner.onmessage = (message, context) => this.onmessage?.(message, context);
    inner.onerror = (error) => this.onerror?.(error);
    inner.onclose = () => this.onclose?.();
    await inner.start();
  }

  /** @throws Error before `start()` has resolved */
  send(message: JsonRpcMessage | JsonRpcMessage[], options?: SendOptions): Promise<void> {
    if (!this.#inner) return Promise.reject(new Error('transport not started'));
    return this.#inner.send(message, options);
  }

  async close(): Promise<void> {
    if (this.#inner) return this.#inner.close();
    if (this.#closed) return;
    this.#closed = true;
    this.onclose?.();
  }
}
