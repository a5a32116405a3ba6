/**
 * Issue 11, "Bad input and faults": Redis goes away for 5 s under two `anywire serve --redis` nodes.
 * `/readyz` says 503 with the reason while it is away; requests that need it fail fast with a clear
 * error (none waits for Redis); the stateless path, which does not need it, keeps serving; the
 * process never crashes; and once Redis is back everything works again without a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../src/client/client.js';
import type { JsonRpcNotification } from '../src/jsonrpc/types.js';
import { StreamableHttpClientTransport } from '../src/transports/streamable-http/client.js';
import { startNode } from './fixtures/cluster.js';
import type { ClusterNode } from './fixtures/cluster.js';
import { redisMissing, startRedis } from './fixtures/redis-server.js';
import type { RedisInstance } from './fixtures/redis-server.js';

const missing = redisMissing();
if (missing) console.warn(`Redis fault tests skipped: ${missing}`);

const OUTAGE_MS = 5000;

async function readyz(
  node: ClusterNode,
): Promise<{ status: number; body: { status: string; reason?: string } }> {
  const res = await fetch(`${node.base}/readyz`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as { status: string; reason?: string } };
}

/** Polls `/readyz` until it answers `status`; resolves with the time it took in ms. */
async function untilReady(node: ClusterNode, status: number, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  let last: unknown;
  while (Date.now() - t0 < timeoutMs) {
    const r = await readyz(node);
    if (r.status === status) return Date.now() - t0;
    last = r;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(
    `${node.id}/readyz did not answer ${status} within ${timeoutMs} ms (last: ${JSON.stringify(last)})`,
  );
}

async function modernClient(node: ClusterNode): Promise<Client> {
  const c = new Client({ name: `faults-${node.id}`, version: '1.0.0' }, { era: 'modern', tasks: false });
  await c.connect(new StreamableHttpClientTransport({ url: `${node.base}/mcp` }));
  return c;
}

describe.skipIf(missing)('Redis away for 5 s under two nodes', () => {
  let redis: RedisInstance;
  let n1: ClusterNode;
  let n2: ClusterNode;

  beforeAll(async () => {
    redis = await startRedis();
    n1 = await startNode({ id: 'n1', redis: redis.url });
    n2 = await startNode({ id: 'n2', redis: redis.url });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([n1?.stop(), n2?.stop()]);
    await redis?.close();
  });

  it('says not ready, fails fast where Redis is needed, keeps the stateless path, and recovers', async () => {
    const listener = await modernClient(n1);
    const trigger = await modernClient(n2);
    const heard: JsonRpcNotification[] = [];
    const sub = await listener.listen({ toolsListChanged: true }, (n) => heard.push(n));
    const waitHeard = async (count: number, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (heard.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      return heard.length;
    };
    try {
      // Before: ready, and a list change on n2 reaches n1's listener through Redis.
      expect((await readyz(n1)).status).toBe(200);
      await trigger.callTool('test_trigger_tool_change', {});
      expect(await waitHeard(1, 10_000)).toBe(1);

      // Redis goes away.
      await redis.kill();
      const outageStart = Date.now();
      const notReadyMs = await untilReady(n1, 503, 10_000);
      const down = await readyz(n2);
      expect(down.status).toBe(503);
      expect(down.body.status).toBe('not ready');
      expect(down.body.reason).toMatch(/^stores not ready: .*Redis/);

      // The stateless path does not need Redis: it keeps serving, at once.
      const t0 = Date.now();
      const echo = await trigger.callTool('echo', { text: 'no redis needed' }, { timeoutMs: 10_000 });
      expect((echo.content[0] as { text: string }).text).toBe('no redis needed');
      const echoMs = Date.now() - t0;

      // A list change needs the bus: the call answers at once, the publish fails and is reported
      // (never a crash, never a wait), and the listener hears nothing while Redis is away.
      const t1 = Date.now();
      await trigger.callTool('test_trigger_tool_change', {}, { timeoutMs: 10_000 });
      const publishMs = Date.now() - t1;
      expect(publishMs).toBeLessThan(3000);

      // Redis comes back after the outage (empty: nothing is persisted).
      const rest = OUTAGE_MS - (Date.now() - outageStart);
      if (rest > 0) await new Promise((r) => setTimeout(r, rest));
      await redis.restart();
      const readyAgainMs = await untilReady(n1, 200, 30_000);
      await untilReady(n2, 200, 30_000);

      // Everything works again without restarting a node: the bus resubscribed on both.
      const before = heard.length;
      const deadline = Date.now() + 30_000;
      while (heard.length === before && Date.now() < deadline) {
        await trigger.callTool('test_trigger_tool_change', {});
        await waitHeard(before + 1, 1000);
      }
      expect(heard.length, 'no list change crossed nodes after Redis came back').toBeGreaterThan(before);
      expect(n1.child.exitCode).toBeNull();
      expect(n2.child.exitCode).toBeNull();
      console.log(
        `Redis outage of ${OUTAGE_MS} ms: /readyz said 503 ${notReadyMs} ms after the kill and 200 ${readyAgainMs} ms after the restart; a stateless tools/call took ${echoMs} ms and a call whose publish needed Redis ${publishMs} ms during the outage`,
      );
      expect(n2.log()).toMatch(/Redis connection lost or refused/);
    } finally {
      await sub.close();
      await listener.close();
      await trigger.close();
    }
  }, 120_000);
});
