/**
 * Runs the `anywire` binary as a user would, for the test/cli-*.test.ts files.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import net from 'node:net';
import { BIN, ROOT } from './helpers.js';

/** What a finished run printed and returned. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time in ms. */
  ms: number;
}

/** Runs `anywire args...` to completion (killed after `timeoutMs`, default 60 s). */
export function anywire(
  args: string[],
  options: { env?: Record<string, string>; input?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<RunResult> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

/** A long-running `anywire` (serve, bridge): resolves once stderr matches `ready`. */
export async function start(
  args: string[],
  ready: RegExp,
  options: { env?: Record<string, string>; timeoutMs?: number; stdin?: 'pipe' | 'ignore' } = {},
): Promise<{
  child: ChildProcessWithoutNullStreams;
  match: RegExpExecArray;
  stderr: () => string;
  stop: () => Promise<number | null>;
}> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: [options.stdin ?? 'pipe', 'pipe', 'pipe'],
  }) as ChildProcessWithoutNullStreams;
  let err = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `anywire ${args.join(' ')}: no ${ready} on stderr within ${options.timeoutMs ?? 30_000} ms:\n${err}`,
          ),
        ),
      options.timeoutMs ?? 30_000,
    );
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      const m = ready.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`anywire ${args.join(' ')} exited with ${code} before ${ready}:\n${err}`));
    });
  });
  return {
    child,
    match,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** A port nothing listens on (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
