// anywire benchmarks: every figure is a ratio against a reference measured in the same run, rounds
// alternating (../shared/bench/ratio.mjs and the bench/*.mjs references).
// Usage: npm run bench [-- --seconds S --rounds N --only stdio|http|ws|stream|grpc|mqtt|h2c|memory] [--peers]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const shared = fileURLToPath(new URL('../../shared/bench/', import.meta.url));
const args = process.argv.slice(2);
const opt = (k, d) => {
  const i = args.indexOf(k);
  return i < 0 ? d : args[i + 1];
};
const seconds = opt('--seconds', '5');
const rounds = opt('--rounds', '3');
const only = opt('--only', '');

if (!existsSync(`${shared}ratio.mjs`)) {
  console.error(
    `bench: the reference bench is missing (${shared}); it ships beside the project in ../shared/bench`,
  );
  process.exit(1);
}
if (!existsSync(`${shared}node_modules`)) {
  console.error('bench: installing the reference bench (npm ci in ../shared/bench)');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: shared, stdio: 'inherit' });
}

const node = process.execPath;
const anywire = `${node} ${root}bin/anywire.js serve ${root}examples/everything/server.ts --stdio`;
const anywireHttp = `${node} ${root}bin/anywire.js serve ${root}examples/everything/server.ts --http 127.0.0.1:{port}`;
const rows = [];

function ratio(kind, era, ref, cand, label) {
  const out = execFileSync(
    node,
    [
      `${shared}ratio.mjs`,
      '--kind',
      kind,
      '--era',
      era,
      '--ref',
      ref,
      '--cand',
      cand,
      '--seconds',
      seconds,
      '--rounds',
      rounds,
    ],
    { cwd: shared, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const last = JSON.parse(out.trim().split('\n').pop());
  rows.push({ binding: kind, era, candidate: label, ...last });
  console.error(`${kind} ${era} ${label}: ratio ${last.ratio} (${last.cand_rps} vs ${last.ref_rps} req/s)`);
}

if (!only || only === 'stdio') {
  const raw = `${node} ${shared}raw-stdio-server.mjs`;
  for (const era of ['legacy', 'modern']) ratio('stdio', era, raw, anywire, 'anywire');
  if (args.includes('--peers')) {
    ratio('stdio', 'legacy', raw, `${node} ${shared}sdk1-server.mjs stdio`, 'sdk v1');
    ratio('stdio', 'legacy', raw, `${node} ${shared}sdk2-server.mjs stdio`, 'sdk v2');
    ratio('stdio', 'modern', raw, `${node} ${shared}sdk2-server.mjs stdio`, 'sdk v2');
  }
}

if (!only || only === 'http') {
  const raw = `${node} ${shared}raw-http-server.mjs {port}`;
  for (const era of ['modern', 'legacy']) ratio('http', era, raw, anywireHttp, 'anywire');
  if (args.includes('--peers')) {
    ratio('http', 'modern', raw, `${node} ${shared}sdk2-server.mjs http {port}`, 'sdk v2 createMcpHandler');
    ratio(
      'http',
      'legacy',
      raw,
      `${node} ${shared}sdk1-server.mjs http-stateful {port}`,
      'sdk v1 sessionful',
    );
  }
}

if (!only || only === 'ws') {
  const raw = `${node} ${shared}raw-ws-server.mjs {port}`;
  for (const era of ['legacy', 'modern'])
    ratio('ws', era, raw, `${node} ${root}bench/serve-ws.mjs {port}`, 'anywire');
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
