// What Redis costs a task (2026-07-28 Tasks extension over Streamable HTTP): creating a task and
// reading it once with tasks/get, on three nodes in this process, rounds alternating: in-memory
// stores; RedisTaskStore; RedisTaskStore with RedisTaskLeases (durable tasks: the lease and the
// stored call of an idempotent tool are written at creation); a plain tools/call (one request, no
// task) is a fourth row for scale. A private redis-server comes from
// test/fixtures/redis-server.ts; the sources are loaded through tsx (no build needed).
// Prints human lines on stderr and one JSON line on stdout.
// Usage: node bench/redis-tasks.mjs [--seconds 3] [--rounds 3] [--concurrency 16]
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, d) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const seconds = arg('seconds', 3);
const rounds = arg('rounds', 3);
const concurrency = arg('concurrency', 16);

const load = (path) => tsImport(`${root}${path}`, import.meta.url);
const { startRedis, redisMissing } = await load('test/fixtures/redis-server.ts');
if (redisMissing()) {
  console.error(`redis-tasks bench skipped: ${redisMissing()}`);
  console.log(JSON.stringify({ skipped: redisMissing() }));
  process.exit(0);
}
const { Client, McpServer, StreamableHttpClientTransport } = await load('src/index.ts');
const { createTaskExtension } = await load('src/tasks/index.ts');
const { serveHttp } = await load('src/transports/streamable-http/index.ts');
const { createRedisClient } = await load('src/redis/connection.ts');
const { RedisTaskLeases, RedisTaskStore } = await load('src/redis/index.ts');

const redis = await startRedis();
const closers = [];

async function node(name, stores, plain = false) {
  const server = new McpServer({ name, version: '1.0.0' }, { stores });
  server.extend(createTaskExtension());
  server.registerTool(
    'work',
    { taskSupport: 'optional', annotations: { idempotentHint: true } },
    () => 'done',
  );
  const http = await serveHttp(server, { port: 0 });
  const c = new Client({ name: 'bench', version: '1' }, { tasks: !plain });
  await c.connect(new StreamableHttpClientTransport({ url: http.url }));
  closers.push(async () => {
    await c.close();
    await http.close();
    await server.close();
  });
  return { name, client: c, plain };
}

async function rate({ client, plain }) {
  let n = 0;
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const created = await client.request('tools/call', { name: 'work', arguments: {} });
        if (!plain) await client.request('tasks/get', { taskId: created.taskId });
        n++;
      }
    }),
  );
  return n / seconds;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  const rc = createRedisClient({ url: redis.url, onerror: () => {} });
  await rc.connect();
  closers.push(async () => {
    await new Promise((r) => setTimeout(r, 500)); // outcomes of the last tasks still being written
    await rc.close();
  });
  const nodes = [
    await node('plain tools/call', {}, true),
    await node('memory', {}),
    await node('redis store', { taskStore: new RedisTaskStore(rc, { keyPrefix: 'b1:' }) }),
    await node('redis store + leases', {
      taskStore: new RedisTaskStore(rc, { keyPrefix: 'b2:' }),
      taskLeases: new RedisTaskLeases(rc, { keyPrefix: 'b2:' }),
    }),
  ];
  const results = Object.fromEntries(nodes.map((n) => [n.name, []]));
  for (const n of nodes) await rate(n); // warm-up
  for (let r = 0; r < rounds; r++) for (const n of nodes) results[n.name].push(await rate(n));
  const base = median(results.memory); // the ratio is against tasks on in-memory stores
  const rows = nodes.map((n) => {
    const ops = median(results[n.name]);
    return { node: n.name, tasksPerSecond: Math.round(ops), ofMemory: Number((ops / base).toFixed(2)) };
  });
  for (const row of rows)
    console.error(`${row.node.padEnd(22)} ${String(row.tasksPerSecond).padStart(6)} per s  ${row.ofMemory}x`);
  console.log(JSON.stringify({ seconds, rounds, concurrency, rows }));
} finally {
  for (const c of closers.reverse()) await c().catch(() => {});
  await redis.close();
}
