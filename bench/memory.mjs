// Memory of idle legacy sessions and of open SSE streams on `anywire serve --http`.
// usage: node bench/memory.mjs [--sessions N (10000)] [--streams N (10000)]
// Spawns the everything server, measures its resident set (VmRSS) before and after opening N
// sessions (initialize + initialized), then after opening one GET SSE stream on each of N sessions.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { openIdleSession, pool, poster, rssKiB, settle } from './idle-sessions.mjs';

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
const rss = () => rssKiB(child.pid);
const post = poster(new http.Agent({ keepAlive: true, maxSockets: 64 }));
const openSession = (i) => openIdleSession(post, url, i);

await settle();
const base = rss();
const sessions = await pool(SESSIONS, openSession);
await settle();
const afterSessions = rss();

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
const afterStreams = rss();

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
