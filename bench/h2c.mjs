// h2c vs HTTP/1.1 against the same anywire server: tools/call `echo` in the modern era (2026-07-28,
// stateless POSTs), 32 requests in flight either way: as 32 concurrent streams on ONE h2c
// connection, or over 32 HTTP/1.1 keep-alive connections. Uses the built dist/ (`npm run build`).
//
//   node bench/h2c.mjs [--seconds S] [--rounds N] [--inflight N]
//
// One McpServer, served by two serveHttp listeners (h2c with prior knowledge, and HTTP/1.1: a
// plaintext port cannot offer both) in a child process, so server and load each get a core. Two
// client pairs, rounds alternating h2c / HTTP/1.1 so drift hits both alike:
//   fetch: createHttp2Fetch (anywire/http)  vs  Node's global fetch (undici)
//   raw:   node:http2 session.request       vs  node:http with a 32-socket keep-alive agent
// Prints requests per second per round, then the median req/s of each client, the h2c/HTTP/1.1
// ratio (the median of the per-round paired ratios), and the CPU time per request of the server and
// of the load process (steadier than req/s when other work shares the machine); the last line is
// JSON. Every load loop is bounded by time; only 127.0.0.1 is contacted.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const opt = (k, d) => {
  const i = args.indexOf(k);
  return i < 0 ? d : Number(args[i + 1]);
};

if (
  !existsSync(`${root}dist/index.js`) ||
  !existsSync(`${root}dist/transports/streamable-http/http2-fetch.js`)
) {
  console.error('bench/h2c: dist/ is missing or old: run `npm run build` first');
  process.exit(1);
}
const { McpServer } = await import(`${root}dist/index.js`);
const { serveHttp, createHttp2Fetch } = await import(`${root}dist/transports/streamable-http/index.js`);

// ---- server (child process) ----------------------------------------------------------------------

if (args.includes('--serve')) {
  const server = new McpServer({ name: 'anywire-bench-h2c', version: '1.0.0' });
  server.registerTool(
    'echo',
    {
      description: 'Echoes the text back',
      inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
    },
    ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  const h2c = await serveHttp(server, { port: 0, http2: true, httpSse: false });
  const h1 = await serveHttp(server, { port: 0, httpSse: false });
  // Since the last `stats` line: connections accepted, requests served, CPU time of this process.
  let counts = { h2c: 0, http1: 0, requests: 0 };
  let cpu = process.cpuUsage();
  h2c.listener.on('connection', () => counts.h2c++);
  h1.listener.on('connection', () => counts.http1++);
  h2c.listener.on('request', () => counts.requests++);
  h1.listener.on('request', () => counts.requests++);
  console.log(JSON.stringify({ h2c: h2c.url, http1: h1.url }));
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (line === 'stats') {
      const used = process.cpuUsage(cpu);
      console.log(JSON.stringify({ ...counts, cpuUs: used.user + used.system }));
      counts = { h2c: 0, http1: 0, requests: 0 };
      cpu = process.cpuUsage();
    }
  });
  rl.on('close', async () => {
    await Promise.all([h2c.close(), h1.close()]);
    process.exit(0);
  });
} else {
  await main();
}

// ---- load ----------------------------------------------------------------------------------------

