/**
 * The task store of the 2025-11-25 experimental Tasks (basic/utilities/tasks, SEP-1686): where
 * task-augmented `tools/call` runs are kept, so that any process can answer `tasks/get`,
 * `tasks/result`, `tasks/list` and `tasks/cancel` for them.
 * @module
 */
import type { InputRequest, JsonObject } from './types.js';

/** The states of a task; the last three are terminal. */
export type TaskStatus = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';

/** Terminal states: once a task reaches one, it never changes again. */
export const TERMINAL_TASK_STATUSES: ReadonlySet<TaskStatus> = new Set(['completed', 'failed', 'cancelled']);

/** A stored task. */
export interface TaskRecord {
  taskId: string;
  status: TaskStatus;
  statusMessage?: string;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601; the store sets it on every successful update. */
  lastUpdatedAt: string;
  /** Retention in ms from `createdAt`; `null` keeps the task until deleted. */
  ttl: number | null;
  /** Suggested polling interval in ms. */
  pollInterval?: number;
  /** The final JSON-RPC result or error, once terminal. */
  outcome?: { result: JsonObject } | { error: { code: number; message: string; data?: unknown } };
  /** Principal or session the task belongs to. */
  owner?: string;
  /** Outstanding input requests by key while `input_required` (2026-07-28 Tasks extension). */
  inputRequests?: Record<string, InputRequest>;
  /** Revision, set by the store: 1 at creation, +1 on every successful update (compare-and-set). */
  version?: number;
}

/** What may change in an update (never the id, the owner, the creation time or the revision). */
export type TaskPatch = Partial<Omit<TaskRecord, 'taskId' | 'owner' | 'createdAt' | 'version'>>;

/** The outcome of {@link TaskStore.update}. */
export type TaskUpdateResult =
  | { ok: true; record: TaskRecord }
  | {
      ok: false;
      /** `missing`: no such task (or expired); `terminal`: already terminal; `conflict`: `ifVersion` did not match. */
      reason: 'missing' | 'terminal' | 'conflict';
      /** The stored record, when there is one. */
      record?: TaskRecord;
    };

/** Options of {@link TaskStore.list}. */
export interface TaskListOptions {
  /** Only this owner's tasks; `undefined` lists every task. */
  owner?: string;
  /** A `nextCursor` from an earlier page; absent for the first page. */
  cursor?: string;
  /** Tasks per page, >= 1. */
  limit: number;
}

/** One page of {@link TaskStore.list}. */
export interface TaskPage {
  tasks: TaskRecord[];
  /** Absent on the last page. */
  nextCursor?: string;
}

/**
 * Keeps tasks. The contract every implementation keeps (`test/contracts/task-store.contract.ts`
 * checks it; run it on a new store):
 * - **Idempotency.** `create` rejects (with an `Error`) when the id exists, so a retried create never
 *   silently overwrites a task. `delete` of an unknown task resolves (idempotent). `sweep` may run
 *   on every process at once.
 * - **Compare-and-set and the terminal-state guard.** `update` is atomic per task: it applies the
 *   patch only if the task exists, is not terminal, and (when `ifVersion` is given) its `version`
 *   equals `ifVersion`; otherwise it changes nothing and says why. So when a cancel and a
 *   completion race (on one process or several), exactly one terminal state is stored, once; the
 *   loser sees `reason: 'terminal'` with the winner's record. Every successful update increments
 *   `version` and sets `lastUpdatedAt`.
 * - **TTL.** A task whose `createdAt + ttl` has passed is gone: `get` resolves `undefined`, `update`
 *   answers `missing`, `list` skips it; `sweep` deletes such tasks and resolves to how many (a
 *   shared store may expire them by itself, e.g. Redis key TTLs, and then sweep finds none).
 * - **Ordering and pagination.** `list` returns tasks in creation order, `limit` at a time; a
 *   `nextCursor` resumes after the last task returned even if tasks were created or deleted since
 *   (no task is returned twice; a task created after the listing began may or may not appear).
 *   A cursor that the store did not issue rejects with a `RangeError`.
 * - **Reads return copies.** Mutating a returned record does not change the store.
 * - **Errors.** A backend failure rejects; the tasks extension answers the request that needed the
 *   store with JSON-RPC -32603, and reports failures of background writes (a task's outcome) to the
 *   server's `onerror`.
 */
