/**
 * MCP data shapes used by the server and client APIs (schema/2025-11-25 and schema/2026-07-28
 * `schema.ts`). Open objects: unknown fields from newer revisions pass through untouched.
 * @module
 */

/** A free-form JSON object. */
export type JsonObject = { [key: string]: unknown };

/** `_meta` on params and results. */
export type Meta = { [key: string]: unknown };

/** Name and version of a client or server (`Implementation`). */
export interface Implementation {
  name: string;
  version: string;
  title?: string;
  description?: string;
  websiteUrl?: string;
  icons?: Icon[];
  [key: string]: unknown;
}

/** An icon (SEP-973). */
export interface Icon {
  src: string;
  mimeType?: string;
  sizes?: string[];
  theme?: 'light' | 'dark';
}

/** Capabilities a client declares. */
export interface ClientCapabilities {
  roots?: { listChanged?: boolean };
  sampling?: { context?: JsonObject; tools?: JsonObject; [key: string]: unknown };
  elicitation?: { form?: JsonObject; url?: JsonObject; [key: string]: unknown };
  tasks?: JsonObject;
  experimental?: JsonObject;
  extensions?: JsonObject;
  [key: string]: unknown;
}

/** Capabilities a server declares. */
export interface ServerCapabilities {
  tools?: { listChanged?: boolean };
  resources?: { subscribe?: boolean; listChanged?: boolean };
  prompts?: { listChanged?: boolean };
  logging?: JsonObject;
  completions?: JsonObject;
  tasks?: JsonObject;
  experimental?: JsonObject;
  extensions?: JsonObject;
  [key: string]: unknown;
}

/** Optional hints on content and resources. */
export interface Annotations {
  audience?: ('user' | 'assistant')[];
  priority?: number;
  lastModified?: string;
}

/** Text content. */
export interface TextContent {
  type: 'text';
  text: string;
  annotations?: Annotations;
  _meta?: Meta;
}
/** Base64 image content. */
export interface ImageContent {
  type: 'image';
  data: string;
  mimeType: string;
  annotations?: Annotations;
  _meta?: Meta;
}
/** Base64 audio content. */
export interface AudioContent {
  type: 'audio';
  data: string;
  mimeType: string;
  annotations?: Annotations;
  _meta?: Meta;
}
/** A link to a resource. */
export interface ResourceLink {
  type: 'resource_link';
  uri: string;
  name: string;
  title?: string;
  description?: string;
  mimeType?: string;
  annotations?: Annotations;
  _meta?: Meta;
}
/** Text or blob contents of a resource. */
export type ResourceContents =
  | { uri: string; mimeType?: string; text: string; _meta?: Meta }
  | { uri: string; mimeType?: string; blob: string; _meta?: Meta };
/** A resource embedded in content. */
export interface EmbeddedResource {
  type: 'resource';
  resource: ResourceContents;
  annotations?: Annotations;
  _meta?: Meta;
}
/** Any content block. */
export type ContentBlock = TextContent | ImageContent | AudioContent | ResourceLink | EmbeddedResource;

/** Behaviour hints of a tool. */
export interface ToolAnnotations {
  title?: string;
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
  [key: string]: unknown;
}

/** A tool as listed by `tools/list`. */
export interface Tool {
  name: string;
  title?: string;
  description?: string;
  inputSchema: JsonObject;
  outputSchema?: JsonObject;
  annotations?: ToolAnnotations;
  icons?: Icon[];
  execution?: JsonObject;
  _meta?: Meta;
}

/** The result of `tools/call`. */
export interface CallToolResult {
  content: ContentBlock[];
  structuredContent?: JsonObject;
  isError?: boolean;
  _meta?: Meta;
  [key: string]: unknown;
}

/** A resource as listed by `resources/list`. */
export interface Resource {
  uri: string;
  name: string;
  title?: string;
  description?: string;
  mimeType?: string;
  size?: number;
  annotations?: Annotations;
  icons?: Icon[];
  _meta?: Meta;
}

/** A resource template as listed by `resources/templates/list`. */
export interface ResourceTemplateInfo {
  uriTemplate: string;
  name: string;
  title?: string;
  description?: string;
  mimeType?: string;
  annotations?: Annotations;
  icons?: Icon[];
  _meta?: Meta;
}

/** The result of `resources/read`. */
export interface ReadResourceResult {
  contents: ResourceContents[];
  _meta?: Meta;
  [key: string]: unknown;
}

/** A prompt argument. */
export interface PromptArgument {
  name: string;
  title?: string;
  description?: string;
  required?: boolean;
}

