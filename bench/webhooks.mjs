// Webhook delivery throughput: signed deliveries per second from WebhookSender to a loopback
// receiver that verifies every signature with the standardwebhooks library, against a raw
// node:http POST loop (no signing, no verification) measured in the same run.
// Usage: node bench/webhooks.mjs [--seconds 3] [--concurrency 32]
import { Agent, createServer, request } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { generateWebhookSecret } from '../dist/webhooks/index.js';
import { WebhookSender } from '../dist/webhooks/sender-index.js';

const arg = (name, d) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const seconds = arg('seconds', 3);
const concurrency = arg('concurrency', 32);
const secret = generateWebhookSecret();
const verifier = new Webhook(secret);
let verified = 0;
let failed = 0;
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.headers['webhook-signature']) {
      try {
        verifier.verify(Buffer.concat(chunks).toString(), req.headers);
        verified++;
      } catch {
        failed++;
      }
    }
    res.writeHead(204).end();
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/hooks`;
const body = JSON.stringify({
  eventId: 'e',
  name: 'bench.tick',
  timestamp: new Date().toISOString(),
  data: { n: 1 },
});

async function run(send) {
  let n = 0;
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        await send(n++);
      }
    }),
  );
  return n / seconds;
}

const rawAgent = new Agent({ keepAlive: true, maxSockets: 64 });
const sender = new WebhookSender({ allowInsecureWebhookTargets: true });
const signedRate = await run((i) =>
  sender.attempt({ url, webhookId: `evt_${i}`, subscriptionId: 'sub_bench', body, secrets: [secret] }),
);
const rawRate = await run(
  () =>
    new Promise((resolve, reject) => {
      const req = request(
        url,
        { method: 'POST', agent: rawAgent, headers: { 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end(body);
    }),
);
sender.close();
rawAgent.destroy();
server.close();
console.log(
  JSON.stringify({
    signedDeliveriesPerSec: Math.round(signedRate),
    rawPostsPerSec: Math.round(rawRate),
    ratio: Number((signedRate / rawRate).toFixed(2)),
    verified,
    failed,
    concurrency,
    seconds,
  }),
);
