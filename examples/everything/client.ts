/**
 * The everything client: one MCP client for every non-auth scenario of the conformance client suite
 * (`@modelcontextprotocol/conformance@0.2.0-alpha.12`), written against anywire's public API only.
 *
 *   npx tsx examples/everything/client.ts http://localhost:3000/mcp
 *
 * The harness appends the mock server's URL as the last argument and names the scenario in
 * `MCP_CONFORMANCE_SCENARIO`; some scenarios pass data in `MCP_CONFORMANCE_CONTEXT` (JSON). Each
 * scenario is one function below. The `Client` settles the protocol era on its own (a
 * `server/discover` probe, then `initialize` for a legacy server), so the same code runs against a
 * 2025-11-25 and a 2026-07-28 mock.
 */
import type { ClientOptions, ElicitParams, ElicitResult, JsonObject } from 'anywire';
import { Client, StreamableHttpClientTransport } from 'anywire';

type Scenario = (url: string) => Promise<void>;

/** Connects a client with `options` to `url` over Streamable HTTP, runs `body`, and closes. */
async function withClient(url: string, options: ClientOptions, body: (client: Client) => Promise<void>) {
  const client = new Client(
    { name: 'anywire-everything-client', version: '0.1.0' },
    // Non-fatal errors: what the transport skipped (e.g. tools dropped for invalid x-mcp-header annotations).
    { onerror: (error) => console.error(error.message), ...options },
  );
  await client.connect(new StreamableHttpClientTransport({ url }));
  try {
    await body(client);
  } finally {
    await client.close();
  }
}

/** The scenario's data from `MCP_CONFORMANCE_CONTEXT`, if any. */
function context<T>(): T | undefined {
  const raw = process.env.MCP_CONFORMANCE_CONTEXT;
  return raw ? (JSON.parse(raw) as T) : undefined;
}

/** Accepts a form elicitation with every field's schema `default` filled in (SEP-1034). */
function acceptWithDefaults(params: ElicitParams): ElicitResult {
  const content: NonNullable<ElicitResult['content']> = {};
  if (params.mode !== 'url') {
    const properties = (params.requestedSchema.properties ?? {}) as Record<string, { default?: unknown }>;
    for (const [key, property] of Object.entries(properties)) {
      const value = property.default;
      if (value !== undefined) content[key] = value as string | number | boolean | string[];
    }
  }
  return { action: 'accept', content };
}

// ---------------------------------------------------------------------------------- scenarios

/** `initialize`: connect (the handshake), list the tools, close. */
const initialize: Scenario = (url) =>
  withClient(url, {}, async (client) => {
    await client.listTools();
  });

/** `tools_call`: list the tools and call `add_numbers`. On a 2026-07-28 mock, `connect` negotiates with `server/discover`. */
const toolsCall: Scenario = (url) =>
  withClient(url, {}, async (client) => {
    const tools = await client.listTools();
    if (tools.some((t) => t.name === 'add_numbers')) await client.callTool('add_numbers', { a: 5, b: 3 });
  });

/** `elicitation-sep1034-client-defaults`: the tool elicits a form; accept it with the schema defaults. */
const elicitationDefaults: Scenario = (url) =>
  withClient(url, { handlers: { elicitation: acceptWithDefaults } }, async (client) => {
    await client.listTools();
    await client.callTool('test_client_elicitation_defaults');
  });

/**
 * `sse-retry`: the server closes the tool call's SSE stream after a priming event carrying
 * `retry: 500`; the transport resumes it with GET + `Last-Event-ID` after exactly that delay.
 */
const sseRetry: Scenario = (url) =>
  withClient(url, {}, async (client) => {
    await client.listTools();
    await client.callTool('test_reconnection');
  });

/**
 * `request-metadata`: every request carries the protocol version, capabilities and client info in
 * `_meta` plus a matching `MCP-Protocol-Version` header. The mock rejects the first request with
 * -32022 UnsupportedProtocolVersion; `connect` retries with a version from `error.data.supported`.
 */
const requestMetadata: Scenario = (url) =>
  withClient(url, {}, async (client) => {
    await client.listTools();
  });

/**
 * `sep-2322-client-request-state`: tools answer `input_required` (multi round-trip requests). The
 * client fulfils the embedded elicitation through its handler and retries with a fresh id, echoing
 * `requestState` byte for byte (or leaving it out when none came). An unrelated call running at
 * the same time must carry neither.
 */
