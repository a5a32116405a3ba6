/**
 * `anywire serve <module> --http ... --redis redis://...` (issue 11 item 2): the server's shared
 * stores on a private Redis, connected before the binding listens and closed on SIGTERM; a Redis
 * that cannot be reached is one clear line and exit status 69; the Redis client is loaded only
 * when the flag is given.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../src/client/client.js';
import { createRedisClient } from '../src/redis/connection.js';
import { RedisTaskLeases } from '../src/redis/task-leases.js';
import { RedisTaskStore } from '../src/redis/task-store.js';
import { StreamableHttpClientTransport } from '../src/transports/streamable-http/client.js';
import { anywire, freePort, start } from './cli-run.js';
import { redisMissing, startRedis } from './fixtures/redis-server.js';
import type { RedisInstance } from './fixtures/redis-server.js';
import { EVERYTHING, modernToolCall, ROOT, waitFor } from './helpers.js';

const missing = redisMissing();
if (missing) console.warn(`serve --redis tests skipped: ${missing}`);

const modernEcho = (url: string, text: string) => modernToolCall(url, 'echo', { text });

describe.skipIf(missing)('anywire serve --redis', () => {
  let redis: RedisInstance;
  let probe: ReturnType<typeof createClient>;
  /** Connections to Redis other than the probe's own. */
  const clients = async () => {
    const own = String(await probe.clientId());
    const list = (await probe.sendCommand(['CLIENT', 'LIST'])) as string;
    return list.split('\n').filter((l) => l.trim() && !l.startsWith(`id=${own} `)).length;
  };

  beforeAll(async () => {
    redis = await startRedis();
    probe = createClient({ url: redis.url });
    await probe.connect();
  });
  afterAll(async () => {
    await probe?.quit();
    await redis?.close();
  });

  it('serves with its stores on Redis, names the node, and closes its Redis connections on SIGTERM', async () => {
    const port = await freePort();
    const s = await start(
      ['serve', EVERYTHING, '--http', String(port), '--redis', `${redis.url}/0`, '--node-id', 'n1'],
      /stores\s+redis redis:\/\/127\.0\.0\.1:\d+\/0 \(node n1\)/,
    );
    try {
      expect(s.stderr()).toMatch(/http:\/\/127\.0\.0\.1:\d+\/mcp/);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', nodeId: 'n1' });
      const echo = await modernEcho(`http://127.0.0.1:${port}/mcp`, 'through a redis node');
      expect(
        ((await echo.json()) as { result: { content: { text: string }[] } }).result.content[0]!.text,
      ).toBe('through a redis node');
      expect(await clients(), 'the node holds Redis connections').toBeGreaterThan(0);
    } finally {
      expect(await s.stop()).toBe(0);
    }
    const deadline = Date.now() + 10_000;
    while ((await clients()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await clients(), 'Redis connections left after SIGTERM').toBe(0);
    expect(s.stderr()).toMatch(/SIGTERM; shutting down/);
  });

  it('exits 69 with one clear line when Redis is not reachable, before listening', async () => {
    const dead = await freePort();
    const port = await freePort();
    const r = await anywire(
      ['serve', EVERYTHING, '--http', String(port), '--redis', `redis://127.0.0.1:${dead}/0`],
      {
        timeoutMs: 30_000,
      },
    );
    expect(r.code).toBe(69);
    expect(r.stderr).toMatch(
      new RegExp(`^anywire: cannot reach Redis at redis://127\\.0\\.0\\.1:${dead}/0: .+\\n$`),
    );
    expect(r.stderr).not.toMatch(/serving/);
  });

  it('refuses a URL that is not redis:// (exit 1), and hides a password in what it prints', async () => {
    const r = await anywire(['serve', EVERYTHING, '--http', '0', '--redis', 'http://127.0.0.1:6379']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--redis expects redis:\/\/host:port\/db/);
    const skew = await anywire(['serve', EVERYTHING, '--http', '0', '--max-clock-skew-ms', '-1']);
    expect(skew.code).toBe(1);
    expect(skew.stderr).toMatch(/--max-clock-skew-ms.*expected an integer >= 0/);
    const dead = await freePort();
    const secret = await anywire(
      ['serve', EVERYTHING, '--http', '0', '--redis', `redis://user:hunter2@127.0.0.1:${dead}`],
      { timeoutMs: 30_000 },
    );
    expect(secret.code).toBe(69);
    expect(secret.stderr).not.toContain('hunter2');
    expect(secret.stderr).toContain('redis://user:***@127.0.0.1');
  });

  it('loads the Redis client only when --redis is given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anywire-redis-imports-'));
    try {
      const loaded = async (extra: string[]) => {
        const record = join(dir, `${extra.length}.txt`);
        const port = await freePort();
        const child = execFile(
          process.execPath,
          [
            '--import',
            join(ROOT, 'test/fixtures/record-imports.mjs'),
            join(ROOT, 'bin/anywire.js'),
            'serve',
            EVERYTHING,
            '--http',
            String(port),
            ...extra,
          ],
          { cwd: ROOT, env: { ...process.env, RECORD_IMPORTS: record } },
        );
        let err = '';
        await new Promise<void>((resolve, reject) => {
          child.stderr!.on('data', (d: Buffer) => {
            err += d;
            if (/\/mcp\n/.test(err)) resolve();
          });
          child.once('exit', (code) => reject(new Error(`serve exited (${code}): ${err}`)));
        });
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
        const urls = readFileSync(record, 'utf8').split('\n');
        return {
          client: urls.some((u) => /\/node_modules\/(@redis|redis)\//.test(u)),
          stores: urls.some((u) => /\/dist\/redis\//.test(u)),
        };
      };
      expect(await loaded([])).toEqual({ client: false, stores: false });
      expect(await loaded(['--redis', redis.url])).toEqual({ client: true, stores: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the node (--node-id) as the holder of the task leases it takes; --max-clock-skew-ms reaches the task store', async () => {
    const s = await start(
      [
        'serve',
        EVERYTHING,
        '--http',
        '127.0.0.1:0',
        '--redis',
        `${redis.url}/1`,
        '--node-id',
        'n-lease',
        '--max-clock-skew-ms',
        '30000',
      ],
      /(http:\/\/127\.0\.0\.1:\d+\/mcp)[\s\S]*stores\s+redis/,
    );
    const client = new Client({ name: 'lease-reader', version: '1.0.0' }, { era: 'modern' });
    const db1 = createRedisClient({ url: `${redis.url}/1` });
    await db1.connect();
    try {
      await client.connect(new StreamableHttpClientTransport({ url: s.match[1]! }));
      const handle = await client.startTask('slow_compute', { seconds: 30, label: 'leased' });
      expect(handle.taskId, 'slow_compute answered without a task').toBeDefined();
      // `<attempt>|<node id>` (src/redis/task-leases.ts key layout).
      expect(await db1.hGet('anywire:leases:{queue}:holders', handle.taskId!)).toBe('1|n-lease');
      // The record's key expires at createdAt + ttl + the tolerance (src/redis/task-store.ts).
      const key = `anywire:task:{${encodeURIComponent(handle.taskId!)}}`;
      const { ttl } = JSON.parse((await db1.hGet(key, 'r'))!) as { ttl: number };
      const pttl = await db1.pTTL(key);
      expect(pttl).toBeGreaterThan(ttl + 20_000);
      expect(pttl).toBeLessThanOrEqual(ttl + 30_000);
      await client.request('tasks/cancel', { taskId: handle.taskId! });
    } finally {
      await client.close();
      await db1.close();
      expect(await s.stop()).toBe(0);
    }
  });

  it('starts its extensions at startup: a node nobody calls yet fails the task orphaned by a dead node', async () => {
    // A task left `working` by a node that died: its lease ran out long ago.
    const db2 = createRedisClient({ url: `${redis.url}/2` });
    await db2.connect();
    const store = new RedisTaskStore(db2);
    const leases = new RedisTaskLeases(db2);
    const now = new Date().toISOString();
    await store.create({
      taskId: 'orphan-1',
      status: 'working',
      createdAt: now,
      lastUpdatedAt: now,
      ttl: 600_000,
    });
    await leases.acquire('orphan-1', 'dead-node', { leaseMs: 1 });
    const s = await start(
      ['serve', EVERYTHING, '--http', '127.0.0.1:0', '--redis', `${redis.url}/2`, '--node-id', 'n-sweeper'],
      /stores\s+redis/,
    );
    try {
      // No request reaches the node: only a sweep started at startup can fail the task (the
      // everything server sweeps every 5 s).
      const failed = await waitFor(
        'the orphaned task failed by the idle node',
        () => store.get('orphan-1'),
        (t) => t?.status === 'failed',
        20_000,
      );
      expect(failed!.statusMessage).toMatch(/node running this task stopped/i);
    } finally {
      expect(await s.stop()).toBe(0);
      await db2.close();
    }
  });
});
