// Cost of a task on Streamable HTTP (2026-07-28): creating a task and reading it once with
// tasks/get, against one plain tools/call of the same tool, same server, same run, alternating
// rounds. Reports operations per second and the cost ratio (target: at most 3x).
// Usage: node bench/tasks.mjs [--seconds 3] [--rounds 3] [--concurrency 16]
import { Client, createTaskExtension, McpServer, StreamableHttpClientTransport } from '../dist/index.js';
import { serveHttp } from '../dist/transports/streamable-http/index.js';

const arg = (name, d) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const seconds = arg('seconds', 3);
const rounds = arg('rounds', 3);
const concurrency = arg('concurrency', 16);

const server = new McpServer({ name: 'bench-tasks', version: '1.0.0' });
server.extend(createTaskExtension());
server.registerTool('work', { taskSupport: 'optional' }, () => 'done');
const http = await serveHttp(server, { port: 0 });

async function client(tasks) {
  const c = new Client({ name: 'bench', version: '1' }, { tasks });
  await c.connect(new StreamableHttpClientTransport({ url: http.url }));
  return c;
}
const plain = await client(false);
const tasked = await client(true);

async function rate(op) {
  let n = 0;
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        await op();
        n++;
      }
    }),
  );
  return n / seconds;
}

const plainOp = () => plain.request('tools/call', { name: 'work', arguments: {} });
const taskOp = async () => {
  const created = await tasked.request('tools/call', { name: 'work', arguments: {} });
  if (created.resultType !== 'task') throw new Error('expected a task');
  await tasked.request('tasks/get', { taskId: created.taskId });
};
const results = [];
for (let r = 0; r < rounds; r++) {
  const p = await rate(plainOp);
  const t = await rate(taskOp);
  results.push({
    plainPerSec: Math.round(p),
    taskCreateAndGetPerSec: Math.round(t),
    costRatio: Number((p / t).toFixed(2)),
  });
}
await plain.close();
await tasked.close();
await http.close();
const ratios = results.map((r) => r.costRatio).sort((a, b) => a - b);
console.log(
  JSON.stringify({ rounds: results, medianCostRatio: ratios[Math.floor(ratios.length / 2)], target: '<= 3' }),
);
