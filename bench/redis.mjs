// What Redis costs a node, measured in one run against the same node without it (rounds
// alternating): tools/call `echo` on `anywire serve --http` with and without `--redis`, in the modern
// era (stateless: must not touch Redis, target >= 0.9x) and on a legacy session (target >= 0.5x);
// the throughput of one node and of three nodes behind HAProxy (on a two-core machine this measures
// the proxy's and the cluster's overhead, not scaling: the load generator, HAProxy, Redis and the
// nodes share the same cores); memory per idle legacy session in Redis (MEMORY USAGE of its keys)
// and in the node (resident set).
// A private redis-server and HAProxy come from the test fixtures (test/fixtures/redis-server.ts,
// haproxy.ts), loaded through tsx. Prints human lines on stderr and one JSON line on stdout.
// Usage: node bench/redis.mjs [--seconds 5] [--rounds 3] [--sessions 2000]
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { openIdleSession, poster, rssKiB, settle } from './idle-sessions.mjs';
import { tsImport } from 'tsx/esm/api';
import { createClient } from 'redis';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const seconds = opt('--seconds', '5');
const rounds = Number(opt('--rounds', '3'));
const SESSIONS = Number(opt('--sessions', '2000'));
const node = process.execPath;

const { startRedis, redisMissing } = await tsImport(`${root}test/fixtures/redis-server.ts`, import.meta.url);
const { startNode } = await tsImport(`${root}test/fixtures/cluster.ts`, import.meta.url);
const { startHaproxy, haproxyMissing } = await tsImport(`${root}test/fixtures/haproxy.ts`, import.meta.url);
const missing = redisMissing() ?? haproxyMissing();
if (missing) {
  console.error(`redis bench skipped: ${missing}`);
  console.log(JSON.stringify({ skipped: missing }));
  process.exit(0);
}

const redis = await startRedis();
const out = { rows: [] };
const stops = [];
const cleanup = async () => {
  for (const stop of stops.reverse()) await stop().catch(() => {});
  await redis.close();
};

