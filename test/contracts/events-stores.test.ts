/**
 * The Events store contracts (occurrence log, webhook subscriptions, delivery queue) on the
 * in-memory stores. The Redis stores run the same suites in test/redis-events.test.ts.
 */
import { InMemoryWebhookDeliveryQueue } from '../../src/events/memory-deliveries.js';
import { InMemoryEventLog } from '../../src/events/memory-log.js';
import { InMemoryWebhookSubscriptionStore } from '../../src/events/memory-subscriptions.js';
import { deliveryQueueContract } from './events-deliveries.contract.js';
import { eventLogContract } from './events-log.contract.js';
import { subscriptionStoreContract } from './events-subscriptions.contract.js';

eventLogContract('InMemoryEventLog', (o) => new InMemoryEventLog(o));
subscriptionStoreContract('InMemoryWebhookSubscriptionStore', () => new InMemoryWebhookSubscriptionStore());
deliveryQueueContract('InMemoryWebhookDeliveryQueue', async () => [new InMemoryWebhookDeliveryQueue()]);
