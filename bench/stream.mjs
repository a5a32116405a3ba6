// Byte-stream bindings benchmark: tools/call `echo`, INFLIGHT requests outstanding, over TCP
// loopback, against a raw TCP newline server (the limit: JSON in, fixed result out, no MCP).
// Candidates: the anywire TCP server in NDJSON, and in MessagePack (negotiated); both driven by a
// raw load generator in this process, and again by the anywire Client end to end. Every figure is
// a ratio measured in one run, rounds alternating, because absolute numbers on a shared machine drift.
//
// usage: npm run build && node bench/stream.mjs [--seconds S] [--rounds N] [--inflight K]
//          [--era modern|legacy|both] [--text-bytes 5,16384] [--no-client] [--micro-only]
// Uses the built dist/ output. Last line printed: a JSON summary.
// (internal) node bench/stream.mjs --serve raw|raw-batched|anywire   prints `PORT n` on stdout
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { decode, encode } from '@msgpack/msgpack';

const root = fileURLToPath(new URL('..', import.meta.url));
const self = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);
const opt = (k, d) => {
  const i = args.indexOf(k);
  return i < 0 ? d : args[i + 1];
};
const MODERN = '2026-07-28';
const clientInfo = { name: 'anywire-stream-bench', version: '1.0.0' };

// ----------------------------------------------------------------------------------- servers
if (args[0] === '--serve') {
  const kind = args[1];
  if (kind === 'raw' || kind === 'raw-batched') {
    // The limit: answers every line with a tools/call result (the echoed text, `hello` by default).
    // `raw` writes each answer on its own, like ../shared/bench/raw-stdio-server.mjs; `raw-batched`
    // writes the answers to one read in one write, as anywire's writer does.
    const batched = kind === 'raw-batched';
    const { createServer } = await import('node:net');
    const server = createServer({ noDelay: true }, (socket) => {
      let buf = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk) => {
        buf += chunk;
        let nl;
        let out = '';
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const m = JSON.parse(line);
          if (m.id === undefined) continue;
          const result =
            m.method === 'tools/call'
              ? { content: [{ type: 'text', text: m.params?.arguments?.text ?? 'hello' }] }
              : {};
          const answer = JSON.stringify({ jsonrpc: '2.0', id: m.id, result }) + '\n';
          if (batched) out += answer;
          else socket.write(answer);
        }
        if (out) socket.write(out);
      });
      socket.on('error', () => {});
    });
    server.listen(0, '127.0.0.1', () => console.log(`PORT ${server.address().port}`));
  } else {
    const { McpServer } = await import(`${root}dist/index.js`);
    const { serveTcp } = await import(`${root}dist/transports/stream/index.js`);
    const { z } = await import('zod');
    const server = new McpServer({ name: 'bench', version: '1.0.0' });
    server.registerTool(
      'echo',
      { description: 'Echoes the text back', inputSchema: z.object({ text: z.string() }) },
      ({ text }) => ({ content: [{ type: 'text', text }] }),
    );
    const handle = await serveTcp(server, { port: 0, maxMessageBytes: 16 * 1024 * 1024 });
    console.log(`PORT ${handle.address.port}`);
  }
  // Exit with the parent: it holds our stdin open.
  process.stdin.resume();
  process.stdin.once('end', () => process.exit(0));
  await new Promise(() => {});
}

// ----------------------------------------------------------------------------------- driver
if (!existsSync(`${root}dist/transports/stream/index.js`)) {
  console.error('bench/stream: dist/ has no stream binding; run `npm run build` first');
  process.exit(1);
}
const seconds = Number(opt('--seconds', '4'));
const rounds = Number(opt('--rounds', '3'));
const inflight = Number(opt('--inflight', '32'));
const eraOpt = opt('--era', 'both');
const eras = eraOpt === 'both' ? ['modern', 'legacy'] : [eraOpt];
const sizes = opt('--text-bytes', '5,16384').split(',').map(Number);
const withClient = !args.includes('--no-client');

function startServer(kind) {
  const child = spawn(process.execPath, [self, '--serve', kind], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`${kind} server exited (${code})`)));
  });
}

