/**
 * The CLI as a full client: answers elicitation (field by field on a terminal, or from
 * `--elicit-json`), offers roots (`--root DIR`), and answers sampling through a command
 * (`--sampling-command CMD`); without one, sampling is refused with a message saying how to enable it.
 * @module
 */
import { spawn } from 'node:child_process';
import { basename, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { pathToFileURL } from 'node:url';
import type { ClientHandlers } from '../client/client.js';
import { ErrorCode, JsonRpcError } from '../jsonrpc/errors.js';
import type {
  CreateMessageParams,
  CreateMessageResult,
  ElicitParams,
  ElicitResult,
  JsonObject,
} from '../protocol/types.js';

/** What the user asked for on the command line. */
export interface ClientFeatureFlags {
  /** Answer every form elicitation with this JSON object. */
  elicitJson?: string;
  /** Directories offered as roots. */
  roots?: string[];
  /** Shell command that answers sampling requests. */
  samplingCommand?: string;
  /** Where prompts are read and written. Default process.stdin / process.stderr. */
  input?: NodeJS.ReadableStream & { isTTY?: boolean };
  output?: NodeJS.WritableStream;
}

type Content = NonNullable<ElicitResult['content']>;

/** Handlers for the flags given; elicitation only when a terminal or `--elicit-json` can answer. */
export function clientHandlers(flags: ClientFeatureFlags): ClientHandlers {
  const input = flags.input ?? process.stdin;
  const output = flags.output ?? process.stderr;
  const handlers: ClientHandlers = {};
  if (flags.elicitJson !== undefined) {
    const answer = JSON.parse(flags.elicitJson) as unknown;
    if (typeof answer !== 'object' || answer === null || Array.isArray(answer))
      throw new Error('anywire: --elicit-json must be a JSON object');
    handlers.elicitation = (params) => {
      if (params.mode === 'url') {
        output.write(`anywire: the server asks you to open ${String(params.url)}\n  ${params.message}\n`);
        return { action: 'accept' };
      }
      const problem = validateContent(answer as Content, params.requestedSchema);
      if (problem)
        throw new JsonRpcError(ErrorCode.InvalidParams, `--elicit-json does not fit the request: ${problem}`);
      return { action: 'accept', content: answer as Content };
    };
  } else if (input.isTTY) {
    handlers.elicitation = (params) => askOnTerminal(params, input, output);
  }
  if (flags.roots?.length) {
    const roots = flags.roots.map((d) => ({
      uri: pathToFileURL(resolve(d)).href,
      name: basename(resolve(d)),
    }));
    handlers.roots = () => roots;
  }
  const cmd = flags.samplingCommand;
  handlers.sampling = cmd
    ? (params) => sampleWith(cmd, params)
    : () => {
        const message =
          'sampling is off in the anywire CLI: pass --sampling-command CMD (CMD reads the request JSON on stdin and prints the reply)';
        output.write(`anywire: the server asked for sampling; ${message}\n`);
        throw new JsonRpcError(ErrorCode.InvalidRequest, message);
      };
  return handlers;
}

/** Runs the sampling command with the request JSON on stdin; its stdout is the reply (text, or a result JSON). */
function sampleWith(command: string, params: CreateMessageParams): Promise<CreateMessageResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, { shell: true, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.once('error', (e) =>
      reject(new JsonRpcError(ErrorCode.InternalError, `--sampling-command failed: ${e.message}`)),
    );
    child.once('close', (code) => {
      if (code !== 0)
        return reject(
          new JsonRpcError(ErrorCode.InternalError, `--sampling-command exited with code ${code}`),
        );
      const text = out.replace(/\n$/, '');
      try {
        const parsed = JSON.parse(text) as JsonObject;
        if (parsed && typeof parsed === 'object' && 'content' in parsed)
          return resolvePromise({ role: 'assistant', model: command, ...parsed } as CreateMessageResult);
      } catch {
        // plain text reply
      }
      resolvePromise({
        role: 'assistant',
        content: { type: 'text', text },
        model: command,
        stopReason: 'endTurn',
      });
    });
    child.stdin.end(JSON.stringify(params));
  });
}

interface Field {
  type?: string;
  title?: string;
  description?: string;
  default?: unknown;
  enum?: string[];
  enumNames?: string[];
  oneOf?: { const: string; title?: string }[];
  items?: { enum?: string[]; anyOf?: { const: string; title?: string }[] };
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  format?: string;
}

function choices(f: Field): { value: string; label: string }[] | undefined {
  const fromConsts = (l?: { const: string; title?: string }[]) =>
    l?.map((c) => ({ value: c.const, label: c.title ?? c.const }));
  if (f.type === 'array')
    return f.items?.enum?.map((v) => ({ value: v, label: v })) ?? fromConsts(f.items?.anyOf);
  return f.enum?.map((v, i) => ({ value: v, label: f.enumNames?.[i] ?? v })) ?? fromConsts(f.oneOf);
}

/**
 * Reads one field's answer from text; returns the value or a problem to show.
 * Empty text gives the default (or `undefined`).
 */
