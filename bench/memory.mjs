// Memory of idle legacy sessions and of open SSE streams on `anywire serve --http`.
// usage: node bench/memory.mjs [--sessions N (10000)] [--streams N (10000)]
// Spawns the everything server, measures its resident set (VmRSS) before and after opening N
// sessions (initialize + initialized), then after opening one GET SSE stream on each of N sessions.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const opt = (k, d) => (args.includes(k) ? Number(args[args.indexOf(k) + 1]) : d);
const SESSIONS = opt('--sessions', 10_000);
const STREAMS = opt('--streams', 10_000);

const child = spawn(
  process.execPath,
  [
    '--expose-gc',
    `${root}bin/anywire.js`,
    'serve',
    `${root}examples/everything/server.ts`,
    '--http',
    '127.0.0.1:0',
  ],
  {
    stdio: ['ignore', 'ignore', 'pipe'],
  },
);
const url = await new Promise((resolve, reject) => {
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
    const m = /(http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(err);
    if (m) resolve(new URL(m[1]));
  });
  child.once('exit', () => reject(new Error(err)));
});
const rssKiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]);
const settle = () => new Promise((r) => setTimeout(r, 1500));
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function post(body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.headers['mcp-session-id']));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function openSession(i) {
  const sid = await post({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: {
      protocolVersion: '2025-11-25',
      capabilities: {},
      clientInfo: { name: `mem-${i}`, version: '1' },
    },
  });
  await post(
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
  );
  return sid;
}

async function pool(n, fn, width = 64) {
  const out = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

await settle();
const base = rssKiB();
const sessions = await pool(SESSIONS, openSession);
await settle();
const afterSessions = rssKiB();

const sockets = [];
await pool(
  Math.min(STREAMS, sessions.length),
  (i) =>
    new Promise((resolve, reject) => {
      const req = http.request(url, {
        method: 'GET',
        agent: false,
        headers: {
          accept: 'text/event-stream',
          'mcp-session-id': sessions[i],
          'mcp-protocol-version': '2025-11-25',
        },
      });
      req.on('response', (res) => {
        sockets.push(req);
        res.once('data', () => resolve()); // the priming event
      });
      req.on('error', reject);
      req.end();
    }),
);
await settle();
const afterStreams = rssKiB();

const perSession = ((afterSessions - base) * 1024) / SESSIONS;
const perStream = ((afterStreams - afterSessions) * 1024) / STREAMS;
console.log(
  JSON.stringify({
    baseline_rss_mib: +(base / 1024).toFixed(1),
    sessions: SESSIONS,
    sessions_rss_mib: +((afterSessions - base) / 1024).toFixed(1),
    bytes_per_idle_session: Math.round(perSession),
    sse_streams: STREAMS,
    streams_rss_mib: +((afterStreams - afterSessions) / 1024).toFixed(1),
    bytes_per_open_stream: Math.round(perStream),
  }),
);
for (const r of sockets) r.destroy();
child.kill();
process.exit(0);
