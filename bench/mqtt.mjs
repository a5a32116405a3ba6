// MQTT binding benchmark: tools/call `echo` through a private mosquitto, 32 requests in flight,
// against the raw limit measured in the same run: a tiny mqtt.js responder that answers every
// request publish with a fixed result on its Response Topic. Rounds alternate (ref, cand, ref, ...)
// and the medians are compared. Same load generator, same broker, same QoS 1 for both.
//
//   npm run build && node bench/mqtt.mjs [--seconds 5] [--rounds 3] [--inflight 32] [--era modern|legacy|both]
//
// Rows: `anywire server` = the load generator's raw MQTT requests against serveMqtt (the binding's
// server cost); `anywire client+server` = the anywire Client over MqttClientTransport (the whole
// stack). Prints one JSON line per row; the last line holds every figure.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
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

// ------------------------------------------------------------------------------------ responders
// `node bench/mqtt.mjs --serve raw|anywire --url URL --name NAME` runs one responder (child process).

if (opt('--serve')) {
  const url = opt('--url');
  const name = opt('--name');
  if (opt('--serve') === 'raw') {
    const { connectAsync } = await import('mqtt');
    const c = await connectAsync(url, { protocolVersion: 5 });
    c.stream.setNoDelay?.(true);
    await c.subscribeAsync(`mcp/${name}/rpc`, { qos: 1 });
    c.on('message', (_topic, payload, packet) => {
      const props = packet.properties ?? {};
      if (!props.responseTopic || payload.length === 0) return;
      const m = JSON.parse(payload.toString());
      if (m.id === undefined) return;
      const result =
        m.method === 'tools/call'
          ? { content: [{ type: 'text', text: 'hello' }] }
          : m.method === 'initialize'
            ? {
                protocolVersion: '2025-11-25',
                capabilities: { tools: {} },
                serverInfo: { name: 'raw', version: '0' },
              }
            : { resultType: 'complete', supportedVersions: ['2026-07-28'], capabilities: { tools: {} } };
      c.publish(props.responseTopic, JSON.stringify({ jsonrpc: '2.0', id: m.id, result }), {
        qos: 1,
        properties: { correlationData: props.correlationData },
      });
    });
  } else {
    const { McpServer } = await import(`${root}dist/index.js`);
    const { serveMqtt } = await import(`${root}dist/transports/mqtt/index.js`);
    const { z } = await import('zod');
    const server = new McpServer({ name: 'anywire-bench', version: '0.1.0' });
    server.registerTool(
      'echo',
      { description: 'Echoes the text back', inputSchema: z.object({ text: z.string() }) },
      ({ text }) => ({ content: [{ type: 'text', text }] }),
    );
    await serveMqtt(server, { url, serverName: name });
  }
  // Exit normally on a signal (so `node --cpu-prof` can write its profile).
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => process.exit(0));
  process.stdout.write('ready\n');
  await new Promise(() => {});
}

// ------------------------------------------------------------------------------------ load

