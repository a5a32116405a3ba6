/**
 * Options of `McpServer`, their named defaults, and the construction-time checks of every numeric
 * one (a `RangeError` naming the option and its range).
 * @module
 */
import { checkIntegerOption } from '../protocol/option-checks.js';
import type { ErasOption } from '../protocol/eras.js';
import type { KeyRing, NotificationBus, Stores } from '../protocol/stores.js';
import type { CacheHints, ServerCapabilities } from '../protocol/types.js';
import type { LegacySession } from './context.js';
import type { TasksOptions } from './extensions/tasks/runner.js';

/** Methods whose modern results carry caching hints (2026-07-28 server/utilities/caching). */
export type CacheableMethod =
  | 'server/discover'
  | 'tools/list'
  | 'prompts/list'
  | 'resources/list'
  | 'resources/templates/list'
  | 'resources/read';

/** Items per page of list results, by default. */
export const DEFAULT_PAGE_SIZE = 100;
/** The largest `pageSize` accepted. */
export const MAX_PAGE_SIZE = 100_000;
/** How long a sealed MRTR `requestState` stays valid, by default (10 minutes). */
export const DEFAULT_REQUEST_STATE_TTL_MS = 600_000;
/** Input rounds (`input_required` answers) one modern request may take, by default. */
export const DEFAULT_MAX_INPUT_ROUNDS = 8;
/** The most values one `completion/complete` result carries (server/utilities/completion). */
export const MAX_COMPLETION_VALUES = 100;
/** Open `subscriptions/listen` streams one server holds at most, by default (see `maxListenStreams`). */
export const DEFAULT_MAX_LISTEN_STREAMS = 1_000;
/** Caching hints of a modern result when none are configured. */
export const DEFAULT_CACHE_HINTS: CacheHints = { ttlMs: 0, cacheScope: 'public' };

/** Options of `McpServer`. */
export interface McpServerOptions {
  /** Instructions for the model, returned by `initialize` and `server/discover`. */
  instructions?: string;
  /** Extra capabilities merged over the ones derived from registrations and extensions. */
  capabilities?: ServerCapabilities;
  /** Which eras to serve. Default `both`. */
  eras?: ErasOption;
  /** Items per page of list results, 1 to {@link MAX_PAGE_SIZE}. Default {@link DEFAULT_PAGE_SIZE}. */
  pageSize?: number;
  /** Caching hints per method (`ttlMs` an integer >= 0). Default {@link DEFAULT_CACHE_HINTS}. */
  cacheHints?: Partial<Record<CacheableMethod, CacheHints>>;
  /**
   * MRTR `requestState` sealing. Default: `stores.keyRing`, else a random per-process key; `ttlMs`
   * {@link DEFAULT_REQUEST_STATE_TTL_MS} (>= 1), `maxRounds` {@link DEFAULT_MAX_INPUT_ROUNDS} (>= 1).
   */
  requestState?: { keyRing?: KeyRing; ttlMs?: number; maxRounds?: number };
  /**
   * Fans out list_changed and resource updates (Redis-backed for several processes). Default
   * `stores.notificationBus`, else in-memory.
   */
  notificationBus?: NotificationBus;
  /**
   * Shared stores switched at once (bus, key ring, task store, serveHttp's event store), e.g.
   * `await redisStores(url)` from `anywire/redis`; see {@link Stores}. The explicit options above
   * win over it. Also settable with `server.useStores()` before serving. Default: none (in-memory).
   */
  stores?: Stores;
  /**
   * Which lists announce their changes: `capabilities.<list>.listChanged`, the legacy
   * `notifications/<list>/list_changed`, and the modern listen filter `<list>ListChanged`.
   * Default `true` for every list that has entries: the registry stays live while serving
   * (`registerTool` after start, a handle's `remove`/`update`/`enable`/`disable`, `notifyListChanged`)
   * and each change is delivered. Set `false` (or `{ tools: false }`, ...) for a fixed catalog: then
   * nothing is advertised, and a modern `subscriptions/listen` asking only for those changes is
   * acknowledged with an empty filter and ends at once instead of holding a stream open.
   */
  listChanged?: boolean | { tools?: boolean; prompts?: boolean; resources?: boolean };
  /**
   * Whether clients may subscribe to resource updates: `capabilities.resources.subscribe`, the
   * legacy `resources/subscribe` (-32601 without it) and the modern listen filter
   * `resourceSubscriptions`. Updates come only from {@link McpServer.notifyResourceUpdated}, so turn
   * this on when the application calls it. Default `false`.
   */
  resourceSubscriptions?: boolean;
  /**
   * Open `subscriptions/listen` streams this server holds at most, across every binding (0 refuses
   * every held stream). Past it a new listen gets the JSON-RPC error
   * `ErrorCode.ListenStreamLimit` (-32005, `data: { limit: 'maxListenStreams', max }`) before any
   * acknowledgement; open streams are unaffected. Listens with an empty honoured filter end at once
   * and are never counted. Default {@link DEFAULT_MAX_LISTEN_STREAMS}.
   */
  maxListenStreams?: number;
  /** Timeout in ms (>= 1) of server-to-client requests (legacy sampling, elicitation, roots). Default 60 000. */
  requestTimeoutMs?: number;
  /**
   * The 2025-11-25 experimental Tasks for `tools/call` (tools opt in with
   * `execution: { taskSupport: 'optional' | 'required' }`), installed as an extension. Default: off.
   */
  tasks?: TasksOptions | boolean;
  /** Called when a legacy client sends `notifications/roots/list_changed`. */
  onRootsListChanged?: (session: LegacySession) => void;
  /**
   * Receives non-fatal errors: a notification bus that throws or rejects, an extension's `stop()`
   * that fails. Default: a process warning (stderr), where there is a process.
   */
  onerror?: (error: Error) => void;
}

const ERAS: readonly unknown[] = ['both', 'modern', 'legacy'];

/**
 * Checks every option when the server is built.
 * @throws RangeError naming the option and its range; TypeError for an unknown `eras`
 */
export function validateServerOptions(options: McpServerOptions): void {
  const owner = 'McpServer';
  if (options.eras !== undefined && !ERAS.includes(options.eras))
    throw new TypeError(`${owner}: eras must be 'both', 'modern' or 'legacy' (got ${String(options.eras)})`);
  checkIntegerOption(owner, 'pageSize', options.pageSize, 1, MAX_PAGE_SIZE);
  checkIntegerOption(owner, 'requestTimeoutMs', options.requestTimeoutMs, 1);
  checkIntegerOption(owner, 'maxListenStreams', options.maxListenStreams, 0);
  checkIntegerOption(owner, 'requestState.ttlMs', options.requestState?.ttlMs, 1);
  checkIntegerOption(owner, 'requestState.maxRounds', options.requestState?.maxRounds, 1);
  for (const [method, hints] of Object.entries(options.cacheHints ?? {})) {
    checkIntegerOption(owner, `cacheHints["${method}"].ttlMs`, hints?.ttlMs, 0);
  }
}
