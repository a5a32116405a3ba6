/**
 * anywire: one MCP server, every wire. The root entry is the product, runtime-neutral (no `node:`
 * imports): `McpServer` (with middleware and extensions), `Client`, the runtime-neutral transports
 * (Streamable HTTP client, the web-standard handler), the errors, the stores, and the types users
 * write against. Node bindings live at subpaths (`anywire/stdio`, ...); the engine's moving parts
 * (JSON-RPC framing and parsing, the `Peer`, `requestState` sealing, dispatch scopes) at
 * `anywire/engine`, for binding authors, without a stability promise.
 * @module
 */

export type {
  CallOptions,
  ClientHandlers,
  ClientOptions,
  ClientRequestContext,
  Subscription,
} from './client/client.js';
export { Client } from './client/client.js';
export type {
  EventDescription,
  EventOccurrence,
  EventStream,
  PollResult,
  WebhookSubscriptionResult,
  WebhookTarget,
} from './client/events.js';
export { listEvents, pollEvents, streamEvents, subscribeEvents, unsubscribeEvents } from './client/events.js';
export { ErrorCode, JsonRpcError } from './jsonrpc/errors.js';
export type { ErrorCodeValue } from './jsonrpc/errors.js';
export type {
  JsonRpcErrorResponse,
  JsonRpcId,
  JsonRpcMessage,
  JsonRpcNotification,
  JsonRpcRequest,
  JsonRpcResponse,
} from './jsonrpc/types.js';
export type { LogLevel } from './protocol/constants.js';
export {
  isModernVersion,
  LATEST_LEGACY_PROTOCOL_VERSION,
  LEGACY_PROTOCOL_VERSIONS,
  LOG_LEVELS,
  META,
  MODERN_PROTOCOL_VERSION,
  MODERN_PROTOCOL_VERSIONS,
  SUPPORTED_PROTOCOL_VERSIONS,
} from './protocol/constants.js';
export type { McpErrorCode } from './protocol/errors.js';
export { McpError } from './protocol/errors.js';
export type { Progress, RequestOptions } from './protocol/peer.js';
export type {
  EventStore,
  InMemoryEventStoreOptions,
  InMemorySessionStoreOptions,
  KeyRing,
  NotificationBus,
  PostStreamRecord,
  PostStreamRegistry,
  ServerEvent,
  SessionPatch,
  SessionRecord,
  SessionRouter,
  SessionSignal,
  SessionStore,
  StateKey,
  Stores,
  TaskLeaseAcquireOptions,
  TaskLeaseClaim,
  TaskLeases,
  TaskRunRequest,
  TaskListOptions,
  TaskPage,
  TaskPatch,
  TaskRecord,
  TaskStatus,
  TaskStore,
  TaskUpdateResult,
} from './protocol/stores.js';
export {
  DEFAULT_MAX_SESSION_RECORD_BYTES,
  InMemoryEventStore,
  InMemoryNotificationBus,
  InMemoryPostStreamRegistry,
  InMemoryTaskLeases,
  InMemorySessionRouter,
  InMemorySessionStore,
  InMemoryTaskStore,
  SessionRecordTooLargeError,
  StaticKeyRing,
} from './protocol/stores.js';
export type { ReplayCache } from './protocol/replay-cache.js';
export type { TokenCache } from './protocol/token-cache.js';
export type { MessageContext, SendOptions, TraceContext, Transport } from './protocol/transport.js';
export type {
  JsonObject,
  Meta,
  Implementation,
  Icon,
  ClientCapabilities,
  ServerCapabilities,
  Annotations,
  TextContent,
  ImageContent,
  AudioContent,
  ResourceLink,
  ResourceContents,
  EmbeddedResource,
  ContentBlock,
  ToolAnnotations,
  Tool,
  CallToolResult,
  Resource,
  ResourceTemplateInfo,
  ReadResourceResult,
  PromptArgument,
  Prompt,
  PromptMessage,
  GetPromptResult,
  CompletionReference,
  CompleteResult,
  CreateMessageParams,
  CreateMessageResult,
  ElicitParams,
  ElicitResult,
  Root,
  ListRootsResult,
  ListenFilter,
  InputRequest,
  InputResponses,
  CacheHints,
  DiscoverResult,
  AuthInfo,
} from './protocol/types.js';
export type { Era, HandlerContext, InputOptions, LegacySession, RequestInfo } from './server/context.js';
export type { CacheableMethod, CustomRequestHandler, McpServerOptions } from './server/mcp-server.js';
export { McpServer } from './server/mcp-server.js';
export type {
  ArgumentCompleter,
  PromptArgumentConfig,
  PromptConfig,
  PromptHandler,
  PromptReturn,
  RegisteredPrompt,
} from './server/prompts.js';
export type {
  ReadReturn,
  RegisteredResource,
  ResourceHandler,
  ResourceMetadata,
  TemplateHandler,
  VariableCompleter,
} from './server/resources.js';
export { ResourceTemplate } from './server/resources.js';
export type {
  CompiledSchema,
  InferSchema,
  RawShape,
  SchemaInput,
  ValidationResult,
} from './server/schema.js';
export type { ServerConnectionOptions } from './server/server-connection.js';
export { ServerConnection } from './server/server-connection.js';
export type { RegisteredTool, ToolConfig, ToolHandler, ToolReturn } from './server/tools.js';
export type { TemplateVariables } from './server/uri-template.js';
export { UriTemplate } from './server/uri-template.js';
export type {
  FetchLike,
  ReconnectionOptions,
  StreamableHttpClientTransportOptions,
} from './transports/streamable-http/client.js';
export { DEFAULT_RECONNECTION, StreamableHttpClientTransport } from './transports/streamable-http/client.js';
export { createWebHandler } from './transports/streamable-http/web.js';
export type { WebMcpHandler } from './transports/streamable-http/web.js';
export type { StreamableHttpOptions } from './transports/streamable-http/handler.js';
export type { TasksExtension, TasksOptions } from './server/extensions/tasks/index.js';
export { createTasksExtension } from './server/extensions/tasks/index.js';
export type { Extension, ExtensionHost, ToolView } from './server/extension.js';
export type { MethodHandler, Middleware, Next, RouteContext } from './server/router.js';
export type { TaskExtension, TaskExtensionOptions } from './tasks/index.js';
export {
  createTaskExtension,
  detailedTask,
  startTask,
  TASKS_EXTENSION_ID,
  TaskExtensionRunner,
} from './tasks/index.js';
