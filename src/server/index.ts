/**
 * Server API.
 * @module
 */

export type {
  Era,
  HandlerContext,
  InputOptions,
  LegacySession,
  RequestInfo,
  RequestScope,
} from './context.js';
export { supportedVersions } from '../protocol/eras.js';
export type { CacheableMethod, CustomRequestHandler, McpServerOptions } from './mcp-server.js';
export { McpServer } from './mcp-server.js';
export type {
  ArgumentCompleter,
  PromptArgumentConfig,
  PromptConfig,
  PromptHandler,
  PromptReturn,
  RegisteredPrompt,
} from './prompts.js';
export type {
  ReadReturn,
  RegisteredResource,
  ResourceHandler,
  ResourceMetadata,
  TemplateHandler,
  VariableCompleter,
} from './resources.js';
export { ResourceTemplate } from './resources.js';
export type { CompiledSchema, InferSchema, RawShape, SchemaInput, ValidationResult } from './schema.js';
export { compileSchema } from './schema.js';
export type { ConnectionHost, ServerConnectionOptions } from './server-connection.js';
export { ServerConnection } from './server-connection.js';
export type { RegisteredTool, ToolConfig, ToolHandler, ToolReturn } from './tools.js';
export type { TemplateVariables } from './uri-template.js';
export { UriTemplate } from './uri-template.js';
export type { TasksExtension, TasksOptions } from './extensions/tasks/index.js';
export { createTasksExtension, TaskRunner, taskView } from './extensions/tasks/index.js';
export type { Extension, ExtensionHost, ToolView } from './extension.js';
export type { MethodHandler, Middleware, Next, RouteContext } from './router.js';