/** A prompt as listed by `prompts/list`. */
export interface Prompt {
  name: string;
  title?: string;
  description?: string;
  arguments?: PromptArgument[];
  icons?: Icon[];
  _meta?: Meta;
}

/** One prompt message. */
export interface PromptMessage {
  role: 'user' | 'assistant';
  content: ContentBlock;
}

/** The result of `prompts/get`. */
export interface GetPromptResult {
  description?: string;
  messages: PromptMessage[];
  _meta?: Meta;
  [key: string]: unknown;
}

/** A completion reference. */
export type CompletionReference =
  { type: 'ref/prompt'; name: string } | { type: 'ref/resource'; uri: string };

/** The result of `completion/complete`. */
export interface CompleteResult {
  completion: { values: string[]; total?: number; hasMore?: boolean };
  _meta?: Meta;
  [key: string]: unknown;
}

/** Params of `sampling/createMessage`. */
export interface CreateMessageParams {
  messages: { role: 'user' | 'assistant'; content: unknown }[];
  maxTokens: number;
  systemPrompt?: string;
  modelPreferences?: JsonObject;
  includeContext?: 'none' | 'thisServer' | 'allServers';
  temperature?: number;
  stopSequences?: string[];
  metadata?: JsonObject;
  tools?: unknown[];
  toolChoice?: unknown;
  _meta?: Meta;
  [key: string]: unknown;
}

/** The result of `sampling/createMessage`. */
export interface CreateMessageResult {
  role: 'user' | 'assistant';
  content: unknown;
  model: string;
  stopReason?: string;
  _meta?: Meta;
  [key: string]: unknown;
}

/** Params of `elicitation/create` (form or URL mode). */
export type ElicitParams =
  | { mode?: 'form'; message: string; requestedSchema: JsonObject; _meta?: Meta; [key: string]: unknown }
  | {
      mode: 'url';
      message: string;
      url: string;
      elicitationId?: string;
      _meta?: Meta;
      [key: string]: unknown;
    };

/** The result of `elicitation/create`. */
export interface ElicitResult {
  action: 'accept' | 'decline' | 'cancel';
  content?: { [key: string]: string | number | boolean | string[] };
  _meta?: Meta;
  [key: string]: unknown;
}

/** A root (client filesystem boundary). */
export interface Root {
  uri: string;
  name?: string;
  _meta?: Meta;
}

/** The result of `roots/list`. */
export interface ListRootsResult {
  roots: Root[];
  _meta?: Meta;
  [key: string]: unknown;
}

/** `subscriptions/listen` filter (2026-07-28 basic/patterns/subscriptions). */
export interface ListenFilter {
  toolsListChanged?: boolean;
  promptsListChanged?: boolean;
  resourcesListChanged?: boolean;
  resourceSubscriptions?: string[];
  [key: string]: unknown;
}

/** An embedded server-to-client request in an `input_required` result (MRTR). */
export type InputRequest =
  | { method: 'sampling/createMessage'; params: CreateMessageParams }
  | { method: 'elicitation/create'; params: ElicitParams }
  | { method: 'roots/list'; params?: JsonObject };

/** The answers a client sends back, keyed like `inputRequests`. */
export type InputResponses = { [key: string]: unknown };

/** Caching hints on cacheable results (2026-07-28 server/utilities/caching). */
export interface CacheHints {
  /** Freshness in milliseconds (0 = do not cache). */
  ttlMs: number;
  /** `private`: never share across authorization contexts. */
  cacheScope: 'public' | 'private';
}

/** The result of `server/discover`. */
export interface DiscoverResult {
  supportedVersions: string[];
  capabilities: ServerCapabilities;
  instructions?: string;
  ttlMs?: number;
  cacheScope?: 'public' | 'private';
  _meta?: Meta;
  [key: string]: unknown;
}

/** Identity attached to inbound messages by an auth layer (bearer token, mTLS). */
export interface AuthInfo {
  /** The raw credential (token), if any. */
  token?: string;
  /** The authenticated client id. */
  clientId?: string;
  /** The subject (user or workload). */
  subject?: string;
  /** Granted scopes. */
  scopes?: string[];
  /** Expiry in seconds since the epoch. */
  expiresAt?: number;
  /** The RFC 8707 resource the credential is bound to. */
  resource?: string;
  /** The verified token's claims (JWT payload or RFC 7662 introspection response). */
  claims?: JsonObject;
  /** Proof-of-possession binding (`cnf`): RFC 9449 `jkt` (DPoP key thumbprint), RFC 8705 `x5t#S256`. */
  confirmation?: { jkt?: string; 'x5t#S256'?: string };
  /** Anything else the verifier wants to pass on (mTLS puts `certificate` here). */
  extra?: JsonObject;
}
