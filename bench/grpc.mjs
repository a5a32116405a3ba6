// gRPC binding benchmark: tools/call `echo` throughput and latency over one `Session` stream with
// 32 requests in flight, anywire (the everything server on serveGrpc, from the built dist/) against
// a raw grpc-js reference on the same .proto that answers every frame with a fixed tools/call
// result. Both servers run as child processes, measured in the same run, rounds alternating
// reference / candidate; the figure is the ratio of median throughputs (candidate / reference).
//
// usage: npm run build && node bench/grpc.mjs [--seconds S (5)] [--rounds N (3)] [--inflight K (32)] [--era legacy|modern|both]
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const root = fileURLToPath(new URL('..', import.meta.url));
const protoPath = `${root}proto/anywire/mcp/v1/mcp.proto`;
const args = process.argv.slice(2);
const opt = (k, d) => {
  const i = args.indexOf(k);
  return i < 0 ? d : args[i + 1];
};

const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'anywire-bench', version: '1.0.0' },
};

async function loadService() {
  const grpc = await import('@grpc/grpc-js');
  const { loadSync } = await import('@grpc/proto-loader');
  const def = loadSync(protoPath, { keepCase: true, defaults: true });
  return { grpc, Mcp: grpc.loadPackageDefinition(def).anywire.mcp.v1.Mcp };
}

// ------------------------------------------------------------------------- child: servers

/** The reference: answers every request frame with a fixed tools/call result, nothing else. */
async function serveRaw() {
  const { grpc, Mcp } = await loadService();
  const server = new grpc.Server();
  server.addService(Mcp.service, {
    Session(call) {
      call.on('data', (frame) => {
        const m = JSON.parse(frame.json);
        if (m.id === undefined) return;
        const result = m.method === 'tools/call' ? { content: [{ type: 'text', text: 'hello' }] } : {};
        call.write({ json: JSON.stringify({ jsonrpc: '2.0', id: m.id, result }) });
      });
      call.on('end', () => call.end());
    },
    Call(call) {
      call.end();
    },
  });
  const port = await new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  console.log(`PORT ${port}`);
}

/** The candidate: the everything example (imports 'anywire', i.e. dist/) on serveGrpc. */
async function serveAnywire() {
  const { tsImport } = await import('tsx/esm/api');
  const { createEverythingServer } = await tsImport(`${root}examples/everything/server.ts`, import.meta.url);
  const { serveGrpc } = await import(`${root}dist/transports/grpc/index.js`);
  const handle = await serveGrpc(createEverythingServer(), { port: 0 });
  console.log(`PORT ${handle.address.port}`);
}

if (args[0] === '--serve') {
  await (args[1] === 'raw' ? serveRaw() : serveAnywire());
  process.on('SIGTERM', () => process.exit(0));
} else {
  await main();
}

// ---------------------------------------------------------------------------- parent: load

function startChild(role) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', role], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench: ${role} server exited (${code})`)));
    createInterface({ input: child.stdout }).once('line', (line) => {
      const m = /^PORT (\d+)$/.exec(line);
      if (m) resolve({ child, port: Number(m[1]) });
      else reject(new Error(`bench: ${role} server said ${line}`));
    });
  });
}