/** Raw MQTT load: `inflight` workers each keep one tools/call echo outstanding for `seconds`. */
async function rawLoad(url, name, era, seconds, inflight) {
  const { connectAsync } = await import('mqtt');
  const c = await connectAsync(url, { protocolVersion: 5 });
  c.stream.setNoDelay?.(true);
  const replyTopic = `mcp/${name}/client/load-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const pending = new Map();
  c.on('message', (_t, payload) => {
    if (payload.length === 0) return;
    const m = JSON.parse(payload.toString());
    const p = pending.get(m.id);
    if (p) {
      pending.delete(m.id);
      p(m);
    }
  });
  await c.subscribeAsync(replyTopic, { qos: 1 });
  let nextId = 1;
  const publish = (m) =>
    c.publish(`mcp/${name}/rpc`, JSON.stringify(m), {
      qos: 1,
      properties: { responseTopic: replyTopic, correlationData: Buffer.from(String(m.id ?? 'n')) },
    });
  const request = (m) =>
    new Promise((resolve) => {
      pending.set(m.id, resolve);
      publish(m);
    });
  const echo = (id) => {
    const params = { name: 'echo', arguments: { text: 'hello' } };
    if (era === 'modern') params._meta = MODERN_META;
    return { jsonrpc: '2.0', id, method: 'tools/call', params };
  };
  if (era === 'legacy') {
    await request({
      jsonrpc: '2.0',
      id: nextId++,
      method: 'initialize',
      params: {
        protocolVersion: '2025-11-25',
        capabilities: {},
        clientInfo: MODERN_META['io.modelcontextprotocol/clientInfo'],
      },
    });
    publish({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }
  const result = await measure(seconds, inflight, async () => {
    const m = await request(echo(nextId++));
    return m?.result?.content?.[0]?.text === 'hello';
  });
  // End the virtual connection (no-op for the raw responder), then leave.
  await c.publishAsync(`mcp/${name}/rpc`, Buffer.alloc(0), {
    qos: 1,
    properties: { responseTopic: replyTopic, userProperties: { 'mcp-control': 'disconnect' } },
  });
  await c.endAsync();
  return result;
}

/** The anywire Client over MqttClientTransport. */
async function clientLoad(url, name, era, seconds, inflight) {
  const { Client } = await import(`${root}dist/index.js`);
  const { MqttClientTransport } = await import(`${root}dist/transports/mqtt/index.js`);
  const client = new Client({ name: 'anywire-bench', version: '1.0.0' }, { era });
  await client.connect(new MqttClientTransport({ url, serverName: name }));
  const result = await measure(seconds, inflight, async () => {
    const r = await client.callTool('echo', { text: 'hello' });
    return r.content?.[0]?.text === 'hello';
  });
  await client.close();
  return result;
}

/** Runs `call` with `inflight` workers: 0.5 s warm-up, then `seconds` measured. */
async function measure(seconds, inflight, call) {
  const warm = Date.now() + 500;
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (Date.now() < warm) await call();
    }),
  );
  const lat = [];
  let done = 0;
  let bad = 0;
  const t0 = Date.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (Date.now() < end) {
        const s = process.hrtime.bigint();
        const ok = await call();
        lat.push(Number(process.hrtime.bigint() - s) / 1e6);
        if (ok) done++;
        else bad++;
      }
    }),
  );
  const secs = (Date.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const q = (p) => +lat[Math.floor(p * (lat.length - 1))].toFixed(3);
  return { rps: Math.round(done / secs), p50_ms: q(0.5), p99_ms: q(0.99), bad };
}

// ------------------------------------------------------------------------------------ broker

const candidates = [
  process.env.MOSQUITTO,
  '/usr/sbin/mosquitto',
  '/usr/local/sbin/mosquitto',
  '/opt/homebrew/sbin/mosquitto',
];
const mosquitto = candidates.find((p) => p && existsSync(p));
if (!mosquitto) {
  console.error(
    'bench/mqtt: mosquitto is not installed (apt-get install mosquitto, or set MOSQUITTO=path); skipped',
  );
  process.exit(0);
}
if (!existsSync(`${root}dist/transports/mqtt/index.js`)) {
  console.error('bench/mqtt: dist/ has no MQTT binding; run `npm run build` first');
  process.exit(1);
}

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
async function waitPort(port) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((res) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        res(true);
      });
      s.on('error', () => res(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`mosquitto did not listen on ${port}`);
}

const dir = mkdtempSync(join(tmpdir(), 'anywire-mqtt-bench-'));
const port = await freePort();
const lines = [
  `listener ${port} 127.0.0.1`,
  'allow_anonymous true',
  'persistence false',
  'set_tcp_nodelay true',
];
// Started as root, mosquitto switches to user "mosquitto", who cannot read this 0700 directory.
if (process.getuid?.() === 0) lines.push('user root');
writeFileSync(join(dir, 'mosquitto.conf'), `${lines.join('\n')}\n`);
const children = [];
const broker = spawn(mosquitto, ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
children.push(broker);
const url = `mqtt://127.0.0.1:${port}`;

function startResponder(kind, name) {
  const child = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), '--serve', kind, '--url', url, '--name', name],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`${kind} responder exited (${code})`)));
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  await waitPort(port);
  await startResponder('raw', 'bench-raw');
  await startResponder('anywire', 'bench-anywire');
  const seconds = +opt('--seconds', 5);
  const rounds = +opt('--rounds', 3);
  const inflight = +opt('--inflight', 32);
  const eraOpt = opt('--era', 'both');
  const eras = eraOpt === 'both' ? ['modern', 'legacy'] : [eraOpt];
  const rows = [];
  for (const era of eras) {
    for (const [label, cand] of [
      ['anywire server', (s) => rawLoad(url, 'bench-anywire', era, s, inflight)],
      ['anywire client+server', (s) => clientLoad(url, 'bench-anywire', era, s, inflight)],
    ]) {
      const ref = [];
      const got = [];
      for (let i = 0; i < rounds; i++) {
        ref.push(await rawLoad(url, 'bench-raw', era, seconds, inflight));
        got.push(await cand(seconds));
        console.error(
          `mqtt ${era} ${label} round ${i + 1}: ${got.at(-1).rps} vs raw ${ref.at(-1).rps} req/s (p50 ${got.at(-1).p50_ms} ms, p99 ${got.at(-1).p99_ms} ms)`,
        );
      }
      const row = {
        binding: 'mqtt',
        era,
        candidate: label,
        inflight,
        ref_rps: median(ref.map((r) => r.rps)),
        ref_p50_ms: median(ref.map((r) => r.p50_ms)),
        ref_p99_ms: median(ref.map((r) => r.p99_ms)),
        cand_rps: median(got.map((r) => r.rps)),
        cand_p50_ms: median(got.map((r) => r.p50_ms)),
        cand_p99_ms: median(got.map((r) => r.p99_ms)),
        cand_bad: got.reduce((n, r) => n + r.bad, 0),
      };
      row.ratio = +(row.cand_rps / row.ref_rps).toFixed(3);
      rows.push(row);
      console.log(JSON.stringify(row));
    }
  }
  console.log(
    JSON.stringify({ mqtt: rows.map((r) => ({ era: r.era, candidate: r.candidate, ratio: r.ratio })) }),
  );
} finally {
  for (const c of children.reverse()) c.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