async function main() {
  const seconds = opt('--seconds', 3);
  const rounds = opt('--rounds', 3);
  const inflight = opt('--inflight', 32);

  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const queue = [];
  const waiters = [];
  lines.on('line', (l) => (waiters.length ? waiters.shift()(l) : queue.push(l)));
  const nextLine = () =>
    new Promise((resolve) => (queue.length ? resolve(queue.shift()) : waiters.push(resolve)));
  const urls = JSON.parse(await nextLine());
  const stats = async () => {
    child.stdin.write('stats\n');
    return JSON.parse(await nextLine());
  };

  const MODERN = '2026-07-28';
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MODERN,
    'mcp-method': 'tools/call',
    'mcp-name': 'echo',
  };
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: {
      name: 'echo',
      arguments: { text: 'hello' },
      _meta: {
        'io.modelcontextprotocol/protocolVersion': MODERN,
        'io.modelcontextprotocol/clientCapabilities': {},
        'io.modelcontextprotocol/clientInfo': { name: 'anywire-bench', version: '1.0.0' },
      },
    },
  });
  const check = (status, text) => {
    if (status !== 200 || !text.includes('"text":"hello"'))
      throw new Error(`bad answer ${status}: ${text.slice(0, 300)}`);
  };

  // One request each; resolve to the body text after checking it.
  const h2fetch = createHttp2Fetch({ maxConcurrentStreams: inflight });
  const clients = {
    'fetch h2c': async () => {
      const r = await h2fetch(urls.h2c, { method: 'POST', headers, body });
      check(r.status, await r.text());
    },
    'fetch http/1.1': async () => {
      const r = await globalThis.fetch(urls.http1, { method: 'POST', headers, body });
      check(r.status, await r.text());
    },
  };
  const h2session = http2.connect(new URL(urls.h2c).origin);
  const h2path = new URL(urls.h2c).pathname;
  await new Promise((resolve, reject) => h2session.once('connect', resolve).once('error', reject));
  clients['raw h2c'] = () =>
    new Promise((resolve, reject) => {
      const s = h2session.request({ ':method': 'POST', ':path': h2path, ...headers });
      let status = 0;
      let text = '';
      s.setEncoding('utf8');
      s.on('response', (h) => (status = h[':status']));
      s.on('data', (c) => (text += c));
      s.on('end', () => {
        try {
          check(status, text);
          resolve();
        } catch (e) {
          reject(e);
        }
      });
      s.on('error', reject);
      s.end(body);
    });
  const agent = new http.Agent({ keepAlive: true, maxSockets: inflight });
  clients['raw http/1.1'] = () =>
    new Promise((resolve, reject) => {
      const req = http.request(urls.http1, { method: 'POST', headers, agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          try {
            check(res.statusCode, text);
            resolve();
          } catch (e) {
            reject(e);
          }
        });
      });
      req.on('error', reject);
      req.end(body);
    });

  /** Keeps `inflight` requests going for `ms`; returns requests per second. */
  async function load(one, ms) {
    let done = 0;
    const cpu0 = process.cpuUsage();
    const end = performance.now() + ms;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: inflight }, async () => {
        while (performance.now() < end) {
          await one();
          done++;
        }
      }),
    );
    const cpu = process.cpuUsage(cpu0);
    lastClientCpu = (cpu.user + cpu.system) / done;
    return done / ((performance.now() - start) / 1000);
  }
  /** CPU time of this (load) process per request in the last `load()`, in microseconds. */
  let lastClientCpu = 0;

  const pairs = [
    ['fetch h2c', 'fetch http/1.1'],
    ['raw h2c', 'raw http/1.1'],
  ];
  const results = Object.fromEntries(Object.keys(clients).map((k) => [k, []]));
  const conns = Object.fromEntries(Object.keys(clients).map((k) => [k, 0]));
  const serverCpu = Object.fromEntries(Object.keys(clients).map((k) => [k, []]));
  const clientCpu = Object.fromEntries(Object.keys(clients).map((k) => [k, []]));
  console.error(
    `bench/h2c: tools/call echo, modern era, ${inflight} in flight, ${rounds} x ${seconds}s per client`,
  );
  for (const name of Object.keys(clients)) await load(clients[name], 500); // warm up JIT and connections
  await stats();
  for (let round = 1; round <= rounds; round++) {
    for (const [a, b] of pairs) {
      for (const name of round % 2 ? [a, b] : [b, a]) {
        const rps = await load(clients[name], seconds * 1000);
        results[name].push(rps);
        const s = await stats();
        conns[name] += name.includes('h2c') ? s.h2c : s.http1;
        serverCpu[name].push(s.cpuUs / s.requests);
        clientCpu[name].push(lastClientCpu);
        console.error(
          `  round ${round} ${name.padEnd(15)} ${Math.round(rps)} req/s, server CPU ${Math.round(s.cpuUs / s.requests)} us/request, client CPU ${Math.round(lastClientCpu)} us/request`,
        );
      }
    }
  }
  // Each round measures a pair back to back, so its ratio sees the same machine state; the
  // median of those paired ratios is the figure (absolute req/s drift with other load).
  const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const summary = {};
  for (const [a, b] of pairs) {
    const ratios = results[a].map((ra, i) => ra / results[b][i]);
    const kind = a.split(' ')[0];
    const ra = median(results[a]);
    const rb = median(results[b]);
    const ratio = median(ratios);
    summary[kind] = {
      h2c_rps: Math.round(ra),
      http1_rps: Math.round(rb),
      ratio: Number(ratio.toFixed(2)),
      round_ratios: ratios.map((r) => Number(r.toFixed(2))),
      server_cpu_us_per_request: {
        h2c: Math.round(median(serverCpu[a])),
        http1: Math.round(median(serverCpu[b])),
      },
      client_cpu_us_per_request: {
        h2c: Math.round(median(clientCpu[a])),
        http1: Math.round(median(clientCpu[b])),
      },
    };
    console.error(
      `${kind.padEnd(6)} h2c (1 connection, ${inflight} streams): ${Math.round(ra)} req/s | ` +
        `HTTP/1.1 (${inflight} connections): ${Math.round(rb)} req/s | ` +
        `ratio h2c/HTTP/1.1 ${ratio.toFixed(2)} (median of rounds ${summary[kind].round_ratios.join(', ')}) | ` +
        `CPU us/request server: h2c ${summary[kind].server_cpu_us_per_request.h2c}, HTTP/1.1 ${summary[kind].server_cpu_us_per_request.http1}; ` +
        `client: h2c ${summary[kind].client_cpu_us_per_request.h2c}, HTTP/1.1 ${summary[kind].client_cpu_us_per_request.http1}`,
    );
  }
  // Connections opened during the measured rounds (after warm-up): h2c should need none, HTTP/1.1 keeps its 32.
  console.error(`new connections during the rounds: ${JSON.stringify(conns)}`);
  console.log(JSON.stringify({ inflight, seconds, rounds, ...summary }));

  await h2fetch.close();
  h2session.close();
  agent.destroy();
  child.stdin.end();
  await new Promise((resolve) => child.once('exit', resolve));
}
