// Cold start: time from spawn to the `initialize` response (stdio), median of N runs, the official
// SDK v1 stdio server measured in the same run with rounds alternating; and `anywire --version`
// from spawn to exit. Usage: node bench/cold-start.mjs [--runs N] [--json]
// Prints a table on stderr and, last on stdout, one JSON line with the figures and ratios.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const opt = (k, d) => {
  const i = args.indexOf(k);
  return i < 0 ? d : args[i + 1];
};
const runs = Number(opt('--runs', '5'));
const node = process.execPath;
const timeoutMs = 30_000;

const initialize = `${JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'cold-start', version: '1.0.0' },
  },
})}\n`;

/** Spawns `argv`, writes initialize, resolves with ms until the response line arrives. */
function timeToInitialize(argv) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`no initialize response from ${argv.join(' ')} within ${timeoutMs} ms\n${err}`));
    }, timeoutMs);
    child.stdin.write(initialize);
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      clearTimeout(timer);
      const msg = JSON.parse(out.slice(0, nl));
      child.kill();
      if (!msg.result) reject(new Error(`initialize failed: ${out.slice(0, nl)}`));
      else resolve(ms);
    });
    child.on('exit', (code) => {
      if (!out.includes('\n')) {
        clearTimeout(timer);
        reject(new Error(`${argv.join(' ')} exited (${code}) before answering\n${err}`));
      }
    });
  });
}

/** Spawns `argv` and resolves with ms until it exits (status 0 expected). */
function timeToExit(argv) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('exit', (code) =>
      code === 0
        ? resolve(Number(process.hrtime.bigint() - start) / 1e6)
        : reject(new Error(`${argv.join(' ')} exited ${code}`)),
    );
  });
}

const cli = `${root}bin/anywire.js`;
const cases = [
  { name: 'official SDK v1 stdio server', argv: [node, `${root}bench/refs/sdk1-server.mjs`, 'stdio'] },
  { name: 'raw node (readline echo)', argv: [node, `${root}bench/refs/raw-stdio-server.mjs`] },
  {
    name: 'anywire serve server.mjs --stdio',
    argv: [node, cli, 'serve', `${root}bench/refs/echo-server.mjs`, '--stdio'],
  },
  {
    name: 'anywire serve server.ts --stdio',
    argv: [node, cli, 'serve', `${root}bench/refs/echo-server.ts`, '--stdio'],
  },
  { name: 'anywire --version', argv: [node, cli, '--version'], exit: true },
];

const times = new Map(cases.map((c) => [c.name, []]));
// One warm-up round (fills the OS page cache and the transpile cache), then rounds alternating.
for (let round = -1; round < runs; round++) {
  for (const c of cases) {
    const ms = await (c.exit ? timeToExit(c.argv) : timeToInitialize(c.argv));
    if (round >= 0) times.get(c.name).push(ms);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sdk = median(times.get(cases[0].name));
const rows = cases.map((c) => {
  const m = median(times.get(c.name));
  return { name: c.name, median_ms: Math.round(m), ratio_to_sdk1: Number((m / sdk).toFixed(2)) };
});
const width = Math.max(...rows.map((r) => r.name.length));
console.error(`cold start, median of ${runs} runs (spawn to initialize response; --version: spawn to exit)`);
for (const r of rows)
  console.error(
    `  ${r.name.padEnd(width)}  ${String(r.median_ms).padStart(5)} ms  ${r.ratio_to_sdk1.toFixed(2)}x SDK v1`,
  );
console.log(JSON.stringify({ runs, rows }));
