/**
 * The stdio binding, client side: spawns an MCP server as a child process with an allow-listed
 * environment, talks newline-delimited JSON-RPC over its stdin/stdout, forwards or captures its
 * stderr, and shuts it down as the spec says: close stdin, wait, SIGTERM, wait, SIGKILL
 * (2025-11-25 basic/lifecycle "Shutdown"; 2026-07-28 basic/transports/stdio).
 * @module
 */

import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { ErrorCode } from '../../jsonrpc/errors.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../jsonrpc/framing.js';
import type { JsonRpcMessage } from '../../jsonrpc/types.js';
import { McpError } from '../../protocol/errors.js';
import type { MessageContext, Transport } from '../../protocol/transport.js';
import { createLineReader } from '../shared/line-reader.js';
import { LineWriter } from '../shared/line-writer.js';
import { checkNumbers } from '../shared/options.js';

/** Environment variables a child inherits by default; everything else must be passed in `env`. */
export const DEFAULT_INHERITED_ENV_VARS: readonly string[] =
  process.platform === 'win32'
    ? [
        'APPDATA',
        'HOMEDRIVE',
        'HOMEPATH',
        'LOCALAPPDATA',
        'PATH',
        'PROCESSOR_ARCHITECTURE',
        'SYSTEMDRIVE',
        'SYSTEMROOT',
        'TEMP',
        'USERNAME',
        'USERPROFILE',
        'PROGRAMFILES',
      ]
    : ['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER', 'TMPDIR', 'LANG', 'LC_ALL', 'TZ'];

/** The allow-listed part of the current environment. */
export function getDefaultEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of DEFAULT_INHERITED_ENV_VARS) {
    const v = process.env[k];
    if (v !== undefined && !v.startsWith('()')) env[k] = v; // skip exported shell functions
  }
  return env;
}

/** How to start the server. */
export interface StdioServerParameters {
  /** Executable to run. */
  command: string;
  args?: string[];
  /** Extra environment, merged over the allow-listed defaults. */
  env?: Record<string, string>;
  /** Replace the allow-list: inherit these names from `process.env` instead. */
  inheritEnv?: readonly string[];
  cwd?: string;
  /** What to do with the child's stderr: forward to ours (`inherit`, default), capture (`pipe`), or drop (`ignore`). */
  stderr?: 'inherit' | 'pipe' | 'ignore';
  /** Longest accepted line from the child in bytes. Default 4 MiB. */
  maxMessageBytes?: number;
  /** Time in ms to wait after closing stdin, and again after SIGTERM, before escalating. Default 2000. */
  closeTimeoutMs?: number;
}

const CONTEXT: MessageContext = Object.freeze({ binding: 'stdio' });

/** A client connection to a spawned stdio server. */
export class StdioClientTransport implements Transport {
  readonly binding = 'stdio';
  onmessage?: (message: JsonRpcMessage | JsonRpcMessage[], context: MessageContext) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  readonly params: StdioServerParameters;
  #child: ChildProcess | undefined;
  #writer: LineWriter | undefined;
  #closed = false;
  #exited: Promise<void> | undefined;
  #closing = false;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  /** @throws RangeError naming a numeric option out of range */
  constructor(params: StdioServerParameters) {
    checkNumbers({
      maxMessageBytes: [params.maxMessageBytes, { min: 1 }],
      closeTimeoutMs: [params.closeTimeoutMs, { min: 0 }],
    });
    this.params = params;
  }

  /** The child's process id, once started. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** How the child ended (exit code or signal), once it has. */
  get exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.#exit;
  }

  /** The child's stderr when `stderr: 'pipe'`. */
  get stderr(): Readable | null {
    return this.#child?.stderr ?? null;
  }

  /**
   * Spawns the child.
   * @throws McpError `SPAWN_FAILED` when the command cannot be started
   */
  start(): Promise<void> {
    if (this.#child) throw new Error('anywire: StdioClientTransport already started');
    const p = this.params;
    const base: Record<string, string> = {};
    if (p.inheritEnv) {
      for (const k of p.inheritEnv) if (process.env[k] !== undefined) base[k] = process.env[k]!;
    } else Object.assign(base, getDefaultEnvironment());
    const child = spawn(p.command, p.args ?? [], {
      env: { ...base, ...p.env },
      cwd: p.cwd,
      stdio: ['pipe', 'pipe', p.stderr ?? 'inherit'],
      shell: false,
      windowsHide: true,
    });
    this.#child = child;
    const decoder = createLineReader({
      maxMessageBytes: p.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      onmessage: (m) => this.onmessage?.(m, CONTEXT),
      oninvalid: (response, line) =>
        this.onerror?.(
          new McpError(
            'PROTOCOL_ERROR',
            response.error.code === ErrorCode.ParseError && line !== undefined
              ? `server wrote non-JSON to stdout: ${Buffer.from(line).subarray(0, 80).toString()}`
              : `ignored a line from the server that is not JSON-RPC (${response.error.message})${line ? `: ${line.slice(0, 200)}` : ''}`,
          ),
        ),
    });
    child.stdout!.on('data', (chunk: Buffer) => decoder.push(chunk));
    child.stdin!.on('error', (e) => this.onerror?.(e));
    this.#writer = new LineWriter(child.stdin!);
    this.#exited = new Promise((resolve) => child.once('close', () => resolve()));
    child.once('close', (code, signal) => {
      this.#exit = { code, signal };
      // An exit nobody asked for is worth a word: the caller sees why its requests failed.
      if (!this.#closing && !this.#closed)
        this.onerror?.(
          new McpError('SPAWN_FAILED', `the server exited ${signal ? `on ${signal}` : `with code ${code}`}`),
        );
      this.#finish();
    });
    return new Promise((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (e) => {
        const err = new McpError('SPAWN_FAILED', `could not start ${p.command}: ${e.message}`, { cause: e });
        this.onerror?.(err);
        reject(err);
        this.#finish();
      });
    });
  }

  send(message: JsonRpcMessage | JsonRpcMessage[]): Promise<void> {
    if (this.#closed || !this.#writer)
      return Promise.reject(new McpError('NOT_CONNECTED', 'the stdio server is not running'));
    return this.#writer.send(message);
  }

  /** Ends the child: close stdin, then SIGTERM, then SIGKILL, each after `closeTimeoutMs`. Idempotent. */
  async close(): Promise<void> {
    const child = this.#child;
    if (!child || this.#closed) return;
    this.#closing = true;
    this.#writer?.flushNow();
    const wait = (ms: number) =>
      Promise.race([
        this.#exited!.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref()),
      ]);
    const ms = this.params.closeTimeoutMs ?? 2000;
    child.stdin?.end();
    if (child.exitCode === null && child.signalCode === null) {
      if (!(await wait(ms))) {
        child.kill('SIGTERM');
        if (!(await wait(ms))) {
          child.kill('SIGKILL');
          await wait(ms);
        }
      }
    }
    this.#finish();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#writer?.close();
    this.onclose?.();
  }
}