/** One round: a Session with `inflight` echo calls outstanding for `seconds`. */
async function load({ grpc, Mcp }, port, era, seconds, inflight) {
  const client = new Mcp(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const stream = client.Session(new grpc.Metadata());
  const pending = new Map();
  stream.on('data', (frame) => {
    const m = JSON.parse(frame.json);
    const p = pending.get(m.id);
    if (p) {
      pending.delete(m.id);
      p(m);
    }
  });
  stream.on('error', () => {});
  let nextId = 1;
  const request = (method, params) =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      stream.write({ json: JSON.stringify({ jsonrpc: '2.0', id, method, params }) });
    });
  const echo = () =>
    request(
      'tools/call',
      era === 'modern'
        ? { name: 'echo', arguments: { text: 'hello' }, _meta: MODERN_META }
        : { name: 'echo', arguments: { text: 'hello' } },
    );
  if (era === 'legacy') {
    await request('initialize', {
      protocolVersion: '2025-11-25',
      capabilities: {},
      clientInfo: { name: 'anywire-bench', version: '1.0.0' },
    });
    stream.write({ json: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  }
  const first = await echo();
  if (first?.result?.content?.[0]?.text !== 'hello')
    throw new Error(`bench: bad answer ${JSON.stringify(first)}`);
  const lat = [];
  let done = 0;
  let bad = 0;
  const end = Date.now() + seconds * 1000;
  const worker = async () => {
    while (Date.now() < end) {
      const t0 = process.hrtime.bigint();
      const m = await echo();
      lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (m?.result?.content?.[0]?.text === 'hello') done++;
      else bad++;
    }
  };
  const t0 = Date.now();
  await Promise.all(Array.from({ length: inflight }, worker));
  const secs = (Date.now() - t0) / 1000;
  stream.cancel();
  client.close();
  lat.sort((a, b) => a - b);
  const q = (p) => +lat[Math.floor(p * (lat.length - 1))].toFixed(3);
  return { rps: Math.round(done / secs), p50_ms: q(0.5), p99_ms: q(0.99), bad };
}

async function main() {
  if (!existsSync(`${root}dist/transports/grpc/index.js`)) {
    console.error('bench: dist/transports/grpc is missing; run `npm run build` first');
    process.exit(1);
  }
  const seconds = Number(opt('--seconds', '5'));
  const rounds = Number(opt('--rounds', '3'));
  const inflight = Number(opt('--inflight', '32'));
  const eraOpt = opt('--era', 'both');
  const eras = eraOpt === 'both' ? ['legacy', 'modern'] : [eraOpt];
  const svc = await loadService();
  const ref = await startChild('raw');
  const cand = await startChild('anywire');
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rows = [];
  try {
    for (const era of eras) {
      const runs = { ref: [], cand: [] };
      for (let i = 0; i < rounds; i++) {
        const a = await load(svc, ref.port, era, seconds, inflight);
        const b = await load(svc, cand.port, era, seconds, inflight);
        runs.ref.push(a);
        runs.cand.push(b);
        console.error(
          `grpc ${era} round ${i + 1}: reference ${a.rps} req/s (p50 ${a.p50_ms} ms), anywire ${b.rps} req/s (p50 ${b.p50_ms} ms, p99 ${b.p99_ms} ms, bad ${b.bad})`,
        );
      }
      const refRps = median(runs.ref.map((r) => r.rps));
      const candRps = median(runs.cand.map((r) => r.rps));
      rows.push({
        era,
        cand_rps: candRps,
        ref_rps: refRps,
        ratio: +(candRps / refRps).toFixed(3),
        cand_p50_ms: median(runs.cand.map((r) => r.p50_ms)),
        cand_p99_ms: median(runs.cand.map((r) => r.p99_ms)),
        ref_p50_ms: median(runs.ref.map((r) => r.p50_ms)),
        ref_p99_ms: median(runs.ref.map((r) => r.p99_ms)),
        bad: runs.cand.reduce((s, r) => s + r.bad, 0),
      });
    }
  } finally {
    ref.child.kill();
    cand.child.kill();
  }
  console.log(
    `\ngRPC Session, ${inflight} in flight, ${rounds} x ${seconds} s per era (target ratio >= 0.5)\n`,
  );
  console.log(
    '| era | anywire req/s | reference req/s | ratio | anywire p50 / p99 ms | reference p50 / p99 ms | bad |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(
      `| ${r.era} | ${r.cand_rps} | ${r.ref_rps} | ${r.ratio} | ${r.cand_p50_ms} / ${r.cand_p99_ms} | ${r.ref_p50_ms} / ${r.ref_p99_ms} | ${r.bad} |`,
    );
  }
  console.log(JSON.stringify({ kind: 'grpc', rows }));
}
