/**
 * The everything server: every fixture the MCP conformance suite
 * (`@modelcontextprotocol/conformance@0.2.0-alpha.12`) expects from a server under test, for both
 * protocol eras, plus an `echo` tool for the benchmarks. One definition; `anywire serve` puts it on
 * any binding. Also the Events extension with a timer event and a tool-emitted one (events.ts).
 *
 *   npx anywire serve examples/everything/server.ts --stdio
 *   EVERYTHING_TICK_MS=1000 npx anywire serve examples/everything/server.ts --http 3000 --allow-insecure-webhooks
 */
import { McpServer, ResourceTemplate } from 'anywire';
import { z } from 'zod';
import type { EverythingEventsOptions } from './events.js';
import { registerEventFixtures } from './events.js';
import { registerTaskFixtures } from './tasks.js';

/** 1x1 red PNG. */
const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
/** A minimal PCM WAV (mono, 8 kHz, 16-bit, one silent sample). */
const WAV = 'UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAAAAA==';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });
const nameSchema = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
const confirmSchema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };

/** Options of {@link createEverythingServer}: those of the event fixtures. */
export type EverythingOptions = EverythingEventsOptions;

export function createEverythingServer(options: EverythingOptions = {}): McpServer {
  const server = new McpServer(
    { name: 'anywire-everything', version: '0.1.0' },
    {
      instructions: 'The anywire everything server: conformance fixtures and an echo tool.',
      // The conformance suite subscribes to test://watched-resource (resources/subscribe).
      resourceSubscriptions: true,
    },
  );

  // ----------------------------------------------------------------------------------- tools
  server.registerTool('test_simple_text', { description: 'Returns a simple text response' }, () =>
    text('This is a simple text response for testing.'),
  );
  server.registerTool('test_image_content', { description: 'Returns an image' }, () => ({
    content: [{ type: 'image', data: PNG, mimeType: 'image/png' }],
  }));
  server.registerTool('test_audio_content', { description: 'Returns audio' }, () => ({
    content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }],
  }));
  server.registerTool('test_embedded_resource', { description: 'Returns an embedded resource' }, () => ({
    content: [
      {
        type: 'resource',
        resource: {
          uri: 'test://embedded-resource',
          mimeType: 'text/plain',
          text: 'This is an embedded resource content.',
        },
      },
    ],
  }));
  server.registerTool(
    'test_multiple_content_types',
    { description: 'Returns text, an image and a resource' },
    () => ({
      content: [
        { type: 'text', text: 'Multiple content types test:' },
        { type: 'image', data: PNG, mimeType: 'image/png' },
        {
          type: 'resource',
          resource: {
            uri: 'test://mixed-content-resource',
            mimeType: 'application/json',
            text: '{"test":"data","value":123}',
          },
        },
      ],
    }),
  );
  server.registerTool(
    'test_tool_with_logging',
    { description: 'Sends three log messages while it runs' },
    async (_a, ctx) => {
      await ctx.log('info', 'Tool execution started');
      await sleep(50);
      await ctx.log('info', 'Tool processing data');
      await sleep(50);
      await ctx.log('info', 'Tool execution completed');
      return text('Tool with logging executed successfully');
    },
  );
  server.registerTool(
    'test_error_handling',
    { description: 'Always fails with a tool execution error' },
    () => {
      throw new Error('This tool intentionally returns an error for testing');
    },
  );
  server.registerTool(
    'test_tool_with_progress',
    { description: 'Reports progress 0, 50, 100 of 100' },
    async (_a, ctx) => {
      for (const step of [0, 50, 100]) {
        if (step) await sleep(50);
        await ctx.progress(step, 100, `Completed step ${step} of 100`);
      }
      return text(String(ctx.meta?.progressToken ?? 'no-progress-token'));
    },
  );
  server.registerTool(
    'test_sampling',
    {
      description: 'Asks the client to sample an LLM',
      inputSchema: { prompt: z.string().describe('The prompt to send to the LLM') },
    },
    async ({ prompt }, ctx) => {
      const r = await ctx.sample({
        messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
        maxTokens: 100,
      });
      const answer = (r.content as { type?: string; text?: string }).text ?? JSON.stringify(r.content);
      return text(`LLM response: ${answer}`);
    },
  );
  server.registerTool(
    'test_elicitation',
    {
      description: 'Asks the user for a username and email',
      inputSchema: { message: z.string().describe('The message to show the user') },
    },
    async ({ message }, ctx) => {
      const r = await ctx.elicit({
        message,
        requestedSchema: {
          type: 'object',
          properties: {
            username: { type: 'string', description: "User's response" },
            email: { type: 'string', description: "User's email address" },
          },
          required: ['username', 'email'],
        },
      });
      return text(`User response: action=${r.action}, content=${JSON.stringify(r.content ?? {})}`);
    },
  );
  server.registerTool(
    'test_elicitation_sep1034_defaults',
    { description: 'Elicitation with default values (SEP-1034)' },
    async (_a, ctx) => {
      const r = await ctx.elicit({
        message: 'Please review and update the form fields with defaults',
        requestedSchema: {
          type: 'object',
          properties: {
            name: { type: 'string', description: 'User name', default: 'John Doe' },
            age: { type: 'integer', description: 'User age', default: 30 },
            score: { type: 'number', description: 'User score', default: 95.5 },
            status: {
              type: 'string',
              description: 'User status',
              enum: ['active', 'inactive', 'pending'],
              default: 'active',
            },
            verified: { type: 'boolean', description: 'Verification status', default: true },
          },
          required: [],
        },
      });
      return text(`Elicitation completed: action=${r.action}, content=${JSON.stringify(r.content ?? {})}`);
    },
  );
  server.registerTool(
    'test_elicitation_sep1330_enums',
    { description: 'Elicitation with every enum form (SEP-1330)' },
    async (_a, ctx) => {
      const r = await ctx.elicit({
        message: 'Please select options from the enum fields',
        requestedSchema: {
          type: 'object',
          properties: {
            untitledSingle: {
              type: 'string',
              description: 'Select one option',
              enum: ['option1', 'option2', 'option3'],
            },
            titledSingle: {
              type: 'string',
              description: 'Select one option with titles',
              oneOf: [
                { const: 'value1', title: 'First Option' },
                { const: 'value2', title: 'Second Option' },
                { const: 'value3', title: 'Third Option' },
              ],
            },
            legacyEnum: {
              type: 'string',
              description: 'Select one option (legacy)',
              enum: ['opt1', 'opt2', 'opt3'],
              enumNames: ['Option One', 'Option Two', 'Option Three'],
            },
            untitledMulti: {
              type: 'array',
              description: 'Select multiple options',
              minItems: 1,
              maxItems: 3,
              items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
            },
            titledMulti: {
              type: 'array',
              description: 'Select multiple options with titles',
              minItems: 1,
              maxItems: 3,
              items: {
                anyOf: [
                  { const: 'value1', title: 'First Choice' },
                  { const: 'value2', title: 'Second Choice' },
                  { const: 'value3', title: 'Third Choice' },
                ],
              },
            },
          },
          required: [],
        },
      });
      return text(`Elicitation completed: action=${r.action}, content=${JSON.stringify(r.content ?? {})}`);
    },
  );
  server.registerTool(
    'json_schema_2020_12_tool',
    {
      description: 'Tool with JSON Schema 2020-12 features',
      inputSchema: {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        $defs: {
          address: {
            $anchor: 'addressDef',
            type: 'object',
            properties: { street: { type: 'string' }, city: { type: 'string' } },
          },
        },
        properties: {
          name: { type: 'string' },
          address: { $ref: '#/$defs/address' },
          contactMethod: { type: 'string', enum: ['phone', 'email'] },
          phone: { type: 'string' },
          email: { type: 'string' },
        },
        allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
        if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
        // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else keyword
        then: { required: ['phone'] },
        else: { required: ['email'] },
        additionalProperties: false,
      },
    },
    (args) => text(`JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`),
  );
  server.registerTool(
    'test_reconnection',
    { description: 'Takes a moment, for SSE reconnection tests' },
    async () => {
      await sleep(100);
      return text(
        'Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.',
      );
    },
  );
  server.registerTool(
    'test_missing_capability',
    { description: 'Needs the client sampling capability' },
    async (_a, ctx) => {
      const r = await ctx.sample(
        {
          messages: [{ role: 'user', content: { type: 'text', text: 'Reply with the single word: pong' } }],
          maxTokens: 16,
        },
        { key: 'llm_answer' },
      );
      return text(`The model said: ${(r.content as { text?: string }).text ?? ''}`);
    },
  );
  server.registerTool(
    'test_streaming_elicitation',
    { description: 'Asks for input without a server-to-client request' },
    async (_a, ctx) => {
      const r = await ctx.elicit(
        { message: 'What is your name?', requestedSchema: nameSchema },
        { key: 'user_name' },
      );
      return text(`Hello, ${String((r.content as { name?: unknown } | undefined)?.name ?? 'stranger')}!`);
    },
  );
  server.registerTool(
    'test_logging_tool',
    { description: 'Logs only when the request carries a log level' },
    async (_a, ctx) => {
      await ctx.log('info', 'test_logging_tool ran');
      return text('logged (when a log level was requested)');
    },
  );
  server.registerTool('test_trigger_tool_change', { description: 'Announces a tools list change' }, () => {
    server.notifyListChanged('tools');
    return text('tools_list_changed published');
  });
  server.registerTool(
    'test_trigger_prompt_change',
    { description: 'Announces a prompts list change' },
    () => {
      server.notifyListChanged('prompts');
      return text('prompts_list_changed published');
    },
  );
  server.registerTool(
    'test_x_mcp_header',
    {
      description: 'Mirrors its region argument into the Mcp-Param-Region header',
      inputSchema: {
        type: 'object',
        properties: {
          region: { type: 'string', description: 'mirrored into Mcp-Param-Region', 'x-mcp-header': 'Region' },
          level: { type: 'integer', description: 'non-mirrored argument' },
        },
      },
    },
    (args) => text(`region=${typeof args.region === 'string' ? args.region : '<none>'}`),
  );

  // MRTR fixtures: in the modern era these answer `input_required`; in the legacy era the same code
  // sends server-to-client requests.
  server.registerTool(
    'test_input_required_result_elicitation',
    { description: 'Asks for the user name (MRTR)' },
    async (_a, ctx) => {
      const r = await ctx.elicit(
        { message: 'What is your name?', requestedSchema: nameSchema },
        { key: 'user_name' },
      );
      const name = (r.content as { name?: unknown } | undefined)?.name;
      if (r.action !== 'accept' || typeof name !== 'string') return text('No name was given.');
      return text(`Hello, ${name}!`);
    },
  );
  server.registerTool(
    'test_input_required_result_sampling',
    { description: 'Asks the client LLM a question (MRTR)' },
    async (_a, ctx) => {
      const r = await ctx.sample(
        {
          messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }],
          maxTokens: 100,
        },
        { key: 'capital_question' },
      );
      return text(`Sampling response: ${(r.content as { text?: string }).text ?? ''}`);
    },
  );
  server.registerTool(
    'test_input_required_result_list_roots',
    { description: 'Asks for the client roots (MRTR)' },
    async (_a, ctx) => {
      const r = await ctx.listRoots({ key: 'client_roots' });
      return text(`Client exposed ${r.roots.length} root(s): ${r.roots.map((x) => x.uri).join(', ')}`);
    },
  );
  server.registerTool(
    'test_input_required_result_request_state',
    { description: 'Round trip through requestState (MRTR)' },
    async (_a, ctx) => {
      const r = await ctx.elicit(
        { message: 'Please confirm', requestedSchema: confirmSchema },
        { key: 'confirm' },
      );
      return text(`state-ok: action=${r.action}`);
    },
  );
  server.registerTool(
    'test_input_required_result_multiple_inputs',
    { description: 'Asks for three inputs at once (MRTR)' },
    async (_a, ctx) => {
      const [who, greeting, roots] = await Promise.all([
        ctx.elicit({ message: 'What is your name?', requestedSchema: nameSchema }, { key: 'user_name' }),
        ctx.sample(
          {
            messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }],
            maxTokens: 50,
          },
          { key: 'greeting' },
        ),
        ctx.listRoots({ key: 'client_roots' }),
      ]);
      const name = (who.content as { name?: string } | undefined)?.name ?? '?';
      return text(
        `${(greeting.content as { text?: string }).text ?? ''} ${name} (${roots.roots.length} root(s))`,
      );
    },
  );
  server.registerTool(
    'test_input_required_result_multi_round',
    { description: 'Asks in two rounds (MRTR)' },
    async (_a, ctx) => {
      const a = await ctx.elicit(
        { message: 'Step 1: What is your name?', requestedSchema: nameSchema },
        { key: 'step1' },
      );
      const b = await ctx.elicit(
        {
          message: 'Step 2: What is your favorite color?',
          requestedSchema: { type: 'object', properties: { color: { type: 'string' } }, required: ['color'] },
        },
        { key: 'step2' },
      );
      const name = (a.content as { name?: string } | undefined)?.name;
      const color = (b.content as { color?: string } | undefined)?.color;
      return text(`Multi-round complete: ${name} likes ${color}`);
    },
  );
  server.registerTool(
    'test_input_required_result_tampered_state',
    { description: 'Rejects a tampered requestState (MRTR)' },
    async (_a, ctx) => {
      await ctx.elicit({ message: 'Please confirm', requestedSchema: confirmSchema }, { key: 'confirm' });
      return text('integrity-ok: requestState verified');
    },
  );
  server.registerTool(
    'test_input_required_result_capabilities',
    { description: 'Asks only for what the client declared (MRTR)' },
    async (_a, ctx) => {
      const caps = ctx.clientCapabilities;
      const asks: Promise<unknown>[] = [];
      if (caps.elicitation)
        asks.push(
          ctx.elicit({ message: 'What is your name?', requestedSchema: nameSchema }, { key: 'user_name' }),
        );
      if (caps.sampling) {
        asks.push(
          ctx.sample(
            {
              messages: [{ role: 'user', content: { type: 'text', text: 'Generate a short greeting' } }],
              maxTokens: 50,
            },
            { key: 'greeting' },
          ),
        );
      }
      if (caps.roots) asks.push(ctx.listRoots({ key: 'client_roots' }));
      await Promise.all(asks);
      return text(`capabilities-ok: asked for ${asks.length} input(s)`);
    },
  );

  server.registerTool(
    'echo',
    { description: 'Echoes the text back', inputSchema: z.object({ text: z.string() }) },
    ({ text: t }) => ({
      content: [{ type: 'text', text: t }],
    }),
  );

  // ------------------------------------------------------------------------------- resources
  server.registerResource(
    'static-text',
    'test://static-text',
    {
      title: 'Static Text Resource',
      description: 'A static text resource for testing',
      mimeType: 'text/plain',
    },
    () => [
      {
        uri: 'test://static-text',
        mimeType: 'text/plain',
        text: 'This is the content of the static text resource.',
      },
    ],
  );
  server.registerResource(
    'static-binary',
    'test://static-binary',
    {
      title: 'Static Binary Resource',
      description: 'A static binary resource (image) for testing',
      mimeType: 'image/png',
    },
    () => [{ uri: 'test://static-binary', mimeType: 'image/png', blob: PNG }],
  );
  server.registerResource(
    'watched-resource',
    'test://watched-resource',
    {
      title: 'Watched Resource',
      description: 'Static resource registered for subscribe/unsubscribe testing',
      mimeType: 'text/plain',
    },
    () => [{ uri: 'test://watched-resource', mimeType: 'text/plain', text: 'Watched resource content' }],
  );
  server.registerResource(
    'template',
    new ResourceTemplate('test://template/{id}/data', {
      list: undefined,
      complete: { id: (value) => ['1', '2', '3', '123'].filter((v) => v.startsWith(value)) },
    }),
    {
      title: 'Resource Template',
      description: 'A resource template with parameter substitution',
      mimeType: 'application/json',
    },
    (uri, { id }) => [
      {
        uri: String(uri),
        mimeType: 'application/json',
        text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${String(id)}` }),
      },
    ],
  );

  // --------------------------------------------------------------------------------- prompts
  server.registerPrompt(
    'test_simple_prompt',
    { title: 'Simple Test Prompt', description: 'A simple prompt without arguments' },
    () => [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
  );
  server.registerPrompt(
    'test_prompt_with_arguments',
    {
      title: 'Prompt With Arguments',
      description: 'A prompt with two required arguments',
      arguments: [
        {
          name: 'arg1',
          description: 'First test argument',
          required: true,
          complete: (value) => ['testValue1', 'testValue2'].filter((v) => v.startsWith(value)),
        },
        { name: 'arg2', description: 'Second test argument', required: true },
      ],
    },
    ({ arg1, arg2 }) => [
      {
        role: 'user',
        content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` },
      },
    ],
  );
  server.registerPrompt(
    'test_prompt_with_embedded_resource',
    {
      title: 'Prompt With Embedded Resource',
      description: 'A prompt that embeds a resource',
      arguments: [{ name: 'resourceUri', description: 'URI of the resource to embed', required: true }],
    },
    ({ resourceUri }) => [
      {
        role: 'user',
        content: {
          type: 'resource',
          resource: {
            uri: resourceUri!,
            mimeType: 'text/plain',
            text: 'Embedded resource content for testing.',
          },
        },
      },
      { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
    ],
  );
  server.registerPrompt(
    'test_prompt_with_image',
    { title: 'Prompt With Image', description: 'A prompt with an image' },
    () => [
      { role: 'user', content: { type: 'image', data: PNG, mimeType: 'image/png' } },
      { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
    ],
  );
  server.registerPrompt(
    'test_input_required_result_prompt',
    { title: 'MRTR Prompt', description: 'A prompt that asks the user for context first (MRTR)' },
    async (_args, ctx) => {
      const r = await ctx.elicit(
        {
          message: 'What context should the prompt use?',
          requestedSchema: {
            type: 'object',
            properties: { context: { type: 'string' } },
            required: ['context'],
          },
        },
        { key: 'user_context' },
      );
      const context = (r.content as { context?: string } | undefined)?.context ?? '';
      return [{ role: 'user', content: { type: 'text', text: `Use the following context: ${context}` } }];
    },
  );

  registerTaskFixtures(server);
  registerEventFixtures(server, options);
  return server;
}

/** `anywire serve` calls this with its context (`--allow-insecure-webhooks`). */
export default (context: { allowInsecureWebhookTargets?: boolean } = {}): McpServer =>
  createEverythingServer({ allowInsecureWebhookTargets: context.allowInsecureWebhookTargets });