const textOf = (n) => (n === 5 ? 'hello' : 'x'.repeat(n));
function echoCall(id, era, text) {
  const params = { name: 'echo', arguments: { text } };
  if (era === 'modern') {
    params._meta = {
      'io.modelcontextprotocol/protocolVersion': MODERN,
      'io.modelcontextprotocol/clientCapabilities': {},
      'io.modelcontextprotocol/clientInfo': clientInfo,
    };
  }
  return { jsonrpc: '2.0', id, method: 'tools/call', params };
}

/**
 * A lean raw load generator on one socket, so that the server, not the generator, is the limit:
 * requests are pre-serialized templates with the id patched in, and answers are matched by id
 * without being parsed in full (success = the echoed text is in the answer). NDJSON, or
 * MessagePack frames after negotiating the codec.
 */
async function rawLoad({ port, era, codec, text }) {
  const socket = connect({ host: '127.0.0.1', port, noDelay: true });
  await new Promise((r, j) => socket.once('connect', r).once('error', j));
  const pending = new Map();
  let binary = false;
  let buf = Buffer.alloc(0);
  let negotiated;
  const negotiation = new Promise((r) => (negotiated = r));
  const jsonNeedle = Buffer.from(JSON.stringify({ text }).slice(1, -1));
  const packNeedle = Buffer.from(encode(text));
  const ID_KEY = Buffer.from([0xa2, 0x69, 0x64]); // msgpack "id"
  const needle = codec === 'msgpack' ? packNeedle : jsonNeedle;
  const settle = (id, frame) => {
    const p = pending.get(id);
    if (p) {
      pending.delete(id);
      p(frame);
    }
  };
  socket.on('data', (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    let pos = 0;
    for (;;) {
      if (binary) {
        if (buf.length - pos < 4) break;
        const len = buf.readUInt32BE(pos);
        if (buf.length - pos - 4 < len) break;
        const frame = buf.subarray(pos + 4, pos + 4 + len);
        pos += 4 + len;
        const k = frame.indexOf(ID_KEY) + 3;
        const tag = frame[k];
        const id =
          tag < 0x80
            ? tag
            : tag === 0xcc
              ? frame[k + 1]
              : tag === 0xcd
                ? frame.readUInt16BE(k + 1)
                : frame.readUInt32BE(k + 1);
        settle(id, frame);
      } else {
        const nl = buf.indexOf(0x0a, pos);
        if (nl < 0) break;
        const line = buf.subarray(pos, nl);
        pos = nl + 1;
        if (!negotiated.done && line.includes('anywire/codec')) {
          negotiated.done = true;
          binary = line.includes('"codec":"msgpack"');
          negotiated(binary);
          continue;
        }
        const k = line.indexOf('"id":') + 5;
        settle(parseInt(line.toString('latin1', k, k + 12), 10), line);
      }
    }
    buf = pos === buf.length ? Buffer.alloc(0) : buf.subarray(pos);
  });
  if (codec === 'msgpack') {
    socket.write(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 'anywire/codec',
        method: 'anywire/codec',
        params: { accept: ['msgpack'] },
      }) + '\n',
    );
    if (!(await negotiation)) throw new Error('msgpack was not granted');
  }
  // Templates: the id is a placeholder patched per request.
  const PLACEHOLDER = 0xfffffff0;
  let makeRequest;
  if (binary) {
    const template = Buffer.from(encode(echoCall(PLACEHOLDER, era, text)));
    const at = template.indexOf(Buffer.from([0xce, 0xff, 0xff, 0xff, 0xf0])) + 1;
    makeRequest = (id) => {
      const frame = Buffer.allocUnsafe(4 + template.length);
      frame.writeUInt32BE(template.length, 0);
      template.copy(frame, 4);
      frame.writeUInt32BE(id, 4 + at);
      return frame;
    };
  } else {
    const [head, tail] = (JSON.stringify(echoCall(PLACEHOLDER, era, text)) + '\n').split(String(PLACEHOLDER));
    makeRequest = (id) => head + id + tail;
  }
  let nextId = 1;
  /** Sends `bytes` as request `id`; resolves with the answer's raw bytes. */
  const request = (id, bytes) =>
    new Promise((r) => {
      pending.set(id, r);
      socket.write(bytes);
    });
  if (era === 'legacy') {
    const frame = (m) => {
      if (!binary) return JSON.stringify(m) + '\n';
      const payload = encode(m);
      const out = Buffer.allocUnsafe(4 + payload.length);
      out.writeUInt32BE(payload.length, 0);
      out.set(payload, 4);
      return out;
    };
    const init = {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo },
    };
    const answer = await request(0, frame(init));
    if (answer.indexOf('error') >= 0) throw new Error(`initialize failed: ${answer}`);
    socket.write(frame({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  }
  return measure(socket, async () => {
    const id = nextId++;
    return (await request(id, makeRequest(id))).indexOf(needle) >= 0;
  });
}

/** The anywire Client (dist) end to end, `inflight` concurrent calls on one connection. */
async function clientLoad({ port, era, codec, text }) {
  const { Client } = await import(`${root}dist/index.js`);
  const { TcpClientTransport } = await import(`${root}dist/transports/stream/index.js`);
  const transport = new TcpClientTransport({ port, codec });
  const client = new Client(clientInfo, { era });
  await client.connect(transport);
  if (transport.codec !== codec) throw new Error(`asked for ${codec}, got ${transport.codec}`);
  const r = await measure(null, async () => {
    const res = await client.callTool('echo', { text });
    return res.content?.[0]?.text === text;
  });
  await client.close();
  return r;
}

async function measure(socket, call) {
  for (let i = 0; i < 200; i++) await call(); // warm-up
  const lat = [];
  let done = 0;
  let bad = 0;
  const end = Date.now() + seconds * 1000;
  const t0 = Date.now();
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
  socket?.destroy();
  lat.sort((a, b) => a - b);
  const q = (p) => +lat[Math.floor(p * (lat.length - 1))].toFixed(3);
  return { rps: Math.round(done / secs), p50_ms: q(0.5), p99_ms: q(0.99), bad };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// ----------------------------------------------------------------------------------- micro
/** Encode + decode cost of one echo response and request, JSON text vs MessagePack, in-process. */
function micro() {
  const rows = [];
  for (const n of sizes) {
    const text = textOf(n);
    const msgs = [
      echoCall(1, 'modern', text),
      { jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text }], resultType: 'complete' } },
    ];
    const time = (fn) => {
      const iters = n > 1000 ? 20_000 : 200_000;
      for (let i = 0; i < 2000; i++) fn();
      const t = process.hrtime.bigint();
      for (let i = 0; i < iters; i++) fn();
      return Number(process.hrtime.bigint() - t) / iters; // ns per op
    };
    const json = time(() => {
      for (const m of msgs) JSON.parse(Buffer.from(JSON.stringify(m)).toString());
    });
    const mp = time(() => {
      for (const m of msgs) decode(encode(m));
    });
    const jsonBytes = msgs.reduce((s, m) => s + Buffer.byteLength(JSON.stringify(m)) + 1, 0);
    const mpBytes = msgs.reduce((s, m) => s + encode(m).length + 4, 0);
    rows.push({
      text_bytes: n,
      json_ns: Math.round(json),
      msgpack_ns: Math.round(mp),
      msgpack_cpu_vs_json: +(mp / json).toFixed(2),
      json_wire_bytes: jsonBytes,
      msgpack_wire_bytes: mpBytes,
    });
  }
  return rows;
}

