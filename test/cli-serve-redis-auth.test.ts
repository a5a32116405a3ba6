/**
 * `anywire serve --redis ... --auth-issuer ...` (issue 11, "DPoP `jti` replay cache ... shared"):
 * the resource server of every node shares the DPoP replay cache of the Redis stores, so a DPoP
 * proof accepted by one node is refused as replayed by another node on the same Redis, the way a
 * load balancer without stickiness would hand it over. Two real `anywire serve` processes, a real
 * redis-server, a JWT issuer; proofs made with jose. Both nodes see the same `Host` (the public
 * address a load balancer forwards), so the proof's `htu` matches on either node.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dpopProof, newDpopKey } from './auth-provider.js';
import type { DpopKey } from './auth-provider.js';
import { start } from './cli-run.js';
import { startJwtIssuer } from './fixtures/jwt-issuer.js';
import type { JwtIssuer } from './fixtures/jwt-issuer.js';
import { redisMissing, startRedis } from './fixtures/redis-server.js';
import type { RedisInstance } from './fixtures/redis-server.js';
import { EVERYTHING, MODERN_META } from './helpers.js';

const missing = redisMissing();
if (missing) console.warn(`serve --redis --auth-issuer tests skipped: ${missing}`);

/** The public address both nodes are reached at (what the load balancer forwards as `Host`). */
const PUBLIC_HOST = 'localhost:8443';
const PUBLIC_URL = `http://${PUBLIC_HOST}/mcp`;
const RESOURCE = 'https://mcp.example.test/mcp';

type Node = Awaited<ReturnType<typeof start>> & { port: number };

/** Starts `anywire serve` on a free port with auth, and with `--redis` when `redisUrl` is given. */
async function serveNode(issuer: string, nodeId: string, redisUrl?: string): Promise<Node> {
  const args = ['serve', EVERYTHING, '--http', '127.0.0.1:0', '--node-id', nodeId];
  args.push('--auth-issuer', issuer, '--auth-resource', RESOURCE);
  if (redisUrl) args.push('--redis', redisUrl);
  const ready = redisUrl
    ? /http:\/\/127\.0\.0\.1:(\d+)\/mcp[\s\S]*stores\s+redis/
    : /http:\/\/127\.0\.0\.1:(\d+)\/mcp/;
  const s = await start(args, ready);
  return Object.assign(s, { port: Number(s.match[1]) });
}

/** POSTs a modern `tools/call` of echo to `port`, with `Host: PUBLIC_HOST` and `headers`. */
function callEcho(
  port: number,
  headers: Record<string, string>,
): Promise<{ status: number; body: string; challenge: string }> {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'echo', arguments: { text: 'dpop' }, _meta: MODERN_META },
  });
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/mcp',
        method: 'POST',
        headers: {
          host: PUBLIC_HOST,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': 'tools/call',
          'mcp-name': 'echo',
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: text,
            challenge: String(res.headers['www-authenticate'] ?? ''),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe.skipIf(missing)('anywire serve --redis --auth-issuer: DPoP replay across nodes', () => {
  let redis: RedisInstance;
  let issuer: JwtIssuer;
  let key: DpopKey;
  let token: string;
  const nodes: Node[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    issuer = await startJwtIssuer();
    key = await newDpopKey();
    token = await issuer.token(RESOURCE, { scope: 'mcp:tools', cnf: { jkt: key.jkt } });
  });
  afterAll(async () => {
    for (const n of nodes) await n.stop();
    await issuer?.close();
    await redis?.close();
  });

  const dpop = async () => ({
    authorization: `DPoP ${token}`,
    dpop: await dpopProof(key, { htm: 'POST', htu: PUBLIC_URL, token }),
  });

  it('a proof accepted by one node is refused as replayed by the other; a fresh proof is served', async () => {
    const a = await serveNode(issuer.issuer, 'a', `${redis.url}/0`);
    nodes.push(a);
    const b = await serveNode(issuer.issuer, 'b', `${redis.url}/0`);
    nodes.push(b);
    const headers = await dpop();
    const first = await callEcho(a.port, headers);
    expect(first.status, first.body).toBe(200);
    expect(first.body).toContain('"text":"dpop"');
    const replayed = await callEcho(b.port, headers);
    expect(replayed.status, replayed.body).toBe(401);
    expect(replayed.challenge).toMatch(/^DPoP /);
    expect(replayed.challenge).toMatch(/error="invalid_dpop_proof"/);
    expect(replayed.challenge).toMatch(/replayed/);
    // Replayed to the node that accepted it: refused too.
    expect((await callEcho(a.port, headers)).status).toBe(401);
    const fresh = await callEcho(b.port, await dpop());
    expect(fresh.status, fresh.body).toBe(200);
  });

  it('without --redis each node keeps its own cache, so the same replay gets through (why the shared cache matters)', async () => {
    const a = await serveNode(issuer.issuer, 'solo-a');
    nodes.push(a);
    const b = await serveNode(issuer.issuer, 'solo-b');
    nodes.push(b);
    const headers = await dpop();
    expect((await callEcho(a.port, headers)).status).toBe(200);
    expect((await callEcho(b.port, headers)).status).toBe(200);
    expect((await callEcho(a.port, headers)).status, 'a replay to the same node').toBe(401);
  });
});
