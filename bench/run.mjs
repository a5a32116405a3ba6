// anywire benchmarks, self-contained: every figure is a ratio against a reference measured in the
// same run, rounds alternating. The references are the project's own (bench/refs: raw node:http,
// raw stdio, raw ws; the official SDK servers from devDependencies; a raw TCP echo, raw grpc-js and a
// raw MQTT responder in bench/stream.mjs, grpc.mjs and mqtt.mjs) and the load generator is
// bench/load.mjs. The cold-start section times spawn to the initialize response against the
// official SDK v1 stdio server.
// Usage: npm run bench [-- --seconds S --rounds N --only cold-start|stdio|http|ws|stream|grpc|mqtt|h2c|redis|memory] [--peers]
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const refs = `${root}bench/refs/`;
const args = process.argv.slice(2);
const opt = (k, d) => {
  const i = args.indexOf(k);
  return i < 0 ? d : args[i + 1];
};
const seconds = opt('--seconds', '5');
const rounds = Number(opt('--rounds', '3'));
const only = opt('--only', '');

const node = process.execPath;
const anywire = `${node} ${root}bin/anywire.js serve ${root}examples/everything/server.ts --stdio`;
const anywireHttp = `${node} ${root}bin/anywire.js serve ${root}examples/everything/server.ts --http 127.0.0.1:{port}`;
const rows = [];