const microRows = micro();
console.error('codec cost per request+response pair, encode+decode in-process (ns):');
for (const r of microRows)
  console.error(
    `  text ${r.text_bytes} B: JSON ${r.json_ns} ns, MessagePack ${r.msgpack_ns} ns (x${r.msgpack_cpu_vs_json}); wire ${r.json_wire_bytes} B vs ${r.msgpack_wire_bytes} B`,
  );
if (args.includes('--micro-only')) {
  console.log(JSON.stringify({ micro: microRows }));
  process.exit(0);
}

// ----------------------------------------------------------------------------------- e2e
const raw = await startServer('raw');
const rawBatched = await startServer('raw-batched');
const anywire = await startServer('anywire');
const rows = [];
try {
  for (const n of sizes) {
    const text = textOf(n);
    for (const era of eras) {
      const runs = { ref: [], batched: [], ndjson: [], msgpack: [], client_ndjson: [], client_msgpack: [] };
      for (let i = 0; i < rounds; i++) {
        runs.ref.push(await rawLoad({ port: raw.port, era, codec: 'ndjson', text }));
        runs.batched.push(await rawLoad({ port: rawBatched.port, era, codec: 'ndjson', text }));
        runs.ndjson.push(await rawLoad({ port: anywire.port, era, codec: 'ndjson', text }));
        runs.msgpack.push(await rawLoad({ port: anywire.port, era, codec: 'msgpack', text }));
        if (withClient) {
          runs.client_ndjson.push(await clientLoad({ port: anywire.port, era, codec: 'ndjson', text }));
          runs.client_msgpack.push(await clientLoad({ port: anywire.port, era, codec: 'msgpack', text }));
        }
        console.error(
          `  text ${n} B ${era} round ${i + 1}: raw ${runs.ref.at(-1).rps}, raw-batched ${runs.batched.at(-1).rps}, ndjson ${runs.ndjson.at(-1).rps}, msgpack ${runs.msgpack.at(-1).rps}` +
            (withClient
              ? `, client ndjson ${runs.client_ndjson.at(-1).rps}, client msgpack ${runs.client_msgpack.at(-1).rps}`
              : '') +
            ' req/s',
        );
      }
      const rps = Object.fromEntries(
        Object.entries(runs).map(([k, v]) => [k, v.length ? median(v.map((r) => r.rps)) : undefined]),
      );
      const bad = Object.values(runs)
        .flat()
        .reduce((s, r) => s + r.bad, 0);
      const row = {
        text_bytes: n,
        era,
        raw_rps: rps.ref,
        raw_batched_rps: rps.batched,
        ndjson_rps: rps.ndjson,
        msgpack_rps: rps.msgpack,
        ndjson_ratio: +(rps.ndjson / rps.ref).toFixed(3),
        ndjson_ratio_batched: +(rps.ndjson / rps.batched).toFixed(3),
        msgpack_ratio: +(rps.msgpack / rps.ref).toFixed(3),
        msgpack_gain: +(rps.msgpack / rps.ndjson).toFixed(3),
        ndjson_p50_ms: median(runs.ndjson.map((r) => r.p50_ms)),
        msgpack_p50_ms: median(runs.msgpack.map((r) => r.p50_ms)),
        bad,
      };
      if (withClient) {
        row.client_ndjson_rps = rps.client_ndjson;
        row.client_msgpack_rps = rps.client_msgpack;
        row.client_msgpack_gain = +(rps.client_msgpack / rps.client_ndjson).toFixed(3);
      }
      rows.push(row);
    }
  }
} finally {
  for (const s of [raw, rawBatched, anywire]) s.child.kill();
}

console.error(
  `\ntools/call echo over TCP loopback, ${inflight} in flight, median of ${rounds} rounds x ${seconds} s:`,
);
for (const r of rows) {
  console.error(
    `  text ${String(r.text_bytes).padStart(5)} B ${r.era.padEnd(6)}  raw ${r.raw_rps} / batched ${r.raw_batched_rps}  ` +
      `ndjson ${r.ndjson_rps} (x${r.ndjson_ratio} of raw, x${r.ndjson_ratio_batched} of batched)  ` +
      `msgpack ${r.msgpack_rps} (x${r.msgpack_ratio} of raw, x${r.msgpack_gain} of ndjson)` +
      (withClient
        ? `  | anywire Client: ndjson ${r.client_ndjson_rps}, msgpack ${r.client_msgpack_rps} (x${r.client_msgpack_gain})`
        : ''),
  );
}
console.log(JSON.stringify({ inflight, seconds, rounds, micro: microRows, e2e: rows }));
