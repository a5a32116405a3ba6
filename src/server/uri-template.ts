/**
 * RFC 6570 URI templates for MCP resource templates (server/resources "Resource Templates"):
 * expansion (levels 1-4) and matching of a concrete URI back to variables (levels 1-3, plus
 * exploded query and path segments). Pure.
 * @module
 */

type Op = '' | '+' | '#' | '.' | '/' | ';' | '?' | '&';
interface VarSpec {
  name: string;
  explode: boolean;
  prefix?: number;
}
type Part = string | { op: Op; vars: VarSpec[] };

const OPS: Record<Op, { first: string; sep: string; named: boolean; ifemp: string; reserved: boolean }> = {
  '': { first: '', sep: ',', named: false, ifemp: '', reserved: false },
  '+': { first: '', sep: ',', named: false, ifemp: '', reserved: true },
  '#': { first: '#', sep: ',', named: false, ifemp: '', reserved: true },
  '.': { first: '.', sep: '.', named: false, ifemp: '', reserved: false },
  '/': { first: '/', sep: '/', named: false, ifemp: '', reserved: false },
  ';': { first: ';', sep: ';', named: true, ifemp: '', reserved: false },
  '?': { first: '?', sep: '&', named: true, ifemp: '=', reserved: false },
  '&': { first: '&', sep: '&', named: true, ifemp: '=', reserved: false },
};

/** Variables of a matched or expanded template. */
export type TemplateVariables = Record<string, string | string[]>;

