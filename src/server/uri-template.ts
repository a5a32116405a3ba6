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

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A parsed RFC 6570 template. */
export class UriTemplate {
  readonly template: string;
  readonly variableNames: string[];
  #parts: Part[];
  #re: RegExp | undefined;
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

  /** Matches a concrete URI; returns its variables or `null`. */
  match(uri: string): TemplateVariables | null {
    if (!this.#re) this.#re = this.#compile();
    const m = this.#re.exec(uri);
    if (!m) return null;
    const out: TemplateVariables = {};
    this.#slots.forEach((slot, idx) => {
      const raw = m[idx + 1];
      if (raw === undefined) return;
      if (slot.op === '?' || slot.op === '&') {
        for (const pair of raw.split('&')) {
          if (!pair) continue;
          const eq = pair.indexOf('=');
          const k = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
          const val = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1));
          if (slot.name === k || slot.name === '*') out[k] = val;
        }
        return;
      }
      if (slot.explode) {
        const sep = OPS[slot.op].sep;
        out[slot.name] = raw.split(sep).filter(Boolean).map(decodeURIComponent);
      } else out[slot.name] = decodeURIComponent(raw);
    });
    return out;
  }

  #compile(): RegExp {
    let re = '^';
    for (const part of this.#parts) {
      if (typeof part === 'string') {
        re += escapeRe(part);
        continue;
      }
      if (part.op === '?' || part.op === '&') {
        // One capture for the whole query; named pairs are picked from it.
        re += `(?:${escapeRe(part.op)}([^#]*))?`;
        this.#slots.push({ name: '*', op: part.op, explode: false });
        continue;
      }
      const spec = OPS[part.op];
      const value = spec.reserved ? '[^]*?' : part.op === '/' ? '[^/?#]*' : '[^/?#,.;&]*';
      part.vars.forEach((v, idx) => {
        const lead = idx === 0 ? spec.first : spec.sep;
        const body = v.explode ? `${value}(?:${escapeRe(spec.sep)}${value})*` : value;
        const named = spec.named ? `${escapeRe(v.name)}=?` : '';
        re += `(?:${escapeRe(lead)}${named}(${body}))${part.op === '' || part.op === '+' ? '' : '?'}`;
        this.#slots.push({ name: v.name, op: part.op, explode: v.explode });
      });
    }
    return new RegExp(`${re}$`);
  }
}
