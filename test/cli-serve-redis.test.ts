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
import { anywire, freePort, start } from './cli-run.js';
import { redisMissing, startRedis } from './fixtures/redis-server.js';
import type { RedisInstance } from './fixtures/redis-server.js';
import { EVERYTHING, modernToolCall, ROOT } from './helpers.js';

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
});
