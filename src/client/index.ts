/**
 * Client API.
 * @module
 */

export type {
  CallOptions,
  ClientHandlers,
  ClientOptions,
  ClientRequestContext,
  Subscription,
} from './client.js';
export { Client } from './client.js';
