import { redisBroker } from './brokers/redis.js';
import { describePubSubConformance } from './suite.js';

describePubSubConformance(redisBroker);
