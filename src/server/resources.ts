/**
 * Registered resources and resource templates (server/resources): listing, reading by exact URI
 * or RFC 6570 template match, and argument completion for template variables.
 * @module
 */
import type {
  Annotations,
  Icon,
  Meta,
  ReadResourceResult,
  Resource,
  ResourceContents,
  ResourceTemplateInfo,
} from '../protocol/types.js';
import type { HandlerContext } from './context.js';
import type { TemplateVariables } from './uri-template.js';
import { UriTemplate } from './uri-template.js';

/** Metadata of a resource or template. */
export interface ResourceMetadata {
  title?: string;
  description?: string;
  mimeType?: string;
  size?: number;
  annotations?: Annotations;
  icons?: Icon[];
  _meta?: Meta;
}

/** What a read handler may return: a full result or a list of contents. */
export type ReadReturn = ReadResourceResult | ResourceContents[];

/** Reads a static resource. */
export type ResourceHandler = (uri: URL | string, ctx: HandlerContext) => ReadReturn | Promise<ReadReturn>;
/** Reads a resource matched by a template. */
export type TemplateHandler = (
  uri: URL | string,
  variables: TemplateVariables,
  ctx: HandlerContext,
) => ReadReturn | Promise<ReadReturn>;

/** Completes a template variable from the text typed so far. */
export type VariableCompleter = (
  value: string,
  context?: { arguments?: Record<string, string> },
) => string[] | Promise<string[]>;

/** A resource template: the URI template plus optional `list` and per-variable `complete`. */
export class ResourceTemplate {
  readonly uriTemplate: UriTemplate;
  readonly list: ((ctx: HandlerContext) => Resource[] | Promise<Resource[]>) | undefined;
  readonly complete: Record<string, VariableCompleter>;

  /**
   * @param template RFC 6570 template, e.g. `test://template/{id}/data`
   * @param callbacks `list` enumerates concrete resources for `resources/list` (or `undefined`); `complete` completes variables
   */
  constructor(
    template: string,
    callbacks: {
      list: ((ctx: HandlerContext) => Resource[] | Promise<Resource[]>) | undefined;
      complete?: Record<string, VariableCompleter>;
    },
  ) {
    this.uriTemplate = new UriTemplate(template);
    this.list = callbacks.list;
    this.complete = callbacks.complete ?? {};
  }
}

/** A registered resource or template. */
export interface RegisteredResource {
  readonly name: string;
  remove(): void;
  update(changes: { metadata?: ResourceMetadata; handler?: ResourceHandler | TemplateHandler }): void;
  disable(): void;
  enable(): void;
  readonly enabled: boolean;
}

/** Internal record of a static resource. */
export interface ResourceEntry {
  kind: 'static';
  name: string;
  uri: string;
  metadata: ResourceMetadata;
  handler: ResourceHandler;
  enabled: boolean;
}

/** Internal record of a template. */
export interface TemplateEntry {
  kind: 'template';
  name: string;
  template: ResourceTemplate;
  metadata: ResourceMetadata;
  handler: TemplateHandler;
  enabled: boolean;
}

/** The listing of a static resource. */
export function resourceListing(e: ResourceEntry): Resource {
  return { uri: e.uri, name: e.name, ...e.metadata };
}

/** The listing of a template. */
export function templateListing(e: TemplateEntry): ResourceTemplateInfo {
  const { size: _size, ...meta } = e.metadata;
  return { uriTemplate: e.template.uriTemplate.template, name: e.name, ...meta };
}

/** Normalizes a read handler's return value. */
export function toReadResult(r: ReadReturn): ReadResourceResult {
  return Array.isArray(r) ? { contents: r } : r;
}

/** Parses a URI for handlers: a `URL` when it parses, else the string. */
export function parseUri(uri: string): URL | string {
  try {
    return new URL(uri);
  } catch {
    return uri;
  }
}
