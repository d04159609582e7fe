import type { AppChannel } from '../core/ports/app-channel.js';
import type { SubscriberAppChannel } from '../core/pubsub/subscriptions/delivery-port.js';
import { GrpcAppChannel } from './grpc-app-channel.js';
import { GrpcSubscriberChannel } from './pubsub-grpc.js';
import { HttpSubscriberChannel } from './pubsub-http.js';

export { GrpcSubscriberChannel } from './pubsub-grpc.js';
export { HttpSubscriberChannel } from './pubsub-http.js';

/** The pub/sub delivery channel for the app behind `channel`, by its protocol. */
export function createSubscriberChannel(channel: AppChannel): SubscriberAppChannel {
  if (channel instanceof GrpcAppChannel) return new GrpcSubscriberChannel(() => channel.clients);
  return new HttpSubscriberChannel(channel);
}
