/** The behaviour every official SDK client must see from the everything server, asserted exactly. */
import { expect } from 'vitest';

const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
export const sampled = {
  role: 'assistant' as const,
  content: { type: 'text' as const, text: 'sampled by the client' },
  model: 'test-model',
};
export const elicited = { action: 'accept' as const, content: { username: 'ada', email: 'ada@example.com' } };

export interface AnyClient {
  listTools(): Promise<{ tools: { name: string }[] }>;
  callTool(p: object, schema?: unknown, o?: object): Promise<any>;
  readResource(p: object): Promise<any>;
  getPrompt(p: object): Promise<any>;
  close(): Promise<void>;
}

/**
 * The SDK clients (v1 and v2) dispatch a notification a microtask late but a response at once, so
 * a progress notification read in the same stdout chunk as its response finds its handler gone and
 * is dropped (modelcontextprotocol/typescript-sdk#2580). A server writes the last progress right
 * before the response; on a busy machine the client reads both at once. This hands each message to
 * the client on its own turn of the event loop, in order, as separate pipe reads would. Wrap the
 * transport before `client.connect()`.
 */
export function oneMessagePerTurn<T extends { start(): Promise<void>; onmessage?: (message: any) => void }>(
  transport: T,
): T {
  const start = transport.start.bind(transport);
  transport.start = () => {
    const deliver = transport.onmessage!;
    let queue = Promise.resolve();
    transport.onmessage = (message) => {
      queue = queue.then(() => new Promise<void>((r) => setImmediate(r))).then(() => deliver(message));
    };
    return start();
  };
  return transport;
}

/** The checks every client must pass; outputs asserted exactly. */
export async function exercise(
  client: AnyClient,
  callTool: (name: string, args: object, opts?: object) => Promise<any>,
) {
  const tools = (await client.listTools()).tools.map((t) => t.name);
  expect(tools).toEqual(
    expect.arrayContaining(['test_simple_text', 'test_sampling', 'test_elicitation', 'echo']),
  );
  expect((await callTool('test_simple_text', {})).content).toEqual([
    { type: 'text', text: 'This is a simple text response for testing.' },
  ]);
  expect((await callTool('echo', { text: 'héllo wire' })).content).toEqual([
    { type: 'text', text: 'héllo wire' },
  ]);
  expect((await callTool('test_image_content', {})).content).toEqual([
    { type: 'image', data: PNG, mimeType: 'image/png' },
  ]);
  const err = await callTool('test_error_handling', {});
  expect(err.isError).toBe(true);
  expect(err.content).toEqual([
    { type: 'text', text: 'This tool intentionally returns an error for testing' },
  ]);
  expect((await client.readResource({ uri: 'test://static-text' })).contents).toEqual([
    {
      uri: 'test://static-text',
      mimeType: 'text/plain',
      text: 'This is the content of the static text resource.',
    },
  ]);
  expect((await client.readResource({ uri: 'test://template/42/data' })).contents).toEqual([
    {
      uri: 'test://template/42/data',
      mimeType: 'application/json',
      text: '{"id":"42","templateTest":true,"data":"Data for ID: 42"}',
    },
  ]);
  expect(
    (await client.getPrompt({ name: 'test_prompt_with_arguments', arguments: { arg1: 'a', arg2: 'b' } }))
      .messages,
  ).toEqual([{ role: 'user', content: { type: 'text', text: "Prompt with arguments: arg1='a', arg2='b'" } }]);
  const progress: number[] = [];
  const p = await callTool(
    'test_tool_with_progress',
    {},
    { onprogress: (x: { progress: number }) => progress.push(x.progress) },
  );
  expect(progress).toEqual([0, 50, 100]);
  expect(p.content[0].type).toBe('text');
  expect(p.content[0].text).not.toBe('no-progress-token');
  expect((await callTool('test_sampling', { prompt: 'Say hi' })).content).toEqual([
    { type: 'text', text: 'LLM response: sampled by the client' },
  ]);
  expect((await callTool('test_elicitation', { message: 'Who are you?' })).content).toEqual([
    {
      type: 'text',
      text: 'User response: action=accept, content={"username":"ada","email":"ada@example.com"}',
    },
  ]);
}
