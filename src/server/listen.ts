/**
 * `subscriptions/listen` (2026-07-28 basic/patterns/subscriptions): one long-lived request per
 * subscription; acknowledgement first, then only the notification types the client asked for and
 * the server granted, each tagged with `_meta["io.modelcontextprotocol/subscriptionId"]`.
 * @module
 */
import type { JsonRpcId } from '../jsonrpc/types.js';
import { META } from '../protocol/constants.js';
import type { ServerEvent } from '../protocol/stores.js';
import type { JsonObject, ListenFilter, ServerCapabilities } from '../protocol/types.js';

const TASKS_EXTENSION_ID = 'io.modelcontextprotocol/tasks';

/** The subset of `requested` this server can deliver. */
export function grantFilter(requested: ListenFilter, caps: ServerCapabilities): ListenFilter {
  const granted: ListenFilter = {};
  if (requested.toolsListChanged && caps.tools) granted.toolsListChanged = true;
  if (requested.promptsListChanged && caps.prompts) granted.promptsListChanged = true;
  if (requested.resourcesListChanged && caps.resources) granted.resourcesListChanged = true;
  if (Array.isArray(requested.resourceSubscriptions) && caps.resources?.subscribe) {
    granted.resourceSubscriptions = requested.resourceSubscriptions.filter(
      (u): u is string => typeof u === 'string',
    );
  }
  // The Tasks extension (SEP-2663): task ids, already narrowed to the caller's own tasks.
  const extensions = caps.extensions as Record<string, unknown> | undefined;
  if (Array.isArray(requested.taskIds) && extensions?.[TASKS_EXTENSION_ID]) {
    granted.taskIds = requested.taskIds.filter((id): id is string => typeof id === 'string');
  }
  return granted;
}

/** One open listen stream. */
export class ListenSubscription {
  readonly id: JsonRpcId;
  readonly filter: ListenFilter;
  #notify: (method: string, params: JsonObject) => Promise<void>;
  #ended = false;
  #onend: (() => void) | undefined;
  /** Resolves when the server ends the subscription. */
  readonly ended: Promise<void>;

  constructor(
    id: JsonRpcId,
    filter: ListenFilter,
    notify: (method: string, params: JsonObject) => Promise<void>,
  ) {
    this.id = id;
    this.filter = filter;
    this.#notify = notify;
    this.ended = new Promise((resolve) => {
      this.#onend = resolve;
    });
  }

  /** Sends `method` with the subscription id in `_meta`. */
  send(method: string, params: JsonObject = {}): Promise<void> {
    const meta = { ...(params._meta as JsonObject | undefined), [META.subscriptionId]: this.id };
    return this.#notify(method, { ...params, _meta: meta });
  }

  /** Delivers a server event if the filter wants it. */
  deliver(event: ServerEvent): void {
    if (this.#ended) return;
    const f = this.filter;
    if (event.type === 'list_changed') {
      const want =
        (event.list === 'tools' && f.toolsListChanged) ||
        (event.list === 'prompts' && f.promptsListChanged) ||
        (event.list === 'resources' && f.resourcesListChanged);
      if (want) this.send(`notifications/${event.list}/list_changed`).catch(() => {});
    } else if (event.type === 'resource_updated') {
      if (f.resourceSubscriptions?.includes(event.uri)) {
        this.send('notifications/resources/updated', { uri: event.uri }).catch(() => {});
      }
    } else if (event.type === 'task_status') {
      if (Array.isArray(f.taskIds) && f.taskIds.includes(event.taskId))
        this.send('notifications/tasks', event.task).catch(() => {});
    }
  }

  /** Ends the subscription from the server side. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#onend?.();
  }
}