export function readField(
  f: Field,
  text: string,
): { value?: string | number | boolean | string[]; problem?: string } {
  const t = text.trim();
  if (t === '') return { value: f.default as string | number | boolean | string[] | undefined };
  const options = choices(f);
  const pick = (s: string) => {
    const n = Number(s);
    if (options && Number.isInteger(n) && n >= 1 && n <= options.length) return options[n - 1]!.value;
    return options?.find((o) => o.value === s || o.label === s)?.value;
  };
  if (f.type === 'array') {
    const values = t.split(',').map((s) => pick(s.trim()));
    if (values.some((v) => v === undefined))
      return { problem: 'choose from the list (numbers or values, comma-separated)' };
    return { value: values as string[] };
  }
  if (options) {
    const v = pick(t);
    return v === undefined ? { problem: 'choose one of the listed values' } : { value: v };
  }
  if (f.type === 'boolean') {
    if (/^(y|yes|true)$/i.test(t)) return { value: true };
    if (/^(n|no|false)$/i.test(t)) return { value: false };
    return { problem: 'answer y or n' };
  }
  if (f.type === 'number' || f.type === 'integer') {
    const n = Number(t);
    if (Number.isNaN(n)) return { problem: 'expected a number' };
    if (f.type === 'integer' && !Number.isInteger(n)) return { problem: 'expected a whole number' };
    if (f.minimum !== undefined && n < f.minimum) return { problem: `at least ${f.minimum}` };
    if (f.maximum !== undefined && n > f.maximum) return { problem: `at most ${f.maximum}` };
    return { value: n };
  }
  if (f.minLength !== undefined && t.length < f.minLength)
    return { problem: `at least ${f.minLength} characters` };
  if (f.maxLength !== undefined && t.length > f.maxLength)
    return { problem: `at most ${f.maxLength} characters` };
  if (f.format === 'email' && !/^[^@\s]+@[^@\s]+$/.test(t)) return { problem: 'expected an email address' };
  if (f.format === 'uri' && !URL.canParse(t)) return { problem: 'expected a URI' };
  if (f.format === 'date' && !/^\d{4}-\d{2}-\d{2}$/.test(t))
    return { problem: 'expected a date (YYYY-MM-DD)' };
  return { value: t };
}

/** Checks content against a requested schema: required fields present, each value readable. */
export function validateContent(content: Content, schema: JsonObject): string | undefined {
  const props = (schema.properties ?? {}) as Record<string, Field>;
  for (const name of (schema.required as string[] | undefined) ?? [])
    if (!Object.hasOwn(content, name)) return `"${name}" is required`;
  for (const [name, value] of Object.entries(content)) {
    const f = Object.hasOwn(props, name) ? props[name] : undefined;
    if (!f) return `"${name}" is not in the requested schema`;
    const text = Array.isArray(value) ? value.join(',') : String(value);
    const r = readField(f, text);
    if (r.problem) return `"${name}": ${r.problem}`;
  }
  return undefined;
}

async function askOnTerminal(
  params: ElicitParams,
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
): Promise<ElicitResult> {
  const rl = createInterface({ input, output, terminal: true });
  let ended = false;
  rl.once('close', () => (ended = true));
  const ask = async (q: string): Promise<string | undefined> => {
    if (ended) return undefined;
    try {
      return await rl.question(q);
    } catch {
      return undefined;
    }
  };
  try {
    output.write(`\nThe server asks: ${params.message}\n`);
    if (params.mode === 'url') {
      output.write(`Open this URL to continue: ${String(params.url)}\n`);
      const a = await ask('Opened it? [Y/n] ');
      if (a === undefined) return { action: 'cancel' };
      return { action: /^n/i.test(a.trim()) ? 'decline' : 'accept' };
    }
    const schema = params.requestedSchema;
    const props = (schema.properties ?? {}) as Record<string, Field>;
    const required = new Set((schema.required as string[] | undefined) ?? []);
    const content: Content = {};
    for (const [name, f] of Object.entries(props)) {
      const options = choices(f);
      if (options) output.write(`${options.map((o, i) => `  ${i + 1}) ${o.label}`).join('\n')}\n`);
      const kind = options
        ? f.type === 'array'
          ? 'choose, comma-separated'
          : 'choose'
        : f.type === 'boolean'
          ? 'y/n'
          : (f.type ?? 'string');
      const dflt =
        f.default !== undefined
          ? ` [${Array.isArray(f.default) ? f.default.join(',') : String(f.default)}]`
          : '';
      const label = `${f.title ?? name}${f.description ? ` (${f.description})` : ''}`;
      for (;;) {
        const answer = await ask(`${label}${required.has(name) ? '' : ' (optional)'} <${kind}>${dflt}: `);
        if (answer === undefined) return { action: 'cancel' };
        const r = readField(f, answer);
        if (r.problem) {
          output.write(`  ${r.problem}\n`);
          continue;
        }
        if (r.value === undefined && required.has(name)) {
          output.write('  required\n');
          continue;
        }
        if (r.value !== undefined) content[name] = r.value;
        break;
      }
    }
    const confirm = await ask('Send? [Y/n/c] ');
    if (confirm === undefined || /^c/i.test(confirm.trim())) return { action: 'cancel' };
    if (/^n/i.test(confirm.trim())) return { action: 'decline' };
    return { action: 'accept', content };
  } finally {
    rl.close();
  }
}
