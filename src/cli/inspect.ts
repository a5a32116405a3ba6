/**
 * `anywire inspect <target>`: one screen about a server: its info, era and protocol version,
 * capabilities, instructions, tools (input schemas summarized), resources, resource templates,
 * prompts and extensions; `--json` gives the same as one JSON object.
 * @module
 */
import type { Client } from '../client/client.js';
import type { JsonObject, Prompt, Resource, ResourceTemplateInfo, Tool } from '../protocol/types.js';
import type { ClientCommandOptions } from './commands.js';
import { withClient } from './commands.js';
import type { Target } from './target.js';

/** What `inspect` gathers. */
export interface Inspection {
  server: { name?: string; version?: string; title?: string };
  era: 'modern' | 'legacy' | undefined;
  protocolVersion: string | undefined;
  capabilities: JsonObject;
  instructions?: string;
  tools: Tool[];
  resources: Resource[];
  resourceTemplates: ResourceTemplateInfo[];
  prompts: Prompt[];
  extensions: JsonObject;
  /** Lists the server declared but failed to give, with the error. */
  errors: Record<string, string>;
}

/** Gathers everything `inspect` shows from a connected client. */
export async function inspectClient(client: Client): Promise<Inspection> {
  const caps = client.serverCapabilities;
  const errors: Record<string, string> = {};
  const get = async <T>(what: string, declared: unknown, list: () => Promise<T[]>): Promise<T[]> => {
    if (!declared) return [];
    try {
      return await list();
    } catch (e) {
      errors[what] = (e as Error).message.replace(/^anywire: /, '');
      return [];
    }
  };
  const info = client.serverInfo as { name?: string; version?: string; title?: string } | undefined;
  return {
    server: { name: info?.name, version: info?.version, ...(info?.title ? { title: info.title } : {}) },
    era: client.era,
    protocolVersion: client.protocolVersion,
    capabilities: caps as JsonObject,
    ...(client.instructions ? { instructions: client.instructions } : {}),
    tools: await get('tools', caps.tools, () => client.listTools()),
    resources: await get('resources', caps.resources, () => client.listResources()),
    resourceTemplates: await get('resourceTemplates', caps.resources, () => client.listResourceTemplates()),
    prompts: await get('prompts', caps.prompts, () => client.listPrompts()),
    extensions: (caps.extensions ?? {}) as JsonObject,
    errors,
  };
}

/** A JSON schema as a short type: `string`, `number[]`, `"a"|"b"`, `{x, y}`. */
export function schemaType(s: JsonObject | undefined): string {
  if (!s) return 'any';
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join('|');
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (typeof s.$ref === 'string') return s.$ref.split('/').pop()!;
  const union = (s.anyOf ?? s.oneOf) as JsonObject[] | undefined;
  if (Array.isArray(union)) return union.map((u) => schemaType(u)).join('|');
  const type = Array.isArray(s.type) ? (s.type as string[]).join('|') : (s.type as string | undefined);
  if (type === 'array') return `${schemaType(s.items as JsonObject | undefined)}[]`;
  if (type === 'object' && s.properties) return `{${Object.keys(s.properties as JsonObject).join(', ')}}`;
  return type ?? 'any';
}

/** A tool's input schema as a signature: `(a: number, b?: string[])`. */
export function summarizeSchema(schema: JsonObject | undefined): string {
  const props = (schema?.properties ?? {}) as Record<string, JsonObject>;
  const required = new Set((schema?.required as string[] | undefined) ?? []);
  const parts = Object.entries(props).map(([k, v]) => `${k}${required.has(k) ? '' : '?'}: ${schemaType(v)}`);
  return `(${parts.join(', ')})`;
}

const firstLine = (s: string | undefined) => (s ?? '').split('\n')[0]!.trim();

function section(title: string, lines: string[], empty: string): string {
  return `${title}\n${lines.length ? lines.map((l) => `  ${l}`).join('\n') : `  ${empty}`}`;
}

/** The inspection as one screen of text. */
export function formatInspection(i: Inspection): string {
  const caps = Object.entries(i.capabilities)
    .filter(([k]) => k !== 'extensions')
    .map(([k, v]) => {
      const flags = v && typeof v === 'object' ? Object.keys(v).filter((f) => (v as JsonObject)[f]) : [];
      return flags.length ? `${k} (${flags.join(', ')})` : k;
    });
  const out = [
    `${i.server.title ?? i.server.name ?? '(unnamed server)'} ${i.server.version ?? ''}`.trim(),
    `  era        ${i.era ?? '?'} (protocol ${i.protocolVersion ?? '?'})`,
    `  capabilities ${caps.length ? caps.join(', ') : '(none)'}`,
  ];
  if (i.instructions) out.push(`  instructions ${firstLine(i.instructions)}`);
  out.push(
    section(
      `tools (${i.tools.length})`,
      i.tools.map(
        (t) =>
          `${t.name}${summarizeSchema(t.inputSchema as JsonObject)}${t.description ? `  ${firstLine(t.description)}` : ''}`,
      ),
      i.capabilities.tools ? '(none)' : '(not offered)',
    ),
    section(
      `resources (${i.resources.length})`,
      i.resources.map((r) => `${r.uri}  ${r.title ?? r.name}`),
      i.capabilities.resources ? '(none)' : '(not offered)',
    ),
    section(
      `resource templates (${i.resourceTemplates.length})`,
      i.resourceTemplates.map((r) => `${r.uriTemplate}  ${r.title ?? r.name}`),
      i.capabilities.resources ? '(none)' : '(not offered)',
    ),
    section(
      `prompts (${i.prompts.length})`,
      i.prompts.map(
        (p) =>
          `${p.name}(${(p.arguments ?? []).map((a) => `${a.name}${a.required ? '' : '?'}`).join(', ')})${p.description ? `  ${firstLine(p.description)}` : ''}`,
      ),
      i.capabilities.prompts ? '(none)' : '(not offered)',
    ),
    section(`extensions (${Object.keys(i.extensions).length})`, Object.keys(i.extensions), '(none)'),
  );
  for (const [what, message] of Object.entries(i.errors)) out.push(`! listing ${what} failed: ${message}`);
  return out.join('\n');
}

/** `anywire inspect`. */
export function inspectCommand(target: Target, o: ClientCommandOptions): Promise<number> {
  return withClient(target, o, async (client) => {
    const i = await inspectClient(client);
    const text = o.json ? JSON.stringify(i, null, 2) : formatInspection(i);
    (o.stdout ?? process.stdout).write(`${text}\n`);
    return 0;
  });
}
