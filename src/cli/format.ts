/**
 * Human output of the CLI: results as text, a live progress bar on a terminal.
 * @module
 */
import type {
  CallToolResult,
  CompleteResult,
  ContentBlock,
  GetPromptResult,
  Prompt,
  ReadResourceResult,
  Resource,
  ResourceContents,
  ResourceTemplateInfo,
  Tool,
} from '../protocol/types.js';

function base64Bytes(b64: string): number {
  return Math.floor((b64.length * 3) / 4) - (b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0);
}

function contents(c: ResourceContents): string {
  if ('text' in c) return c.text;
  return `[resource ${c.uri}${c.mimeType ? ` ${c.mimeType}` : ''}, ${base64Bytes(c.blob)} bytes]`;
}

/** One content block as text. */
export function formatContent(block: ContentBlock): string {
  switch (block.type) {
    case 'text':
      return block.text;
    case 'image':
    case 'audio':
      return `[${block.type} ${block.mimeType}, ${base64Bytes(block.data)} bytes]`;
    case 'resource_link':
      return `[resource link ${block.uri}${block.name ? ` (${block.name})` : ''}]`;
    case 'resource':
      return contents(block.resource);
    default:
      return JSON.stringify(block);
  }
}

/** A tool result as text. */
export function formatToolResult(r: CallToolResult): string {
  const parts = (r.content ?? []).map(formatContent);
  if (parts.length === 0 && r.structuredContent !== undefined)
    parts.push(JSON.stringify(r.structuredContent, null, 2));
  return parts.join('\n');
}

/** A read result as text. */
export function formatReadResult(r: ReadResourceResult): string {
  return r.contents.map(contents).join('\n');
}

function table(rows: [string, string][]): string {
  const width = Math.max(0, ...rows.map((r) => r[0].length)); // every name fits: columns align
  return rows.map(([a, b]) => (b ? `${a.padEnd(width)}  ${b}` : a)).join('\n');
}

const firstLine = (s: string | undefined) => (s ?? '').split('\n')[0]!.trim();

/** A list of tools, resources, resource templates or prompts as aligned lines. */
export function formatList(
  kind: 'tools' | 'resources' | 'templates' | 'prompts',
  items: (Tool | Resource | ResourceTemplateInfo | Prompt)[],
): string {
  if (items.length === 0) return `(no ${kind === 'templates' ? 'resource templates' : kind})`;
  if (kind === 'resources') return table((items as Resource[]).map((r) => [r.uri, r.title ?? r.name]));
  if (kind === 'templates')
    return table((items as ResourceTemplateInfo[]).map((r) => [r.uriTemplate, r.title ?? r.name]));
  return table((items as (Tool | Prompt)[]).map((t) => [t.name, firstLine(t.description ?? t.title)]));
}

/** A rendered prompt: each message as `role:` and its content. */
export function formatPrompt(r: GetPromptResult): string {
  return r.messages.map((m) => `${m.role}: ${formatContent(m.content)}`).join('\n');
}

/** Completion values, one per line, and a note when there are more. */
export function formatCompletion(r: CompleteResult): string {
  const { values, total, hasMore } = r.completion;
  const lines = values.length ? [...values] : ['(no completions)'];
  if (hasMore || (total !== undefined && total > values.length))
    lines.push(`(${total !== undefined ? `${total} in all` : 'more available'})`);
  return lines.join('\n');
}

/** A server log notification as one stderr line: `[level] logger: data`. */
export function formatLog(p: { level: string; logger?: string; data: unknown }): string {
  const data = typeof p.data === 'string' ? p.data : JSON.stringify(p.data);
  return `[${p.level}]${p.logger ? ` ${p.logger}:` : ''} ${data}`;
}

/** Draws a progress line on a terminal stream; `done()` clears it. */
export function progressBar(stream: NodeJS.WriteStream): {
  update(p: { progress: number; total?: number; message?: string }): void;
  done(): void;
} {
  let drawn = false;
  return {
    update({ progress, total, message }) {
      const width = 24;
      let line: string;
      if (total && total > 0) {
        const frac = Math.max(0, Math.min(1, progress / total));
        const fill = Math.round(frac * width);
        line = `[${'#'.repeat(fill)}${' '.repeat(width - fill)}] ${Math.round(frac * 100)}% ${progress}/${total}`;
      } else line = `progress ${progress}`;
      if (message) line += ` ${message}`;
      stream.write(`\r\x1b[2K${line.slice(0, (stream.columns || 80) - 1)}`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\r\x1b[2K');
      drawn = false;
    },
  };
}