if (!only || only === 'cold-start') {
  console.error('== cold start ==');
  const out = execFileSync(node, [`${root}bench/cold-start.mjs`, '--runs', opt('--runs', '5')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const cold = JSON.parse(out.trim().split('\n').pop());
  for (const r of cold.rows)
    rows.push({
      binding: 'cold start (ms, median)',
      era: '-',
      candidate: r.name,
      cand_rps: r.median_ms,
      ref_rps: cold.rows[0].median_ms,
      ratio: r.ratio_to_sdk1,
      cand_p50_ms: '',
      cand_p99_ms: '',
      cand_bad: 0,
    });
}

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const words = (cmd) => cmd.split(' ').filter(Boolean);
async function listening(port) {
  for (let i = 0; i < 600; i++) {
    const up = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.end();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listened on 127.0.0.1:${port} within 30 s`);
}
/** One load run of `cmd` (a server command; `{port}` for listeners): the loader's JSON line. */
async function load(kind, era, cmd) {
  const loader = [`${root}bench/load.mjs`, '--kind', kind, '--era', era, '--seconds', seconds];
  if (kind === 'stdio') {
    const out = execFileSync(node, [...loader, '--', ...words(cmd)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    return JSON.parse(out.trim().split('\n').pop());
  }
  const port = await freePort();
  const [bin, ...rest] = words(cmd.replaceAll('{port}', String(port)));
  const server = spawn(bin, rest, { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    await listening(port);
    const url = `${kind === 'ws' ? 'ws' : 'http'}://127.0.0.1:${port}/mcp`;
    const out = execFileSync(node, [...loader, url], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    return JSON.parse(out.trim().split('\n').pop());
  } finally {
    server.kill();
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Reference and candidate in alternating rounds; the ratio of median throughputs. */
async function ratio(kind, era, ref, cand, label) {
  const runs = { ref: [], cand: [] };
  for (let i = 0; i < rounds; i++) {
    runs.ref.push(await load(kind, era, ref));
    runs.cand.push(await load(kind, era, cand));
  }
  const refRps = median(runs.ref.map((r) => r.rps));
  const candRps = median(runs.cand.map((r) => r.rps));
  const last = runs.cand.find((r) => r.rps === candRps);
  const row = {
    binding: kind,
    era,
    candidate: label,
    cand_rps: candRps,
    ref_rps: refRps,
    ratio: Number((candRps / refRps).toFixed(2)),
    cand_p50_ms: last.p50_ms,
    cand_p99_ms: last.p99_ms,
    cand_bad: runs.cand.reduce((n, r) => n + r.bad, 0),
  };
  rows.push(row);
  console.error(`${kind} ${era} ${label}: ratio ${row.ratio} (${candRps} vs ${refRps} req/s)`);
}

if (!only || only === 'stdio') {
  const raw = `${node} ${refs}raw-stdio-server.mjs`;
  for (const era of ['legacy', 'modern']) await ratio('stdio', era, raw, anywire, 'anywire');
  if (args.includes('--peers')) {
    await ratio('stdio', 'legacy', raw, `${node} ${refs}sdk1-server.mjs stdio`, 'sdk v1');
    await ratio('stdio', 'legacy', raw, `${node} ${refs}sdk2-server.mjs stdio`, 'sdk v2');
    await ratio('stdio', 'modern', raw, `${node} ${refs}sdk2-server.mjs stdio`, 'sdk v2');
  }
}

if (!only || only === 'http') {
  const raw = `${node} ${refs}raw-http-server.mjs {port}`;
  for (const era of ['modern', 'legacy']) await ratio('http', era, raw, anywireHttp, 'anywire');
  if (args.includes('--peers')) {
    await ratio(
      'http',
      'modern',
      raw,
      `${node} ${refs}sdk2-server.mjs http {port}`,
      'sdk v2 createMcpHandler',
    );
    await ratio('http', 'legacy', raw, `${node} ${refs}sdk1-server.mjs http {port}`, 'sdk v1 sessionful');
  }
}

if (!only || only === 'ws') {
  const raw = `${node} ${refs}raw-ws-server.mjs {port}`;
  for (const era of ['legacy', 'modern'])
    await ratio('ws', era, raw, `${node} ${root}bench/serve-ws.mjs {port}`, 'anywire');
}

// The other bindings bring their own raw references (a raw grpc-js echo, a raw MQTT responder on the
// same broker, a raw TCP newline echo); their rows join the one table.
function bench(name, extra = []) {
  console.error(`\n== ${name} ==`);
  const out = execFileSync(
    node,
    [`${root}bench/${name}.mjs`, '--seconds', seconds, '--rounds', rounds, ...extra],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return out
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}
if (!only || only === 'stream') {
  const last = bench('stream', ['--text-bytes', '5', '--no-client']).pop();
  for (const r of last.e2e) {
    rows.push({
      binding: 'tcp (ndjson)',
      era: r.era,
      candidate: 'anywire',
      cand_rps: r.ndjson_rps,
      ref_rps: r.raw_rps,
      ratio: r.ndjson_ratio,
      cand_p50_ms: r.ndjson_p50_ms ?? '',
      cand_p99_ms: r.ndjson_p99_ms ?? '',
      cand_bad: 0,
    });
    rows.push({
      binding: 'tcp (msgpack)',
      era: r.era,
      candidate: 'anywire',
      cand_rps: r.msgpack_rps,
      ref_rps: r.raw_rps,
      ratio: r.msgpack_ratio,
      cand_p50_ms: r.msgpack_p50_ms ?? '',
      cand_p99_ms: '',
      cand_bad: 0,
    });
  }
}
if (!only || only === 'grpc') {
  const last = bench('grpc').pop();
  for (const r of last.rows) rows.push({ binding: 'grpc', candidate: 'anywire', cand_bad: r.bad, ...r });
}
if (!only || only === 'mqtt') {
  for (const r of bench('mqtt')) if (r.binding === 'mqtt') rows.push(r);
}
if (!only || only === 'h2c') bench('h2c');
// Redis-backed nodes against in-memory ones (same run), one and three nodes behind HAProxy, memory
// per idle legacy session in Redis and in the node (bench/redis.mjs prints its own lines too).
if (!only || only === 'redis') {
  const last = bench('redis').pop();
  for (const r of last?.rows ?? []) {
    if (r.redis_rps === undefined) continue;
    rows.push({
      binding: 'http + redis',
      era: r.measure.includes('modern') ? 'modern' : 'legacy',
      candidate: 'anywire --redis vs in-memory',
      cand_rps: r.redis_rps,
      ref_rps: r.memory_rps,
      ratio: r.ratio,
      cand_p50_ms: '',
      cand_p99_ms: r.redis_p99_ms,
      cand_bad: r.bad,
    });
  }
}

if (!only || only === 'memory') {
  const out = execFileSync(node, [`${root}bench/memory.mjs`], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const m = JSON.parse(out.trim().split('\n').pop());
  console.error(
    `memory: ${m.sessions} idle legacy sessions ${m.sessions_rss_mib} MiB (${m.bytes_per_idle_session} B each); ${m.sse_streams} open SSE streams ${m.streams_rss_mib} MiB (${m.bytes_per_open_stream} B each)`,
  );
}

console.log(
  '\n| binding | era | candidate | candidate req/s | reference req/s | ratio | p50 ms | p99 ms | bad |',
);
console.log('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  console.log(
    `| ${r.binding} | ${r.era} | ${r.candidate} | ${r.cand_rps} | ${r.ref_rps} | ${r.ratio} | ${r.cand_p50_ms} | ${r.cand_p99_ms} | ${r.cand_bad} |`,
  );
}
