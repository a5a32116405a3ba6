/**
 * Trickled input over real TCP: two connections each send a 1 MiB line one byte per write. The
 * server runs in a child process (with --expose-gc) and reports its RSS after full collections; the
 * framing holds each incomplete line in blocks, so RSS at the peak and after the connections close
 * stays within a stated bound of the baseline (before the fix it went from 112 to 503 MiB and stayed).
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { expect, it } from 'vitest';
import { ROOT } from './helpers.js';

const MiB = 1024 * 1024;
/** How far above its baseline the server's RSS may be, at the peak and after the connections close. */
const PEAK_BOUND_BYTES = 96 * MiB;
const AFTER_BOUND_BYTES = 48 * MiB;
/** How long the two trickled lines may take on a busy machine (about 10 s on an idle one). */
const TRICKLE_TIMEOUT_MS = 150_000;

it('two connections trickling a 1 MiB line: server RSS stays within bounds and comes back', async () => {
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', `${ROOT}test/fixtures/trickle-server.ts`],
    {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  try {
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const next = async (what: string): Promise<any> => {
      const timer = setTimeout(() => child.kill(), 60_000);
      const r = await lines.next();
      clearTimeout(timer);
      if (r.done)
        throw new Error(`no ${what} from the trickle server within 60 s (it was stopped, or it exited)`);
      return JSON.parse(r.value);
    };
    const mem = async () => {
      child.stdin!.write('mem\n');
      return (await next('its memory report')) as { rss: number; heapUsed: number; peak: number };
    };
    const { port } = (await next('its port')) as { port: number };
    const base = await mem();

    const line = Buffer.from(
      `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'p'.repeat(MiB) } })}\n`,
    );
    const trickle = () =>
      new Promise<string>((resolve, reject) => {
        const socket = connect({ port, host: '127.0.0.1', noDelay: true });
        let answer = '';
        socket.on('data', (d) => {
          answer += d.toString();
          if (answer.includes('\n')) {
            socket.end();
            resolve(answer);
          }
        });
        socket.on('error', reject);
        socket.on('connect', async () => {
          for (let i = 0; i < line.length; i++) {
            // One byte per write; yield now and then so the server reads small chunks.
            if (!socket.write(line.subarray(i, i + 1)) || (i & 0x3ff) === 0) {
              await new Promise((r) => setImmediate(r));
            }
          }
        });
      });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answers = await Promise.race([
      Promise.all([trickle(), trickle()]),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(`the two trickled 1 MiB lines were not answered within ${TRICKLE_TIMEOUT_MS} ms`),
            ),
          TRICKLE_TIMEOUT_MS,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    for (const a of answers) expect(JSON.parse(a)).toMatchObject({ id: 1, result: {} });
    const after = await mem();
    const report = {
      baseMiB: +(base.rss / MiB).toFixed(1),
      peakMiB: +(after.peak / MiB).toFixed(1),
      afterMiB: +(after.rss / MiB).toFixed(1),
    };
    console.log('trickled TCP, server RSS:', report);
    expect(after.peak - base.rss, `peak RSS over baseline ${JSON.stringify(report)}`).toBeLessThan(
      PEAK_BOUND_BYTES,
    );
    expect(after.rss - base.rss, `RSS after close over baseline ${JSON.stringify(report)}`).toBeLessThan(
      AFTER_BOUND_BYTES,
    );
  } finally {
    child.stdin!.end();
    child.kill();
  }
}, 180_000);
