import { inMemoryBroker } from './brokers/in-memory.js';
import { describePubSubConformance } from './suite.js';

describePubSubConformance(inMemoryBroker);
