/**
 * The registry of one server: tools, resources, resource templates and prompts, the capabilities
 * derived from them, and change events (`onchange`, one per list per microtask).
 * @module
 */
import type { ServerCapabilities } from '../protocol/types.js';
import type { PromptConfig, PromptEntry, PromptHandler, RegisteredPrompt } from './prompts.js';
import { makePromptEntry } from './prompts.js';
import type {
  RegisteredResource,
  ResourceEntry,
  ResourceHandler,
  ResourceMetadata,
  TemplateEntry,
  TemplateHandler,
} from './resources.js';
import { ResourceTemplate } from './resources.js';
import type { RegisteredTool, ToolConfig, ToolEntry, ToolHandler } from './tools.js';
import { makeToolEntry } from './tools.js';

/** A list whose changes are announced (`notifications/<list>/list_changed`). */
export type ListName = 'tools' | 'prompts' | 'resources';

/** What a server has registered. */
export class Registry {
  readonly tools = new Map<string, ToolEntry>();
  readonly resources = new Map<string, ResourceEntry>();
  readonly templates = new Map<string, TemplateEntry>();
  readonly prompts = new Map<string, PromptEntry>();
  #pending = new Set<ListName>();
  #capabilities: ServerCapabilities | undefined;
  #onchange: (list: ListName) => void;

  /** @param onchange called once per changed list, on a microtask after the change */
  constructor(onchange: (list: ListName) => void) {
    this.#onchange = onchange;
  }

  /**
   * Capabilities derived from the registrations (logging always; tools, resources, prompts,
   * completions when used). Delivery promises (`listChanged`, `subscribe`) are the server's to add.
   */
  capabilities(): ServerCapabilities {
    if (this.#capabilities) return this.#capabilities;
    const caps: ServerCapabilities = { logging: {} };
    if (this.tools.size) caps.tools = {};
    if (this.resources.size || this.templates.size) caps.resources = {};
    if (this.prompts.size) caps.prompts = {};
    const completes =
      [...this.prompts.values()].some((p) => p.args.some((a) => a.complete)) ||
      [...this.templates.values()].some((t) => Object.keys(t.template.complete).length > 0);
    if (completes) caps.completions = {};
    this.#capabilities = caps;
    return caps;
  }

  /** @throws Error when a tool with this name exists */
  registerTool(name: string, config: ToolConfig, handler: ToolHandler<any>): RegisteredTool {
    if (this.tools.has(name)) throw new Error(`anywire: tool "${name}" is already registered`);
    let entry = makeToolEntry(name, config, handler);
    this.tools.set(name, entry);
    this.#changed('tools');
    return {
      name,
      remove: () => {
        if (this.tools.get(name) === entry) {
          this.tools.delete(name);
          this.#changed('tools');
        }
      },
      update: (changes) => {
        const next = makeToolEntry(name, changes.config ?? entry.config, changes.handler ?? entry.handler);
        next.enabled = entry.enabled;
        entry = next;
        this.tools.set(name, entry);
        this.#changed('tools');
      },
      disable: () => {
        entry.enabled = false;
        this.#changed('tools');
      },
      enable: () => {
        entry.enabled = true;
        this.#changed('tools');
      },
      get enabled() {
        return entry.enabled;
      },
    };
  }

  /** @throws Error when the URI (static) or name (template) is taken; TypeError for a bad `uri` */
  registerResource(
    name: string,
    uri: string | ResourceTemplate,
    metadata: ResourceMetadata,
    handler: ResourceHandler | TemplateHandler,
  ): RegisteredResource {
    if (typeof uri === 'string') {
      if (this.resources.has(uri)) throw new Error(`anywire: resource "${uri}" is already registered`);
      const entry: ResourceEntry = {
        kind: 'static',
        name,
        uri,
        metadata,
        handler: handler as ResourceHandler,
        enabled: true,
      };
      this.resources.set(uri, entry);
      this.#changed('resources');
      return this.#handle(name, entry, () => this.resources.get(uri) === entry && this.resources.delete(uri));
    }
    if (!(uri instanceof ResourceTemplate))
      throw new TypeError('anywire: uri must be a string or a ResourceTemplate');
    if (this.templates.has(name))
      throw new Error(`anywire: resource template "${name}" is already registered`);
    const entry: TemplateEntry = {
      kind: 'template',
      name,
      template: uri,
      metadata,
      handler: handler as TemplateHandler,
      enabled: true,
    };
    this.templates.set(name, entry);
    this.#changed('resources');
    return this.#handle(name, entry, () => this.templates.get(name) === entry && this.templates.delete(name));
  }

  #handle(name: string, entry: ResourceEntry | TemplateEntry, drop: () => boolean): RegisteredResource {
    return {
      name,
      remove: () => {
        if (drop()) this.#changed('resources');
      },
      update: (changes) => {
        if (changes.metadata) entry.metadata = changes.metadata;
        if (changes.handler) entry.handler = changes.handler as any;
        this.#changed('resources');
      },
      disable: () => {
        entry.enabled = false;
        this.#changed('resources');
      },
      enable: () => {
        entry.enabled = true;
        this.#changed('resources');
      },
      get enabled() {
        return entry.enabled;
      },
    };
  }

  /** @throws Error when the name is taken */
  registerPrompt(name: string, config: PromptConfig, handler: PromptHandler): RegisteredPrompt {
    if (this.prompts.has(name)) throw new Error(`anywire: prompt "${name}" is already registered`);
    let entry = makePromptEntry(name, config, handler);
    this.prompts.set(name, entry);
    this.#changed('prompts');
    return {
      name,
      remove: () => {
        if (this.prompts.get(name) === entry) {
          this.prompts.delete(name);
          this.#changed('prompts');
        }
      },
      update: (changes) => {
        const next = makePromptEntry(name, changes.config ?? entry.config, changes.handler ?? entry.handler);
        next.enabled = entry.enabled;
        entry = next;
        this.prompts.set(name, entry);
        this.#changed('prompts');
      },
      disable: () => {
        entry.enabled = false;
        this.#changed('prompts');
      },
      enable: () => {
        entry.enabled = true;
        this.#changed('prompts');
      },
      get enabled() {
        return entry.enabled;
      },
    };
  }

  #changed(list: ListName): void {
    this.#capabilities = undefined;
    if (this.#pending.size === 0) {
      queueMicrotask(() => {
        const lists = [...this.#pending];
        this.#pending.clear();
        for (const l of lists) this.#onchange(l);
      });
    }
    this.#pending.add(list);
  }
}
