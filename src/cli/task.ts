/**
 * `anywire task get|cancel|wait <target> <taskId>`: the Tasks extension (2026-07-28) from the
 * command line, for a task started earlier (maybe by another process of the same principal).
 * @module
 */
import type { ClientCommandOptions } from './commands.js';
import { withClient } from './commands.js';
import { formatToolResult } from './format.js';
import type { Target } from './target.js';

/** What `anywire task` does. */
export type TaskAction = 'get' | 'cancel' | 'wait';

/** Runs `anywire task <action>`; exit status 1 on errors, on a failed task and on an `isError` result. */
export function taskCommand(
  target: Target,
  action: TaskAction,
  taskId: string,
  o: ClientCommandOptions,
): Promise<number> {
  return withClient(target, o, async (client) => {
    const out = o.stdout ?? process.stdout;
    const err = o.stderr ?? process.stderr;
    if (action === 'get') {
      const t = await client.request('tasks/get', { taskId });
      if (o.json) out.write(`${JSON.stringify(t, null, 2)}\n`);
      else {
        out.write(
          `${taskId}: ${String(t.status)}${t.statusMessage ? ` (${String(t.statusMessage)})` : ''}\n`,
        );
        if (t.result) out.write(`${formatToolResult(t.result as never)}\n`);
        if (t.error) out.write(`error: ${JSON.stringify(t.error)}\n`);
      }
      return t.status === 'failed' ? 1 : 0;
    }
    if (action === 'cancel') {
      await client.request('tasks/cancel', { taskId });
      if (!o.json) err.write(`${taskId}: cancellation requested\n`);
      else out.write(`${JSON.stringify({ taskId, cancelRequested: true })}\n`);
      return 0;
    }
    let last = '';
    const result = await client.followTask(taskId, {
      ontask: (t) => {
        const line = `${t.status}${t.statusMessage ? ` (${t.statusMessage})` : ''}`;
        if (line !== last && !o.json) err.write(`task ${taskId}: ${line}\n`);
        last = line;
      },
    });
    if (o.json) out.write(`${JSON.stringify(result, null, 2)}\n`);
    else (result.isError ? err : out).write(`${formatToolResult(result)}\n`);
    return result.isError ? 1 : 0;
  });
}
