/**
 * The everything client: one MCP client for every scenario of the conformance client suite
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
import type { OAuthClientProviderOptions } from 'anywire/client/auth';
import { OAuthClientProvider, requestIdJag } from 'anywire/client/auth';

type Scenario = (url: string) => Promise<void>;

/** Connects a client with `options` to `url` over Streamable HTTP, runs `body`, and closes. */
async function withClient(
  url: string,
  options: ClientOptions,
  body: (client: Client) => Promise<void>,
  authProvider?: OAuthClientProvider,
) {
  const client = new Client(
    { name: 'anywire-everything-client', version: '0.1.0' },
    // Non-fatal errors: what the transport skipped (e.g. tools dropped for invalid x-mcp-header annotations).
    { onerror: (error) => console.error(error.message), ...options },
  );
  await client.connect(new StreamableHttpClientTransport({ url, ...(authProvider ? { authProvider } : {}) }));
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

// ------------------------------------------------------------------- skills extension (SEP-2640)

interface SkillEntry {
  uri: string;
  frontmatter?: Record<string, unknown>;
  resources?: { uri: string; digest?: string; size?: number }[];
}

/** `sha256:<hex>` of `text` as UTF-8 (the digest form of SEP-2640 entries). */
async function digestOf(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return `sha256:${[...hash].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** The `key: value` fields of a SKILL.md's YAML frontmatter. */
function frontmatterOf(text: string): Record<string, string> | undefined {
  const m = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text);
  if (!m) return undefined;
  const fields: Record<string, string> = {};
  for (const line of m[1]!.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0)
      fields[line.slice(0, i).trim()] = line
        .slice(i + 1)
        .trim()
        .replace(/^["']|["']$/g, '');
  }
  return fields;
}

/** Reads one listed file and checks its size and digest; `undefined` when it fails verification. */
async function readVerified(client: Client, file: { uri: string; digest?: string; size?: number }) {
  const result = await client.readResource(file.uri);
  const text = (result.contents[0] as { text?: string } | undefined)?.text ?? '';
  const bytes = new TextEncoder().encode(text);
  if (file.size !== undefined && bytes.byteLength !== file.size) return undefined;
  if (file.digest !== undefined && (await digestOf(bytes)) !== file.digest) return undefined;
  return text;
}

/**
 * Loads a skill as a SEP-2640 host does: read its SKILL.md, verify size, digest and frontmatter
 * against the listed entry, and only then read its other files. Content that fails any check is
 * not used, and nothing more of that skill is fetched.
 */
async function loadSkill(client: Client, entry: SkillEntry): Promise<boolean> {
  const files = entry.resources ?? [];
  const main = files.find((f) => f.uri === entry.uri) ?? { uri: entry.uri };
  const text = await readVerified(client, main);
  if (text === undefined) return false;
  const front = frontmatterOf(text);
  for (const [key, value] of Object.entries(entry.frontmatter ?? {}))
    if (front?.[key] !== String(value)) return false;
  for (const file of files)
    if (file.uri !== entry.uri && (await readVerified(client, file)) === undefined) return false;
  return true;
}

/** `sep-2640-client-no-prefetch`: list the skills; nothing is read until a skill is loaded. */
const skillsNoPrefetch: Scenario = (url) =>
  withClient(url, {}, async (client) => {
    await client.request('skills/list');
  });

/** `sep-2640-client-verify-*`: list the skills and load each; tampered content is refused. */
const skillsVerify: Scenario = (url) =>
  withClient(url, {}, async (client) => {
    const listed = (await client.request('skills/list')) as { skills?: SkillEntry[] };
    for (const entry of listed.skills ?? [])
      if (!(await loadSkill(client, entry)))
        console.error(`skill ${entry.uri} failed verification: not loaded`);
  });

// ------------------------------------------------------------------------------- auth scenarios

/** The client metadata document URL the suite's authorization servers accept as a client id (CIMD). */
const CLIENT_METADATA_URL = 'https://conformance-test.local/client-metadata.json';

/**
 * The user agent of a headless authorization code flow: the suite's authorization endpoint approves
 * at once, so GET it without following the redirect and hand back the `Location` it points to.
 */
async function followAuthorization(authorizationUrl: URL): Promise<URL> {
  const response = await fetch(authorizationUrl, { redirect: 'manual' });
  await response.body?.cancel();
  const location = response.headers.get('location');
  if (!location) throw new Error(`the authorization endpoint answered ${response.status} without a redirect`);
  return new URL(location, authorizationUrl);
}

/** Connects with an OAuth provider built from `options`, lists the tools and calls `test-tool` when listed. */
async function withOAuth(url: string, options: OAuthClientProviderOptions): Promise<void> {
  const provider = new OAuthClientProvider({
    clientMetadataUrl: CLIENT_METADATA_URL,
    redirectUrl: 'http://localhost:3000/callback',
    redirect: followAuthorization,
    clientMetadata: { client_name: 'anywire-everything-client' },
    ...options,
  });
  await withClient(
    url,
    // The first request (the era probe) carries the whole authorization: give it time.
    { probeTimeoutMs: 30_000 },
    async (client) => {
      const tools = await client.listTools();
      if (tools.some((t) => t.name === 'test-tool')) await client.callTool('test-tool');
    },
    provider,
  );
}

/**
 * Every authorization code scenario: 401 → protected resource metadata → authorization server
 * metadata → CIMD or dynamic registration → PKCE with `resource` → token → retry; step-up on 403;
 * DPoP when the authorization server advertises it. The provider decides everything from what the
 * servers publish, so one function serves them all.
 */
const authorizationCode: Scenario = (url) => withOAuth(url, {});

/** `auth/pre-registration`: the client id and secret come from the scenario context. */
const preRegistration: Scenario = (url) => {
  const ctx = context<{ client_id: string; client_secret: string }>()!;
  return withOAuth(url, { clientId: ctx.client_id, clientSecret: ctx.client_secret });
};

/** `auth/client-credentials-basic`: a machine client authenticating with client_secret_basic. */
const clientCredentialsBasic: Scenario = (url) => {
  const ctx = context<{ client_id: string; client_secret: string }>()!;
  return withOAuth(url, {
    grant: 'client_credentials',
    clientId: ctx.client_id,
    clientSecret: ctx.client_secret,
  });
};

/** `auth/client-credentials-jwt`: a machine client authenticating with private_key_jwt (RFC 7523 §2.2). */
const clientCredentialsJwt: Scenario = (url) => {
  const ctx = context<{ client_id: string; private_key_pem: string; signing_algorithm?: string }>()!;
  return withOAuth(url, {
    grant: 'client_credentials',
    clientId: ctx.client_id,
    privateKey: ctx.private_key_pem,
    privateKeyAlgorithm: ctx.signing_algorithm ?? 'ES256',
  });
};

/** `auth/wif-jwt-bearer`: workload identity federation, the workload's JWT in an RFC 7523 jwt-bearer grant. */
const wifJwtBearer: Scenario = (url) => {
  const ctx = context<{ client_id: string; valid_jwt: string }>()!;
  return withOAuth(url, { grant: 'jwt_bearer', clientId: ctx.client_id, assertion: ctx.valid_jwt });
};

/**
 * `auth/enterprise-managed-authorization` (SEP-990): the user's ID token is exchanged at the
 * identity provider for an ID-JAG (RFC 8693), which is the assertion of a jwt-bearer grant at the
 * MCP authorization server.
 */
const enterpriseManaged: Scenario = (url) => {
  const ctx = context<{
    client_id: string;
    client_secret: string;
    idp_client_id: string;
    idp_id_token: string;
    idp_issuer: string;
    idp_token_endpoint: string;
  }>()!;
  return withOAuth(url, {
    grant: 'jwt_bearer',
    clientId: ctx.client_id,
    clientSecret: ctx.client_secret,
    assertion: ({ issuer, resource }) =>
      requestIdJag({
        idpIssuer: ctx.idp_issuer,
        idpTokenEndpoint: ctx.idp_token_endpoint,
        clientId: ctx.idp_client_id,
        idToken: ctx.idp_id_token,
        audience: issuer,
        resource,
        allowInsecureRequests: true,
      }),
  });
};

const AUTHORIZATION_CODE_SCENARIOS = [
  'auth/metadata-default',
  'auth/metadata-var1',
  'auth/metadata-var2',
  'auth/metadata-var3',
  'auth/basic-cimd',
  'auth/scope-from-www-authenticate',
  'auth/scope-from-scopes-supported',
  'auth/scope-omitted-when-undefined',
  'auth/scope-step-up',
  'auth/scope-retry-limit',
  'auth/token-endpoint-auth-basic',
  'auth/token-endpoint-auth-post',
  'auth/token-endpoint-auth-none',
  'auth/2025-03-26-oauth-metadata-backcompat',
  'auth/2025-03-26-oauth-endpoint-fallback',
  'auth/resource-mismatch',
  'auth/offline-access-scope',
  'auth/offline-access-not-supported',
  'auth/authorization-server-migration',
  'auth/iss-supported',
  'auth/iss-not-advertised',
  'auth/iss-supported-missing',
  'auth/iss-wrong-issuer',
  'auth/iss-unexpected',
  'auth/iss-normalized',
  'auth/metadata-issuer-mismatch',
  'auth/dpop',
  'auth/dpop-nonce',
];

const scenarios: Record<string, Scenario> = {
  ...Object.fromEntries(AUTHORIZATION_CODE_SCENARIOS.map((n) => [n, authorizationCode])),
  'auth/pre-registration': preRegistration,
  'auth/client-credentials-basic': clientCredentialsBasic,
  'auth/client-credentials-jwt': clientCredentialsJwt,
  'auth/wif-jwt-bearer': wifJwtBearer,
  'auth/enterprise-managed-authorization': enterpriseManaged,
  'sep-2640-client-no-prefetch': skillsNoPrefetch,
  'sep-2640-client-verify-digest': skillsVerify,
  'sep-2640-client-verify-size': skillsVerify,
  'sep-2640-client-verify-frontmatter': skillsVerify,
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
