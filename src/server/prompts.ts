/**
 * Registered prompts (server/prompts): listing, argument checks and rendering.
 * @module
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type {
  GetPromptResult,
  Icon,
  Meta,
  Prompt,
  PromptArgument,
  PromptMessage,
} from '../protocol/types.js';
import type { HandlerContext } from './context.js';

/** Completes a prompt argument from the text typed so far. */
export type ArgumentCompleter = (
  value: string,
  context?: { arguments?: Record<string, string> },
) => string[] | Promise<string[]>;

/** One declared prompt argument, with an optional completer. */
export interface PromptArgumentConfig extends PromptArgument {
  complete?: ArgumentCompleter;
}

/** Configuration of a prompt. */
export interface PromptConfig {
  title?: string;
  description?: string;
  /** Declared arguments (all string-valued, per the spec). */
  arguments?: PromptArgumentConfig[];
  /** Alternatively, a raw shape of Standard Schemas; optional ones are not required. */
  argsSchema?: { [name: string]: StandardSchemaV1 };
  icons?: Icon[];
  _meta?: Meta;
}

/** What a prompt handler may return. */
export type PromptReturn = GetPromptResult | PromptMessage[];

/** Renders a prompt. */
export type PromptHandler = (
  args: Record<string, string>,
  ctx: HandlerContext,
) => PromptReturn | Promise<PromptReturn>;

/** A registered prompt. */
export interface RegisteredPrompt {
  readonly name: string;
  remove(): void;
  update(changes: { config?: PromptConfig; handler?: PromptHandler }): void;
  disable(): void;
  enable(): void;
  readonly enabled: boolean;
}

/** Internal record of a prompt. */
export interface PromptEntry {
  name: string;
  config: PromptConfig;
  handler: PromptHandler;
  enabled: boolean;
  listing: Prompt;
  args: PromptArgumentConfig[];
}

/** Builds the entry and its listing. */
export function makePromptEntry(name: string, config: PromptConfig, handler: PromptHandler): PromptEntry {
  const args: PromptArgumentConfig[] = config.arguments ? [...config.arguments] : [];
  if (config.argsSchema) {
    for (const [argName, schema] of Object.entries(config.argsSchema)) {
      const probe = schema['~standard'].validate(undefined);
      const required = !(probe instanceof Promise) && probe.issues !== undefined;
      const description = (schema as { description?: string }).description;
      args.push(description ? { name: argName, description, required } : { name: argName, required });
    }
  }
  const listing: Prompt = { name };
  if (config.title !== undefined) listing.title = config.title;
  if (config.description !== undefined) listing.description = config.description;
  if (args.length) listing.arguments = args.map(({ complete: _c, ...a }) => a);
  if (config.icons) listing.icons = config.icons;
  if (config._meta) listing._meta = config._meta;
  return { name, config, handler, enabled: true, listing, args };
}

/** Normalizes a prompt handler's return value. */
export function toPromptResult(r: PromptReturn): GetPromptResult {
  return Array.isArray(r) ? { messages: r } : r;
}