export interface TaskStore {
  /** Stores a new task (`version` is set to 1). @throws Error when `taskId` exists */
  create(record: TaskRecord): Promise<void>;
  /** The task, or `undefined` when unknown or expired. */
  get(taskId: string): Promise<TaskRecord | undefined>;
  /** Compare-and-set update (see the contract above). */
  update(taskId: string, patch: TaskPatch, options?: { ifVersion?: number }): Promise<TaskUpdateResult>;
  /** One page of tasks, in creation order. @throws RangeError for a cursor it did not issue */
  list(options: TaskListOptions): Promise<TaskPage>;
  /** Forgets a task. Idempotent. */
  delete(taskId: string): Promise<void>;
  /** Deletes expired tasks; resolves to how many it deleted. */
  sweep(now?: number): Promise<number>;
}

const copy = (t: TaskRecord): TaskRecord => structuredClone(t);

/**
 * Why an update of `record` must not be applied (the {@link TaskStore.update} contract: `missing`,
 * then `terminal`, then `conflict` when `ifVersion` differs), or `undefined` when it may be. Shared
 * by every TaskStore implementation so they refuse alike.
 */
export function refuseTaskUpdate(
  record: TaskRecord | undefined,
  ifVersion: number | undefined,
): Extract<TaskUpdateResult, { ok: false }> | undefined {
  if (!record) return { ok: false, reason: 'missing' };
  if (TERMINAL_TASK_STATUSES.has(record.status)) return { ok: false, reason: 'terminal', record };
  if (ifVersion !== undefined && ifVersion !== record.version)
    return { ok: false, reason: 'conflict', record };
  return undefined;
}

/** The fields of `patch` an update may change: never the id, the owner, the creation time or the revision. */
export function patchableFields(patch: TaskPatch): TaskPatch {
  const {
    taskId: _id,
    owner: _owner,
    createdAt: _created,
    version: _version,
    ...allowed
  } = patch as TaskRecord;
  return allowed;
}

/** In-memory {@link TaskStore} (one process). */
export class InMemoryTaskStore implements TaskStore {
  #map = new Map<string, { seq: number; record: TaskRecord }>();
  #seq = 0;

  #live(taskId: string, now = Date.now()): { seq: number; record: TaskRecord } | undefined {
    const e = this.#map.get(taskId);
    if (e && expired(e.record, now)) {
      this.#map.delete(taskId);
      return undefined;
    }
    return e;
  }

  async create(record: TaskRecord): Promise<void> {
    if (this.#live(record.taskId)) throw new Error(`anywire: task ${record.taskId} already exists`);
    this.#map.set(record.taskId, { seq: ++this.#seq, record: { ...copy(record), version: 1 } });
  }

  async get(taskId: string): Promise<TaskRecord | undefined> {
    const e = this.#live(taskId);
    return e ? copy(e.record) : undefined;
  }

  async update(
    taskId: string,
    patch: TaskPatch,
    options: { ifVersion?: number } = {},
  ): Promise<TaskUpdateResult> {
    const t = this.#live(taskId)?.record;
    const refused = refuseTaskUpdate(t, options.ifVersion);
    if (refused) return refused.record ? { ...refused, record: copy(refused.record) } : refused;
    Object.assign(t!, structuredClone(patchableFields(patch)), {
      lastUpdatedAt: new Date().toISOString(),
      version: (t!.version ?? 1) + 1,
    });
    return { ok: true, record: copy(t!) };
  }

  async list(options: TaskListOptions): Promise<TaskPage> {
    let after = 0;
    if (options.cursor !== undefined) {
      after = /^\d{1,15}$/.test(options.cursor) ? Number(options.cursor) : Number.NaN;
      if (!Number.isSafeInteger(after) || after > this.#seq)
        throw new RangeError('anywire: invalid task cursor');
    }
    const now = Date.now();
    const tasks: TaskRecord[] = [];
    let last = 0;
    for (const [id, e] of this.#map) {
      if (e.seq <= after) continue;
      if (expired(e.record, now)) {
        this.#map.delete(id);
        continue;
      }
      if (options.owner !== undefined && e.record.owner !== options.owner) continue;
      if (tasks.length === options.limit) return { tasks, nextCursor: String(last) };
      tasks.push(copy(e.record));
      last = e.seq;
    }
    return { tasks };
  }

  async delete(taskId: string): Promise<void> {
    this.#map.delete(taskId);
  }

  async sweep(now = Date.now()): Promise<number> {
    let n = 0;
    for (const [id, e] of this.#map) {
      if (expired(e.record, now)) {
        this.#map.delete(id);
        n++;
      }
    }
    return n;
  }
}

function expired(t: TaskRecord, now: number): boolean {
  return t.ttl !== null && Date.parse(t.createdAt) + t.ttl <= now;
}
