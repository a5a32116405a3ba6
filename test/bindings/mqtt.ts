import { randomBytes } from 'node:crypto';
import { connectAsync } from 'mqtt';
import { MqttClientTransport, serveMqtt } from '../../src/transports/mqtt/index.js';
import type { Broker } from '../fixtures/mqtt-broker.js';
import { mosquittoMissing, startBroker } from '../fixtures/mqtt-broker.js';
import type { MatrixBinding } from './types.js';

const SERVER_NAME = 'matrix';
const MAX_MESSAGE_BYTES = 65536;

/** MQTT 5 through a private mosquitto: the binding starts its own broker on a free port. */
export const binding: MatrixBinding = {
  name: 'mqtt',
  eras: ['legacy', 'modern'],
  identities: true,
  unavailable: async () => mosquittoMissing(),
  async start(server, options = {}) {
    const broker: Broker = await startBroker();
    const handle = await serveMqtt(server, {
      url: broker.url,
      serverName: SERVER_NAME,
      maxMessageBytes: MAX_MESSAGE_BYTES,
      authenticator: options.authenticator,
    });
    return {
      connect: (authorization) =>
        new MqttClientTransport({
          url: broker.url,
          serverName: SERVER_NAME,
          ...(authorization ? { userProperties: { authorization } } : {}),
        }),
      stop: async () => {
        await handle.close();
        await broker.dispose();
      },
      maxMessageBytes: MAX_MESSAGE_BYTES,
      // A raw MQTT client: subscribe to a fresh reply topic, publish the frame, take the first answer.
      async raw(frame) {
        const replyTopic = `mcp/${SERVER_NAME}/client/raw-${randomBytes(4).toString('hex')}`;
        const c = await connectAsync(broker.url, { protocolVersion: 5 });
        try {
          await c.subscribeAsync(replyTopic, { qos: 1 });
          const answer = new Promise<unknown>((resolve) =>
            c.once('message', (_topic, payload) => resolve(JSON.parse(payload.toString()))),
          );
          await c.publishAsync(`mcp/${SERVER_NAME}/rpc`, frame, {
            qos: 1,
            properties: { responseTopic: replyTopic, correlationData: Buffer.from('raw') },
          });
          return await answer;
        } finally {
          await c.endAsync();
        }
      },
    };
  },
};
