// The cost of the OpenTelemetry hooks (src/telemetry) when no SDK is installed, and with one.
// Measures CPU time per call (µs; less sensitive than throughput to other work on a shared
// machine). Compares two builds in the same run, rounds alternating: `--before DIR` (a dist/ built without the
// hooks, e.g. from the previous commit) and this worktree's dist/. Two measurements:
//   - in process: Client ↔ McpServer over the in-memory pair, tools/call `echo` (both eras), 16 in
//     flight: the dispatch and client request path with no network in the way (client + server CPU);
//   - HTTP: serveHttp in a child process per build, driven by bench/load.mjs (2026-07-28, 32
//     connections): the server's CPU per request.
// Then the time of the check each side makes per request without an SDK (telemetryActive()), and
// the in-process figure of this build with an SDK installed (BasicTracerProvider sampling every
// span, a MeterProvider, W3C propagators; nothing exported), for scale.
// usage: npm run build && node bench/telemetry.mjs --before .tmp/dist-before [--seconds 2] [--rounds 5]
import { execFileSync, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const seconds = Number(opt('--seconds', '2'));
const rounds = Number(opt('--rounds', '5'));
const importFrom = (dir, file) => import(pathToFileURL(resolve(dir, file)).href);

async function echoServer(dir) {
  const { McpServer } = await importFrom(dir, 'index.js');
  const { z } = await import('zod');
  const server = new McpServer({ name: 'bench', version: '1.0.0' });
  server.registerTool('echo', { inputSchema: { text: z.string() } }, ({ text }) => text);
  return server;
}

if (args[0] === '--serve') {
  // Child: serve the echo server of build `dir` over HTTP and print the URL.
  const dir = args[1];
  const { serveHttp } = await importFrom(dir, 'transports/streamable-http/index.js');
  const handle = await serveHttp(await echoServer(dir), { port: 0 });
  const cpu0 = process.cpuUsage();
  console.log(handle.url);
  // On SIGTERM: the CPU time (µs) spent since the server was ready, for the parent's per-request figure.
  process.on('SIGTERM', () => {
    const { user, system } = process.cpuUsage(cpu0);
    process.stdout.write(`${JSON.stringify({ cpuUs: user + system })}\n`, () => process.exit(0));
  });
} else {
  const before = opt('--before');
  if (!before) throw new Error('--before DIR (a dist/ built without the telemetry hooks) is required');
  const builds = { before: resolve(before), after: resolve(root, 'dist') };

  /** CPU µs per tools/call over the in-memory pair (client and server in this process), for `seconds`. */
  async function inProcess(dir, era) {
    const { Client } = await importFrom(dir, 'index.js');
    const { InMemoryTransport } = await importFrom(dir, 'transports/in-memory/index.js');
    const server = await echoServer(dir);
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(a);
    const client = new Client({ name: 'bench', version: '1.0.0' }, { era });
    await client.connect(b);
    for (let i = 0; i < 200; i++) await client.callTool('echo', { text: 'warm' });
    let done = 0;
    const end = Date.now() + seconds * 1000;
    const cpu0 = process.cpuUsage();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (Date.now() < end) {
          await client.callTool('echo', { text: 'hello' });
          done++;
        }
      }),
    );
    const { user, system } = process.cpuUsage(cpu0);
    await client.close();
    return Number(((user + system) / done).toFixed(2));
  }

  /** Server CPU µs per request while bench/load.mjs drives a child serving build `dir`. */
  async function overHttp(dir) {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = [];
    let wake;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      lines.push(...d.split('\n').filter(Boolean));
      wake?.();
    });
    const nextLine = async (i) => {
      while (lines.length <= i) await new Promise((r) => (wake = r));
      return lines[i];
    };
    const url = await nextLine(0);
    const out = execFileSync(
      process.execPath,
      [`${root}bench/load.mjs`, '--kind', 'http', url, '--era', 'modern', '--seconds', String(seconds)],
      { encoding: 'utf8' },
    );
    const { rps, bad } = JSON.parse(out.trim().split('\n').pop());
    child.kill('SIGTERM');
    const { cpuUs } = JSON.parse(await nextLine(1));
    if (bad) throw new Error(`${bad} bad answers`);
    return Number((cpuUs / (rps * seconds)).toFixed(2));
  }

  const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const results = {};
  const record = (key, v) => (results[key] ??= []).push(v);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? ['after', 'before'] : ['before', 'after'];
    for (const name of order) {
      for (const era of ['modern', 'legacy'])
        record(`in-process ${era} ${name}`, await inProcess(builds[name], era));
      record(`http modern ${name}`, await overHttp(builds[name]));
    }
    console.error(`round ${r + 1}/${rounds} done`);
  }

  // The whole no-SDK cost of the hooks is one telemetryActive() per request on each side: time it.
  const { telemetryActive } = await importFrom(builds.after, 'telemetry/observe.js');
  for (let r = 0; r < rounds; r++) {
    const n = 5_000_000;
    let on = 0;
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) if (telemetryActive()) on++;
    if (on) throw new Error('an SDK is installed already');
    record(
      'telemetryActive() without an SDK (ns, not µs)',
      Number((Number(process.hrtime.bigint() - t) / n).toFixed(2)),
    );
  }

  // This build with an SDK installed (spans sampled and dropped, metrics aggregated, nothing exported).
  const api = await import('@opentelemetry/api');
  const { BasicTracerProvider } = await import('@opentelemetry/sdk-trace-base');
  const { MeterProvider } = await import('@opentelemetry/sdk-metrics');
  const { W3CTraceContextPropagator } = await import('@opentelemetry/core');
  api.trace.setGlobalTracerProvider(new BasicTracerProvider());
  api.metrics.setGlobalMeterProvider(new MeterProvider());
  api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  for (let r = 0; r < rounds; r++)
    for (const era of ['modern', 'legacy'])
      record(`in-process ${era} after+sdk`, await inProcess(builds.after, era));

  const rows = Object.entries(results).map(([key, xs]) => ({
    case: key,
    median_cpu_us_per_call: median(xs),
    runs: xs.join(' '),
  }));
  console.table(rows);
  // CPU per call, after ÷ before: 1.00 = no cost; 1.05 = 5 % more CPU per call.
  const ratio = (a, b) => (median(results[a]) / median(results[b])).toFixed(3);
  console.log(
    JSON.stringify({
      inProcessModern: ratio('in-process modern after', 'in-process modern before'),
      inProcessLegacy: ratio('in-process legacy after', 'in-process legacy before'),
      httpModern: ratio('http modern after', 'http modern before'),
      inProcessModernWithSdk: ratio('in-process modern after+sdk', 'in-process modern before'),
      inProcessLegacyWithSdk: ratio('in-process legacy after+sdk', 'in-process legacy before'),
    }),
  );
}
