// Idle legacy sessions for the memory benchmarks (bench/memory.mjs, bench/redis.mjs): a POST over a
// keep-alive agent that resolves to the response's Mcp-Session-Id, a session opener (initialize +
// notifications/initialized, 2025-11-25), a bounded-width pool, and a process's resident set.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';

/**
 * A function that POSTs `body` (JSON) to `url` over `agent` (a keep-alive `http.Agent`) and
 * resolves to the response's `mcp-session-id` once the response has ended.
 */
export function poster(agent) {
  return (url, body, headers = {}) =>
    new Promise((resolve, reject) => {
      const req = request(
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

/** Opens legacy session number `i` on `url` with `post` (from {@link poster}); resolves to its id. */
export async function openIdleSession(post, url, i) {
  const sid = await post(url, {
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
    url,
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
  );
  return sid;
}

/** Runs `fn(i)` for i in [0, n), `width` at a time; resolves to the results in order. */
export async function pool(n, fn, width = 64) {
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

/** Resident set of process `pid`, in KiB (Linux `/proc/<pid>/status` VmRSS). */
export const rssKiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

/** Lets a process settle (GC, timers) before a memory reading: 1.5 s. */
export const settle = () => new Promise((r) => setTimeout(r, 1500));
