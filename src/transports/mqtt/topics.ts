/**
 * The MQTT binding's topic layout and wire conventions, as a pure unit (no broker, no I/O).
 *
 * | topic | who subscribes | who publishes |
 * | --- | --- | --- |
 * | `<prefix>/<serverName>/rpc` | the server | every client: requests, notifications, answers to legacy server requests |
 * | `<prefix>/<serverName>/client/<clientId>` | that one client | the server: responses, notifications, legacy server requests |
 *
 * `<prefix>` is `mcp` unless configured. A client names its reply topic in the MQTT 5 Response Topic
 * property of every publish; the server keeps one virtual connection per reply topic.
 * Control messages carry the user property `mcp-control` (`disconnect`, `keepalive`) and no payload;
 * an empty payload without it also means `disconnect`.
 * @module
 */

/** Default first topic level: `mcp`. */
export const DEFAULT_TOPIC_PREFIX = 'mcp';

/** MQTT 5 user property names the binding reads or writes (lower case). */
export const MQTT_USER_PROPERTY = {
  /** A control message: `disconnect` (end the virtual connection) or `keepalive`. */
  control: 'mcp-control',
  /** Why a `disconnect` was sent: `client`, `will`, `idle`, `shutdown`. Informational. */
  reason: 'mcp-reason',
  /** What the server's payload is: `response`, `notification`, `request`, `batch`. Informational. */
  kind: 'mcp-kind',
} as const;

/** Values of the `mcp-control` user property. */
export type MqttControl = 'disconnect' | 'keepalive';

/** The topics of one server. */
export interface MqttTopics {
  /** Where clients publish: `<prefix>/<serverName>/rpc`. */
  readonly request: string;
  /** Everything before a client id in a reply topic: `<prefix>/<serverName>/client/`. */
  readonly replyPrefix: string;
  /** The reply topic of `clientId`: `<prefix>/<serverName>/client/<clientId>`. */
  reply(clientId: string): string;
  /** The client id named by a reply topic of this layout, or `undefined` when the topic is not one. */
  clientIdOf(replyTopic: string): string | undefined;
}

/**
 * Checks one topic level (a server name or client id): non-empty, no `/`, no MQTT wildcards
 * (`+`, `#`), no NUL, at most 256 UTF-8 bytes.
 * @throws TypeError naming `what` when `value` is not usable
 */
export function assertTopicLevel(what: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0 || /[/+#\0]/.test(value)) {
    throw new TypeError(
      `anywire: MQTT ${what} must be one non-empty topic level without "/", "+", "#" (got ${JSON.stringify(value)})`,
    );
  }
  if (Buffer.byteLength(value) > 256) throw new TypeError(`anywire: MQTT ${what} is longer than 256 bytes`);
}

/**
 * The topic layout for `serverName` under `prefix`.
 * @throws TypeError when the name or prefix is not a usable topic (see {@link assertTopicLevel})
 */
export function mqttTopics(serverName: string, prefix: string = DEFAULT_TOPIC_PREFIX): MqttTopics {
  assertTopicLevel('server name', serverName);
  for (const level of prefix.split('/')) assertTopicLevel('topic prefix level', level);
  const base = `${prefix}/${serverName}`;
  const replyPrefix = `${base}/client/`;
  return {
    request: `${base}/rpc`,
    replyPrefix,
    reply(clientId) {
      assertTopicLevel('client id', clientId);
      return replyPrefix + clientId;
    },
    clientIdOf(replyTopic) {
      if (!replyTopic.startsWith(replyPrefix)) return undefined;
      const id = replyTopic.slice(replyPrefix.length);
      return id.length > 0 && !/[/+#\0]/.test(id) ? id : undefined;
    },
  };
}

/** A parsed `mqtt://` or `mqtts://` target. */
export interface MqttTarget {
  /** The broker URL without credentials, path or query: `mqtt://host:port`. */
  url: string;
  /** The server name: the URL path's one level, percent-decoded. */
  serverName: string;
  /** From the URL's user info, percent-decoded. */
  username?: string;
  password?: string;
  /** The `clientId` query parameter, if given. */
  clientId?: string;
  /** The `prefix` query parameter (topic prefix), if given. */
  topicPrefix?: string;
}

/**
 * Reads `mqtt://[user[:password]@]broker[:port]/<serverName>[?clientId=..&prefix=..]` (or `mqtts://`,
 * `tcp://`, `ssl://`, `tls://`). The port defaults to 1883 (`mqtt`) or 8883 (`mqtts`).
 * @throws TypeError for another scheme, a missing or multi-level server name
 */
export function parseMqttUrl(url: string | URL): MqttTarget {
  const u = typeof url === 'string' ? new URL(url) : url;
  const scheme = u.protocol.slice(0, -1).toLowerCase();
  const secure = scheme === 'mqtts' || scheme === 'ssl' || scheme === 'tls';
  if (!secure && scheme !== 'mqtt' && scheme !== 'tcp') {
    throw new TypeError(`anywire: not an MQTT URL (${u.protocol}); use mqtt://broker:port/<server>`);
  }
  const path = u.pathname.replace(/^\/+|\/+$/g, '');
  if (!path) throw new TypeError(`anywire: the MQTT URL names no server: use ${u.protocol}//broker/<server>`);
  const serverName = decodeURIComponent(path);
  assertTopicLevel('server name', serverName);
  const port = u.port || (secure ? '8883' : '1883');
  const target: MqttTarget = { url: `${secure ? 'mqtts' : 'mqtt'}://${u.hostname}:${port}`, serverName };
  if (u.username) target.username = decodeURIComponent(u.username);
  if (u.password) target.password = decodeURIComponent(u.password);
  const clientId = u.searchParams.get('clientId');
  if (clientId) target.clientId = clientId;
  const prefix = u.searchParams.get('prefix');
  if (prefix) target.topicPrefix = prefix;
  return target;
}