const requestState: Scenario = (url) =>
  withClient(
    url,
    { handlers: { elicitation: () => ({ action: 'accept', content: { confirmed: true } }) } },
    async (client) => {
      await client.listTools();
      await Promise.all([client.callTool('test_mrtr_echo_state'), client.callTool('test_mrtr_unrelated')]);
      await client.callTool('test_mrtr_no_state');
      // No `resultType` means `complete`: this result is returned as is, never retried.
      await client.callTool('test_mrtr_no_result_type');
    },
  );

/** `http-standard-headers`: `Mcp-Method` on every POST, `Mcp-Name` for tools/call, resources/read and prompts/get. */
const standardHeaders: Scenario = (url) =>
  withClient(url, {}, async (client) => {
    for (const tool of await client.listTools()) await client.callTool(tool.name);
    for (const resource of await client.listResources()) await client.readResource(resource.uri);
    for (const prompt of await client.listPrompts()) await client.getPrompt(prompt.name);
  });

/**
 * `http-custom-headers`: arguments whose `inputSchema` property carries `x-mcp-header` are mirrored
 * into `Mcp-Param-{Name}` headers (base64 sentinel for unsafe values, omitted for null). The
 * transport learns the annotations from `tools/list`, so list before calling.
 */
const customHeaders: Scenario = (url) =>
  withClient(url, {}, async (client) => {
    await client.listTools();
    const calls = context<{ toolCalls?: { name: string; arguments: JsonObject }[] }>()?.toolCalls ?? [];
    for (const call of calls) await client.callTool(call.name, call.arguments);
  });

/**
 * `http-invalid-tool-headers`: tools with invalid `x-mcp-header` annotations never reach the caller
 * (the transport drops them from `tools/list` and reports each through `onerror`), so calling every
 * listed tool calls only the valid one (`valid_tool`, which mirrors a `region`).
 */
const invalidToolHeaders: Scenario = (url) =>
  withClient(url, {}, async (client) => {
    for (const tool of await client.listTools()) await client.callTool(tool.name, { region: 'us-west1' });
  });

/**
 * `json-schema-ref-no-deref`: a tool's `inputSchema` has a `$ref` to a network URL. Schemas are
 * data to anywire: listing tools never fetches anything but the MCP endpoint.
 */
const jsonSchemaRefNoDeref: Scenario = (url) =>
  withClient(url, {}, async (client) => {
    await client.listTools();
  });

/**
 * `json-schema-2020-12-preservation`: echo a tool's `inputSchema` back through the `json_schema_echo`
 * tool. anywire passes schemas through untouched, so `$schema`, `$defs`, `additionalProperties`,
 * composition and conditionals all survive.
 */
const jsonSchemaPreservation: Scenario = (url) =>
  withClient(url, {}, async (client) => {
    const tools = await client.listTools();
    const focal = tools.find((t) => t.name === 'json_schema_2020_12_tool');
    if (focal) await client.callTool('json_schema_echo', { schema: focal.inputSchema });
  });

const scenarios: Record<string, Scenario> = {
  initialize,
  tools_call: toolsCall,
  'elicitation-sep1034-client-defaults': elicitationDefaults,
  'sse-retry': sseRetry,
  'request-metadata': requestMetadata,
  'sep-2322-client-request-state': requestState,
  'http-standard-headers': standardHeaders,
  'http-custom-headers': customHeaders,
  'http-invalid-tool-headers': invalidToolHeaders,
  'json-schema-ref-no-deref': jsonSchemaRefNoDeref,
  'json-schema-2020-12-preservation': jsonSchemaPreservation,
};

// ------------------------------------------------------------------------------------- main

const name = process.env.MCP_CONFORMANCE_SCENARIO;
const url = process.argv.at(-1);
const scenario = name === undefined ? undefined : scenarios[name];
if (!scenario || !url || process.argv.length < 3) {
  console.error(`usage: MCP_CONFORMANCE_SCENARIO=<scenario> tsx examples/everything/client.ts <url>`);
  console.error(`scenarios: ${Object.keys(scenarios).join(', ')}`);
  process.exit(1);
}
try {
  await scenario(url);
  process.exit(0);
} catch (error) {
  console.error(`${name} failed:`, error);
  process.exit(1);
}
