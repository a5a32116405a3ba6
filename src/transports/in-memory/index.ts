/**
 * `anywire/in-memory`: a linked pair of transports for tests. Messages cross as JSON text, as on a
 * real wire (no shared references), asynchronously.
 * @module
 */
import { parseMessage } from '../../jsonrpc/parse.js';
import type { JsonRpcMessage } from '../../jsonrpc/types.js';
import type { MessageContext, Transport } from '../../protocol/transport.js';

/** One end of an in-memory pair. */
export class InMemoryTransport implements Transport {
  readonly binding = 'in-memory';
  onmessage?: (message: JsonRpcMessage | JsonRpcMessage[], context: MessageContext) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  /** The context the other end's messages arrive with (set `authInfo` here to test auth). */
  context: MessageContext = { binding: 'in-memory' };
  #other: InMemoryTransport | undefined;
  #closed = false;
  #started = false;
  #backlog: string[] = [];

  /** Creates two connected ends. */
  static createLinkedPair(): [InMemoryTransport, InMemoryTransport] {
    const a = new InMemoryTransport();
    const b = new InMemoryTransport();
    a.#other = b;
    b.#other = a;
    return [a, b];
  }

  async start(): Promise<void> {
    this.#started = true;
    const backlog = this.#backlog;
    this.#backlog = [];
    for (const text of backlog) this.#deliver(text);
  }

  async send(message: JsonRpcMessage | JsonRpcMessage[]): Promise<void> {
    if (this.#closed) throw new Error('anywire: in-memory transport closed');
    const other = this.#other;
    if (!other || other.#closed) return;
    const text = JSON.stringify(message);
    queueMicrotask(() => (other.#started ? other.#deliver(text) : other.#backlog.push(text)));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.onclose?.();
    const other = this.#other;
    if (other && !other.#closed) queueMicrotask(() => void other.close());
  }

  #deliver(text: string): void {
    if (this.#closed) return;
    const r = parseMessage(text);
    if (!r.ok) {
      this.onerror?.(new Error(r.error.error.message));
      return;
    }
    this.onmessage?.('message' in r ? r.message : r.batch, this.context);
  }
}