function encode(value: string, reserved: boolean): string {
  return reserved
    ? encodeURI(value).replace(/%25([0-9A-Fa-f]{2})/g, '%$1')
    : encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A parsed RFC 6570 template. */
export class UriTemplate {
  readonly template: string;
  readonly variableNames: string[];
  #parts: Part[];
  #program: Inst[] | undefined;
  #lastSteps = 0;
  #slots: { name: string; op: Op; explode: boolean }[] = [];

  /** @throws TypeError on an unterminated expression or an empty variable name */
  constructor(template: string) {
    this.template = template;
    this.#parts = [];
    let i = 0;
    while (i < template.length) {
      const open = template.indexOf('{', i);
      if (open === -1) {
        this.#parts.push(template.slice(i));
        break;
      }
      if (open > i) this.#parts.push(template.slice(i, open));
      const close = template.indexOf('}', open);
      if (close === -1) throw new TypeError(`anywire: unterminated expression in URI template "${template}"`);
      let body = template.slice(open + 1, close);
      let op: Op = '';
      if ('+#./;?&'.includes(body[0] ?? '')) {
        op = body[0] as Op;
        body = body.slice(1);
      }
      const vars = body.split(',').map((v): VarSpec => {
        const explode = v.endsWith('*');
        const [name = '', prefix] = (explode ? v.slice(0, -1) : v).split(':');
        if (!name) throw new TypeError(`anywire: empty variable name in URI template "${template}"`);
        return prefix ? { name, explode, prefix: Number(prefix) } : { name, explode };
      });
      this.#parts.push({ op, vars });
      i = close + 1;
    }
    this.variableNames = this.#parts.flatMap((p) => (typeof p === 'string' ? [] : p.vars.map((v) => v.name)));
  }

  /** Expands the template with `variables` (undefined ones are skipped, per RFC 6570). */
  expand(variables: Record<string, string | number | boolean | string[] | undefined>): string {
    let out = '';
    for (const part of this.#parts) {
      if (typeof part === 'string') {
        out += part;
        continue;
      }
      const spec = OPS[part.op];
      const pieces: string[] = [];
      for (const v of part.vars) {
        const raw = variables[v.name];
        if (raw === undefined) continue;
        if (Array.isArray(raw)) {
          if (raw.length === 0) continue;
          const items = raw.map((x) => encode(String(x), spec.reserved));
          if (v.explode) pieces.push(items.map((x) => (spec.named ? `${v.name}=${x}` : x)).join(spec.sep));
          else pieces.push((spec.named ? `${v.name}=` : '') + items.join(','));
        } else {
          let s = String(raw);
          if (v.prefix) s = s.slice(0, v.prefix);
          const e = encode(s, spec.reserved);
          pieces.push(spec.named ? (e === '' ? `${v.name}${spec.ifemp}` : `${v.name}=${e}`) : e);
        }
      }
      if (pieces.length) out += spec.first + pieces.join(spec.sep);
    }
    return out;
  }

  /**
   * Matches a concrete URI; returns its variables or `null`. Runs in time linear in the URI's length
   * for every template (a Pike VM over the template's pattern, never a backtracking regular
   * expression): at most {@link UriTemplate.stepsBound} steps. Never throws (a malformed
   * percent-escape is kept as written).
   */
  match(uri: string): TemplateVariables | null {
    const program = (this.#program ??= this.#compile());
    const r = runProgram(program, uri, 2 * this.#slots.length);
    this.#lastSteps = r.steps;
    if (!r.caps) return null;
    const caps = r.caps;
    const out: TemplateVariables = Object.create(null) as TemplateVariables;
    this.#slots.forEach((slot, idx) => {
      const start = caps[2 * idx];
      const end = caps[2 * idx + 1];
      if (start === undefined || end === undefined) return;
      const raw = uri.slice(start, end);
      if (slot.op === '?' || slot.op === '&') {
        for (const pair of raw.split('&')) {
          if (!pair) continue;
          const eq = pair.indexOf('=');
          const k = decode(eq < 0 ? pair : pair.slice(0, eq));
          const val = eq < 0 ? '' : decode(pair.slice(eq + 1));
          if (slot.name === k || slot.name === '*') out[k] = val;
        }
        return;
      }
      if (slot.explode) {
        const sep = OPS[slot.op].sep;
        out[slot.name] = raw.split(sep).filter(Boolean).map(decode);
      } else out[slot.name] = decode(raw);
    });
    return { ...out };
  }

  /** Steps the last {@link match} took (threads run and followed): the measure of its cost. */
  get lastMatchSteps(): number {
    return this.#lastSteps;
  }

  /** The most steps a match of a `length`-character URI can take with this template. */
  stepsBound(length: number): number {
    const program = (this.#program ??= this.#compile());
    return 4 * (length + 1) * (program.length + 1);
  }

  #compile(): Inst[] {
    const b = new ProgramBuilder();
    for (const part of this.#parts) {
      if (typeof part === 'string') {
        b.literal(part);
        continue;
      }
      if (part.op === '?' || part.op === '&') {
        // One capture for the whole query; named pairs are picked from it.
        const slot = this.#slots.length;
        this.#slots.push({ name: '*', op: part.op, explode: false });
        b.optional(() => {
          b.literal(part.op);
          b.save(2 * slot);
          b.star(NOT_FRAGMENT, false);
          b.save(2 * slot + 1);
        });
        continue;
      }
      const spec = OPS[part.op];
      // A simple `{var}` value may hold `.`, `;`, `&` and `=` (an e-mail address, a file name), as
      // its expansion does; the `.` and `;` operators split on their separators.
      const value: CharClass = spec.reserved
        ? ANY
        : part.op === '/'
          ? NOT_SEGMENT
          : part.op === ''
            ? NOT_SEGMENT_OR_LIST
            : NOT_DELIMITER;
      const lazy = spec.reserved;
      part.vars.forEach((v, idx) => {
        const lead = idx === 0 ? spec.first : spec.sep;
        const slot = this.#slots.length;
        this.#slots.push({ name: v.name, op: part.op, explode: v.explode });
        const body = () => {
          b.literal(lead);
          if (spec.named) {
            b.literal(v.name);
            b.optional(() => b.literal('='));
          }
          b.save(2 * slot);
          b.star(value, lazy);
          if (v.explode) {
            b.starGroup(() => {
              b.literal(spec.sep);
              b.star(value, lazy);
            });
          }
          b.save(2 * slot + 1);
        };
        if (part.op === '' || part.op === '+') body();
        else b.optional(body);
      });
    }
    b.match();
    return b.program;
  }
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

// ---------------------------------------------------------------------------------------------
// A Pike VM (Thompson NFA simulation with captures): leftmost-first, greedy and lazy stars, as a
// backtracking engine would choose, in O(URI length x program length) steps.

/** Characters a value may hold: any, or any but those listed. */
type CharClass = { any: true } | { any: false; not: string };
const ANY: CharClass = { any: true };
const NOT_SEGMENT: CharClass = { any: false, not: '/?#' };
const NOT_SEGMENT_OR_LIST: CharClass = { any: false, not: '/?#,' };
const NOT_DELIMITER: CharClass = { any: false, not: '/?#,.;&' };
const NOT_FRAGMENT: CharClass = { any: false, not: '#' };

type Inst =
  | { k: 'char'; c: number }
  | { k: 'class'; cls: CharClass }
  | { k: 'split'; x: number; y: number }
  | { k: 'jmp'; x: number }
  | { k: 'save'; n: number }
  | { k: 'match' };

class ProgramBuilder {
  readonly program: Inst[] = [];

  literal(s: string): void {
    for (let i = 0; i < s.length; i++) this.program.push({ k: 'char', c: s.charCodeAt(i) });
  }

  save(n: number): void {
    this.program.push({ k: 'save', n });
  }

  match(): void {
    this.program.push({ k: 'match' });
  }

  /** `cls*` (or `cls*?` when lazy). */
  star(cls: CharClass, lazy: boolean): void {
    this.starGroup(() => this.program.push({ k: 'class', cls }), lazy);
  }

  /** `(?:body)*` (or `*?` when lazy); `body` never matches the empty string. */
  starGroup(body: () => void, lazy = false): void {
    const at = this.program.length;
    const split: Inst & { k: 'split' } = { k: 'split', x: at + 1, y: -1 };
    this.program.push(split);
    body();
    this.program.push({ k: 'jmp', x: at });
    const after = this.program.length;
    if (lazy) {
      split.x = after;
      split.y = at + 1;
    } else split.y = after;
  }

  /** `(?:body)?`, greedy. */
  optional(body: () => void): void {
    const split: Inst & { k: 'split' } = { k: 'split', x: this.program.length + 1, y: -1 };
    this.program.push(split);
    body();
    split.y = this.program.length;
  }
}

interface Thread {
  pc: number;
  caps: (number | undefined)[];
}

/** Runs `program` anchored at both ends of `input`; the captures of the first-priority match. */
function runProgram(
  program: Inst[],
  input: string,
  capCount: number,
): { caps: (number | undefined)[] | undefined; steps: number } {
  let steps = 0;
  const seen = new Int32Array(program.length).fill(-1);
  let generation = 0;
  const add = (list: Thread[], pc: number, caps: (number | undefined)[], pos: number): void => {
    steps++;
    if (seen[pc] === generation) return;
    seen[pc] = generation;
    const inst = program[pc]!;
    switch (inst.k) {
      case 'jmp':
        add(list, inst.x, caps, pos);
        return;
      case 'split':
        add(list, inst.x, caps, pos);
        add(list, inst.y, caps, pos);
        return;
      case 'save': {
        const next = caps.slice();
        next[inst.n] = pos;
        add(list, pc + 1, next, pos);
        return;
      }
      default:
        list.push({ pc, caps });
    }
  };
  let current: Thread[] = [];
  add(current, 0, new Array<number | undefined>(capCount), 0);
  for (let pos = 0; ; pos++) {
    generation++;
    const next: Thread[] = [];
    const code = pos < input.length ? input.charCodeAt(pos) : -1;
    for (const t of current) {
      steps++;
      const inst = program[t.pc]!;
      if (inst.k === 'match') {
        // Anchored at the end: only a match at the end counts; it beats every lower-priority thread.
        if (code === -1) return { caps: t.caps, steps };
        continue;
      }
      if (code === -1) continue;
      if (inst.k === 'char' ? inst.c === code : inst.k === 'class' && accepts(inst.cls, code)) {
        add(next, t.pc + 1, t.caps, pos + 1);
      }
    }
    if (next.length === 0 || code === -1) return { caps: undefined, steps };
    current = next;
  }
}

function accepts(cls: CharClass, code: number): boolean {
  return cls.any || !cls.not.includes(String.fromCharCode(code));
}
