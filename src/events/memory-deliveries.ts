/**
 * The in-memory {@link WebhookDeliveryQueue}: a job starts at once, in the background, in this
 * process (jobs enqueued before `start` wait for it). Nothing survives the process.
 * @module
 */
import type { WebhookDeliveryJob, WebhookDeliveryQueue, WebhookDeliveryWorker } from './stores.js';

/** The in-memory {@link WebhookDeliveryQueue}. See the interface for the contract. */
export class InMemoryWebhookDeliveryQueue implements WebhookDeliveryQueue {
  #worker: WebhookDeliveryWorker | undefined;
  #stopping = new AbortController();
  readonly #waiting: WebhookDeliveryJob[] = [];
  readonly #inFlight = new Set<Promise<unknown>>();

  enqueue(job: WebhookDeliveryJob): Promise<void> {
    if (this.#stopping.signal.aborted) return Promise.resolve();
    if (this.#worker) this.#run(this.#worker, job);
    else this.#waiting.push(job);
    return Promise.resolve();
  }

  #run(worker: WebhookDeliveryWorker, job: WebhookDeliveryJob): void {
    const work: Promise<unknown> = worker(job, this.#stopping.signal)
      .catch(() => {})
      .finally(() => this.#inFlight.delete(work));
    this.#inFlight.add(work);
  }

  /** @throws Error when already started */
  start(worker: WebhookDeliveryWorker): void {
    if (this.#worker) throw new Error('anywire: this delivery queue is already started');
    this.#worker = worker;
    for (const job of this.#waiting.splice(0)) this.#run(worker, job);
  }

  async settled(): Promise<void> {
    while (this.#inFlight.size) await Promise.all([...this.#inFlight]);
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    this.#waiting.length = 0;
    await this.settled();
  }
}