/** One bench/load.mjs run against `url`: its JSON line. */
function load(url, era, extra = []) {
  const text = execFileSync(
    node,
    [`${root}bench/load.mjs`, '--kind', 'http', '--era', era, '--seconds', seconds, ...extra, url],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return JSON.parse(text.trim().split('\n').pop());
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  const memoryNode = await startNode({ id: 'mem' });
  stops.push(() => memoryNode.stop());
  const redisNode = await startNode({ id: 'red', redis: redis.url });
  stops.push(() => redisNode.stop());

  // Does the stateless path touch Redis? Count the commands a burst of modern calls sends.
  const probe = createClient({ url: redis.url });
  await probe.connect();
  const commands = async () =>
    Number(/total_commands_processed:(\d+)/.exec(await probe.info('stats'))?.[1] ?? 0);

  for (const era of ['modern', 'legacy']) {
    const before = era === 'modern' ? await commands() : 0;
    const runs = { mem: [], red: [] };
    for (let i = 0; i < rounds; i++) {
      runs.mem.push(load(`${memoryNode.base}/mcp`, era));
      runs.red.push(load(`${redisNode.base}/mcp`, era));
    }
    const mem = median(runs.mem.map((r) => r.rps));
    const red = median(runs.red.map((r) => r.rps));
    const row = {
      measure: `tools/call ${era}: redis node vs in-memory node`,
      redis_rps: red,
      memory_rps: mem,
      ratio: Number((red / mem).toFixed(2)),
      target: era === 'modern' ? '>= 0.9' : '>= 0.5',
      redis_p99_ms: runs.red.find((r) => r.rps === red).p99_ms,
      bad: [...runs.mem, ...runs.red].reduce((n, r) => n + r.bad, 0),
    };
    if (era === 'modern') {
      // INFO itself and the bus's subscriptions are a handful; a touch per request would be thousands.
      const calls = runs.red.reduce((n, r) => n + r.rps * Number(seconds), 0);
      row.redis_commands_during_modern_runs = (await commands()) - before;
      row.modern_calls_on_redis_node = calls;
    }
    out.rows.push(row);
    console.error(`${row.measure}: ${red} vs ${mem} req/s, ratio ${row.ratio} (target ${row.target})`);
  }

  // Throughput: one node direct, one node behind HAProxy, three nodes behind HAProxy (modern).
  const n2 = await startNode({ id: 'n2', redis: redis.url });
  stops.push(() => n2.stop());
  const n3 = await startNode({ id: 'n3', redis: redis.url });
  stops.push(() => n3.stop());
  const one = await startHaproxy([{ name: 'red', port: redisNode.port }]);
  stops.push(() => one.close());
  const three = await startHaproxy([
    { name: 'red', port: redisNode.port },
    { name: 'n2', port: n2.port },
    { name: 'n3', port: n3.port },
  ]);
  stops.push(() => three.close());
  for (const id of ['red', 'n2', 'n3']) await three.waitState(id, 'UP');
  await one.waitState('red', 'UP');
  const tp = { direct: [], one: [], three: [] };
  for (let i = 0; i < rounds; i++) {
    tp.direct.push(load(`${redisNode.base}/mcp`, 'modern').rps);
    tp.one.push(load(`${one.base}/mcp`, 'modern').rps);
    tp.three.push(load(`${three.base}/mcp`, 'modern').rps);
  }
  const direct = median(tp.direct);
  for (const [label, xs] of [
    ['1 redis node, direct', tp.direct],
    ['1 redis node behind HAProxy', tp.one],
    ['3 redis nodes behind HAProxy', tp.three],
  ]) {
    const rps = median(xs);
    out.rows.push({
      measure: `throughput modern: ${label}`,
      rps,
      ratio_to_direct: Number((rps / direct).toFixed(2)),
    });
    console.error(`throughput modern, ${label}: ${rps} req/s (${(rps / direct).toFixed(2)}x direct)`);
  }
  console.error(
    '(two cores shared by the load generator, HAProxy, Redis and the nodes: overhead, not scaling)',
  );

  // Memory per idle legacy session: in Redis (MEMORY USAGE of the keys that appeared) and in the node.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const post = poster(agent);
  const keys = async () => {
    const all = new Set();
    for await (const batch of probe.scanIterator({ MATCH: '*', COUNT: 1000 }))
      for (const k of Array.isArray(batch) ? batch : [batch]) all.add(k);
    return all;
  };
  const sessionNode = await startNode({ id: 'sessions', redis: redis.url });
  stops.push(() => sessionNode.stop());
  await settle();
  const keysBefore = await keys();
  const rssBefore = rssKiB(sessionNode.child.pid);
  const usedBefore = Number(/used_memory:(\d+)/.exec(await probe.info('memory'))[1]);
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < SESSIONS) {
        const i = next++;
        await openIdleSession(post, `${sessionNode.base}/mcp`, i);
      }
    }),
  );
  await settle();
  const rssAfter = rssKiB(sessionNode.child.pid);
  const usedAfter = Number(/used_memory:(\d+)/.exec(await probe.info('memory'))[1]);
  const fresh = [...(await keys())].filter((k) => !keysBefore.has(k));
  let usage = 0;
  for (const k of fresh) usage += Number((await probe.memoryUsage(k)) ?? 0);
  const mem = {
    measure: `idle legacy sessions: ${SESSIONS}`,
    redis_keys_per_session: Number((fresh.length / SESSIONS).toFixed(2)),
    redis_memory_usage_bytes_per_session: Math.round(usage / SESSIONS),
    redis_used_memory_bytes_per_session: Math.round((usedAfter - usedBefore) / SESSIONS),
    node_rss_bytes_per_session: Math.round(((rssAfter - rssBefore) * 1024) / SESSIONS),
  };
  out.rows.push(mem);
  console.error(
    `idle legacy session: ${mem.redis_memory_usage_bytes_per_session} B in Redis (MEMORY USAGE, ${mem.redis_keys_per_session} keys; used_memory grew ${mem.redis_used_memory_bytes_per_session} B), ${mem.node_rss_bytes_per_session} B in the node (RSS)`,
  );
  agent.destroy();
  await probe.quit();
} finally {
  await cleanup();
}
console.log(JSON.stringify(out));
process.exit(0);
