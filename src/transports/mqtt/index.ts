/**
 * `anywire/mqtt`: the MQTT 5 binding (Node only; uses the `mqtt` package).
 *
 * Topic layout (prefix `mcp` unless configured):
 *
 *   mcp/<serverName>/rpc                the server subscribes; clients publish every message here
 *   mcp/<serverName>/client/<clientId>  one client subscribes; the server publishes to it here
 *
 * One JSON-RPC message per publish (UTF-8 JSON), QoS 1, MQTT 5 Response Topic = the client's reply
 * topic, Correlation Data echoed. Control messages carry `mcp-control: disconnect | keepalive`.
 * See `serveMqtt` (server.ts) and `MqttClientTransport` (client.ts) for sessions, outages and limits.
 * @module
 */

export type { MqttClientTransportOptions } from './client.js';
export { connectMqtt, MQTT_CLIENT_DEFAULTS, MqttClientTransport } from './client.js';
export type { DecodedPayload, MessageKind, UserProperties } from './codec.js';
export { decodePayload, headersFrom } from './codec.js';
export type { MqttBrokerOptions, MqttTlsOptions } from './connect.js';
export {
  DEFAULT_MQTT_CONNECT_TIMEOUT_MS,
  DEFAULT_MQTT_RECONNECT_PERIOD_MS,
  MQTT_PACKET_HEADROOM_BYTES,
} from './connect.js';
export type { MqttServerHandle, MqttServerOptions } from './server.js';
export { MQTT_SERVER_DEFAULTS, serveMqtt } from './server.js';
export type { MqttControl, MqttTarget, MqttTopics } from './topics.js';
export { DEFAULT_TOPIC_PREFIX, MQTT_USER_PROPERTY, mqttTopics, parseMqttUrl } from './topics.js';
export type { Authenticator, AuthRequest } from '../../protocol/auth.js';
export { AuthError } from '../../protocol/auth.js';
export type { MqttClientInfo } from './virtual-connection.js';
export { MQTT_WWW_AUTHENTICATE } from './virtual-connection.js';
