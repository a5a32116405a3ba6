// anywire's own load generator: tools/call `echo` as fast as a server answers, on stdio, Streamable
// HTTP or WebSocket, in either era. Prints one JSON line: rps, p50_ms, p99_ms, bad.
// usage: node bench/load.mjs --kind stdio [--era legacy|modern] [--inflight 32] [--seconds 5] -- CMD ARGS...
//        node bench/load.mjs --kind http URL [--era ..] [--connections 32] [--seconds 5]
//        node bench/load.mjs --kind ws URL [--era ..] [--connections 8] [--inflight 4] [--seconds 5]
// legacy: initialize (and, on HTTP, the Mcp-Session-Id it returns) before the calls; modern
// (2026-07-28): no handshake, the protocol version in each request's _meta (and HTTP headers).
import { spawn } from 'node:child_process';
import http from 'node:http';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';

const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const own = dash < 0 ? argv : argv.slice(0, dash);
const command = dash < 0 ? [] : argv.slice(dash + 1);
const opt = (k, d) => (own.includes(k) ? own[own.indexOf(k) + 1] : d);
const kind = opt('--kind', 'stdio');
const era = opt('--era', 'legacy');
const seconds = Number(opt('--seconds', '5'));
const target = own.find((a, i) => !a.startsWith('--') && !own[i - 1]?.startsWith('--'));

const MODERN = '2026-07-28';
const LEGACY = '2025-11-25';
const clientInfo = { name: 'anywire-load', version: '1.0.0' };
const TEXT = 'hello';
const initialize = (id) => ({
  jsonrpc: '2.0',
  id,
  method: 'initialize',
  params: { protocolVersion: LEGACY, capabilities: {}, clientInfo },
});
const initialized = { jsonrpc: '2.0', method: 'notifications/initialized' };
const call = (id) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: {
    name: 'echo',
    arguments: { text: TEXT },
    ...(era === 'modern'
      ? {
          _meta: {
            'io.modelcontextprotocol/protocolVersion': MODERN,
            'io.modelcontextprotocol/clientCapabilities': {},
            'io.modelcontextprotocol/clientInfo': clientInfo,
          },
        }
      : {}),
  },
});
const ok = (m) => m?.result?.content?.[0]?.text === TEXT;

/** Runs `workers` loops of `once()` for the duration; returns the summary. */
async function drive(workers, once) {
  const latencies = [];
  let done = 0;
  let bad = 0;
  const end = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (Date.now() < end) {
        const t = process.hrtime.bigint();
        const good = await once().catch(() => false);
        latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
        if (good) done++;
        else bad++;
      }
    }),
  );
  const secs = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p) => Number((latencies[Math.floor(p * (latencies.length - 1))] ?? 0).toFixed(3));
  return { kind, era, rps: Math.round(done / secs), p50_ms: q(0.5), p99_ms: q(0.99), bad };
}

/** A newline-delimited JSON-RPC peer over a pair of streams, matching responses by id. */
function lineClient(input, output) {
  const pending = new Map();
  let id = 1;
  createInterface({ input }).on('line', (line) => {
    let m;
    try {
      m = JSON.parse(line);
    } catch {
      return;
    }
    pending.get(m.id)?.(m);
    pending.delete(m.id);
  });
  return {
    notify: (m) => output.write(`${JSON.stringify(m)}\n`),
    request: (make) =>
      new Promise((resolve) => {
        const n = id++;
        pending.set(n, resolve);
        output.write(`${JSON.stringify(make(n))}\n`);
      }),
  };
}

async function stdio() {
  const child = spawn(command[0], command.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  const peer = lineClient(child.stdout, child.stdin);
  if (era === 'legacy') {
    await peer.request(initialize);
    peer.notify(initialized);
  }
  if (!ok(await peer.request(call))) throw new Error('the server did not echo');
  const r = await drive(Number(opt('--inflight', '32')), async () => ok(await peer.request(call)));
  child.kill();
  return r;
}

async function httpLoad() {
  const connections = Number(opt('--connections', '32'));
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': era === 'modern' ? MODERN : LEGACY,
    ...(era === 'modern' ? { 'mcp-method': 'tools/call', 'mcp-name': 'echo' } : {}),
  };
  const post = (message) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify(message);
      const sized = { ...headers, 'content-length': Buffer.byteLength(body) };
      const req = http.request(target, { method: 'POST', agent, headers: sized }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ res, body: text }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  const parse = (body) => {
    const json = body.startsWith('{')
      ? body
      : body
          .split('\n')
          .find((l) => l.startsWith('data:'))
          ?.slice(5);
    return json ? JSON.parse(json) : undefined;
  };
  if (era === 'legacy') {
    const { res } = await post(initialize(0));
    const sid = res.headers['mcp-session-id'];
    if (sid) headers['mcp-session-id'] = sid;
    await post(initialized);
  }
  const first = await post(call(1));
  if (!ok(parse(first.body))) throw new Error(`the server did not echo: ${first.body.slice(0, 200)}`);
  let id = 2;
  const r = await drive(connections, async () => ok(parse((await post(call(id++))).body)));
  agent.destroy();
  return r;
}

async function wsLoad() {
  const sockets = await Promise.all(
    Array.from({ length: Number(opt('--connections', '8')) }, async () => {
      const ws = new WebSocket(target, 'mcp');
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const pending = new Map();
      ws.on('message', (data) => {
        const m = JSON.parse(String(data));
        pending.get(m.id)?.(m);
        pending.delete(m.id);
      });
      let id = 1;
      const request = (make) =>
        new Promise((resolve) => {
          const n = id++;
          pending.set(n, resolve);
          ws.send(JSON.stringify(make(n)));
        });
      if (era === 'legacy') {
        await request(initialize);
        ws.send(JSON.stringify(initialized));
      }
      return { ws, request };
    }),
  );
  const inflight = Number(opt('--inflight', '4'));
  const workers = sockets.flatMap((s) => Array.from({ length: inflight }, () => s));
  let next = 0;
  const r = await drive(workers.length, async () => ok(await workers[next++ % workers.length].request(call)));
  for (const s of sockets) s.ws.close();
  return r;
}

const result = kind === 'stdio' ? await stdio() : kind === 'http' ? await httpLoad() : await wsLoad();
console.log(JSON.stringify(result));
process.exit(0);
