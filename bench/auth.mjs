// Cost of OAuth on the hot path: modern (2026-07-28) tools/call requests per second over HTTP to
// an unprotected anywire server and to the same server protected by oauthResourceServer() (a JWT
// access token verified against a loopback JWKS, then cached by hash until exp), measured in the
// same run, alternating rounds. The servers run in a child process; this process is the load.
// Usage: npm run build && node bench/auth.mjs [--seconds 3] [--rounds 3] [--concurrency 16]
// Prints one JSON line; `ratio` = protected / unprotected (the goal is >= 0.8).
import { fork } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';

const arg = (name, d) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};

if (process.argv[2] === '--serve') {
  // Child: a JWKS server, then both MCP servers; reports their URLs and the token to the parent.
  const { exportJWK, generateKeyPair, SignJWT } = await import('jose');
  const { McpServer } = await import('../dist/index.js');
  const { serveHttp } = await import('../dist/transports/streamable-http/index.js');
  const { oauthResourceServer } = await import('../dist/auth/index.js');
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwks = JSON.stringify({
    keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }],
  });
  const as = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(jwks),
  );
  await new Promise((r) => as.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${as.address().port}`;
  const make = () => {
    const server = new McpServer({ name: 'bench', version: '1.0.0' });
    server.registerTool('echo', {}, (args) => String(args.text ?? ''));
    return server;
  };
  const open = await serveHttp(make(), { port: 0 });
  const resource = 'https://mcp.bench.test/mcp';
  const auth = oauthResourceServer({ issuer, resource, jwksUri: `${issuer}/jwks`, requiredScopes: ['mcp'] });
  const protectedSrv = await serveHttp(make(), {
    port: 0,
    wellKnown: auth.handleMetadataRequest,
    authenticator: auth,
  });
  const token = await new SignJWT({ scope: 'mcp', client_id: 'bench' })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })
    .setIssuer(issuer)
    .setSubject('bench')
    .setAudience(resource)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey);
  // The authenticator alone: a cached token costs a SHA-256 and a map lookup.
  const request = {
    binding: 'http',
    headers: { authorization: `Bearer ${token}` },
    httpMethod: 'POST',
    url: resource,
  };
  await auth.authenticate(request);
  const calls = 20_000;
  const t0 = globalThis.performance.now();
  for (let i = 0; i < calls; i++) await auth.authenticate(request);
  const authenticateCachedUs = ((globalThis.performance.now() - t0) * 1000) / calls;
  process.send({ open: open.url, protected: protectedSrv.url, token, authenticateCachedUs });
  process.on('disconnect', () => process.exit(0));
} else {
  const seconds = arg('seconds', 3);
  const rounds = arg('rounds', 3);
  const concurrency = arg('concurrency', 16);
  const child = fork(new URL(import.meta.url).pathname, ['--serve'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const urls = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`bench server exited (${code})`)));
  });
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: {
      name: 'echo',
      arguments: { text: 'hi' },
      _meta: {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientCapabilities': {},
      },
    },
  });
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': 'tools/call',
    'mcp-name': 'echo',
  };
  let failures = 0;
  const post = (url, extra) =>
    new Promise((resolve, reject) => {
      const req = request(url, { method: 'POST', agent, headers: { ...headers, ...extra } }, (res) => {
        if (res.statusCode !== 200) failures++;
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
      req.end(body);
    });
  const run = async (url, extra) => {
    let n = 0;
    const end = Date.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (Date.now() < end) {
          await post(url, extra);
          n++;
        }
      }),
    );
    return n / seconds;
  };
  const auth = { authorization: `Bearer ${urls.token}` };
  // Sanity: the protected server refuses a request without the token.
  const statusWithoutToken = await post(urls.protected, {});
  failures = 0;
  await run(urls.open, {}); // warm-up, both
  await run(urls.protected, auth);
  const open = [];
  const prot = [];
  for (let i = 0; i < rounds; i++) {
    // Alternate which goes first, so a drift in machine load does not favour one side.
    if (i % 2 === 0) {
      open.push(await run(urls.open, {}));
      prot.push(await run(urls.protected, auth));
    } else {
      prot.push(await run(urls.protected, auth));
      open.push(await run(urls.open, {}));
    }
  }
  const sum = (a) => a.reduce((x, y) => x + y, 0);
  const openRate = sum(open) / rounds;
  const protRate = sum(prot) / rounds;
  agent.destroy();
  child.disconnect();
  console.log(
    JSON.stringify({
      unprotectedPerSec: Math.round(openRate),
      protectedPerSec: Math.round(protRate),
      ratio: Number((protRate / openRate).toFixed(3)),
      perRound: open.map((o, i) => Number((prot[i] / o).toFixed(3))),
      failures,
      statusWithoutToken,
      authenticateCachedUs: Number(urls.authenticateCachedUs.toFixed(2)),
      concurrency,
      seconds,
      rounds,
    }),
  );
}
