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

/** The lists whose changes can be announced. */
const LISTS = ['tools', 'prompts', 'resources'] as const;

/** What {@link announcedCapabilities} reads of the server options. */
export interface AnnouncePolicy {
  listChanged?: boolean | { tools?: boolean; prompts?: boolean; resources?: boolean };
  resourceSubscriptions?: boolean;
}

/**
 * Adds the delivery promises to capabilities derived from registrations: `listChanged` on each list
 * present unless the policy turns it off (default on: the registry changes while serving and each
 * change is delivered), `resources.subscribe` only when the policy turns it on (updates come only
 * from `notifyResourceUpdated`). Returns a new object; `caps` is not changed.
 */
export function announcedCapabilities(caps: ServerCapabilities, policy: AnnouncePolicy): ServerCapabilities {
  const out: ServerCapabilities = { ...caps };
  const lc = policy.listChanged;
  for (const list of LISTS) {
    if (!out[list]) continue;
    const on = typeof lc === 'object' && lc !== null ? lc[list] !== false : lc !== false;
    out[list] = on ? { ...out[list], listChanged: true } : { ...out[list] };
  }
  if (out.resources && policy.resourceSubscriptions === true)
    out.resources = { ...out.resources, subscribe: true };
  return out;
}

const strings = (v: unknown[]): string[] => [...new Set(v.filter((u): u is string => typeof u === 'string'))];

/**
 * The subset of `requested` this server can deliver (2026-07-28 basic/patterns/subscriptions: the
 * acknowledgement lists only what the server agreed to honour). A list change is honoured only
 * when `capabilities.<list>.listChanged` is declared, resource URIs only with
 * `capabilities.resources.subscribe`, task ids only with the Tasks extension; empty lists are
 * dropped, so an empty result means nothing could ever be delivered.
 */
export function grantFilter(requested: ListenFilter, caps: ServerCapabilities): ListenFilter {
  const granted: ListenFilter = {};
  if (requested.toolsListChanged === true && caps.tools?.listChanged) granted.toolsListChanged = true;
  if (requested.promptsListChanged === true && caps.prompts?.listChanged) granted.promptsListChanged = true;
  if (requested.resourcesListChanged === true && caps.resources?.listChanged)
    granted.resourcesListChanged = true;
  if (Array.isArray(requested.resourceSubscriptions) && caps.resources?.subscribe) {
    const uris = strings(requested.resourceSubscriptions);
    if (uris.length) granted.resourceSubscriptions = uris;
  }
  // The Tasks extension (SEP-2663): task ids, already narrowed to the caller's own tasks.
  const extensions = caps.extensions as Record<string, unknown> | undefined;
  if (Array.isArray(requested.taskIds) && extensions?.[TASKS_EXTENSION_ID]) {
    const ids = strings(requested.taskIds);
    if (ids.length) granted.taskIds = ids;
  }
  return granted;
}

/** Whether a granted filter can never deliver anything (the listen ends at once). */
export function isEmptyFilter(filter: ListenFilter): boolean {
  return Object.keys(filter).length === 0;
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
