/**
 * Tasks (2026-07-28 extension) from the command line: `anywire call` follows a task and shows its
 * status on stderr; `anywire task get|wait|cancel` act on a task by id. The `anywire` binary runs
 * as a child process against the everything server over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../src/client/client.js';
import { StreamableHttpClientTransport } from '../src/transports/streamable-http/client.js';
import { serveHttp } from '../src/transports/streamable-http/node.js';
import type { HttpServerHandle } from '../src/transports/streamable-http/node.js';
import { createEverythingServer } from '../examples/everything/server.js';
import { anywire } from './cli-run.js';

describe('anywire and tasks', () => {
  let http: HttpServerHandle;
  let client: Client;
  beforeAll(async () => {
    http = await serveHttp(createEverythingServer(), { port: 0 });
    client = new Client({ name: 'starter', version: '1' });
    await client.connect(new StreamableHttpClientTransport({ url: http.url }));
  });
  afterAll(async () => {
    await client.close();
    await http.close();
  });

  it('call follows a task to its result and shows its status changes on stderr', async () => {
    const r = await anywire(['call', http.url, 'slow_compute', 'seconds=1', 'label=cli']);
    expect(r).toMatchObject({ code: 0, stdout: 'Computed cli after 1 s\n' });
    expect(r.stderr).toMatch(/^task [0-9a-f-]{36}: working/m);
    expect(r.stderr).toMatch(/^task [0-9a-f-]{36}: completed/m);
  });

  it('task get, wait and cancel act on a task by id; a failed or tool-error task exits 1', async () => {
    const long = await client.startTask('slow_compute', { seconds: 60, label: 'long' });
    const id = long.taskId!;
    const got = await anywire(['task', 'get', http.url, id]);
    expect(got.code).toBe(0);
    expect(got.stdout).toMatch(new RegExp(`^${id}: working`));
    const json = await anywire(['task', 'get', http.url, id, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ taskId: id, status: 'working', resultType: 'complete' });
    const cancelled = await anywire(['task', 'cancel', http.url, id]);
    expect(cancelled).toMatchObject({ code: 0 });
    expect((await anywire(['task', 'get', http.url, id])).stdout).toMatch(new RegExp(`^${id}: cancelled`));

    const quick = await client.startTask('slow_compute', { seconds: 1, label: 'waited' });
    const waited = await anywire(['task', 'wait', http.url, quick.taskId!]);
    expect(waited).toMatchObject({ code: 0, stdout: 'Computed waited after 1 s\n' });

    const failing = await client.startTask('failing_job', {});
    const f = await anywire(['task', 'wait', http.url, failing.taskId!]);
    expect(f.code).toBe(1);
    expect(f.stderr).toContain('The job failed');

    const unknown = await anywire(['task', 'get', http.url, 'no-such-task']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/Task not found/);
    const usage = await anywire(['task', 'frobnicate', http.url, id]);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain('task takes get|wait|cancel <taskId>');
  });
});
