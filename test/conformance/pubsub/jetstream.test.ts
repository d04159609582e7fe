import { jetstreamBroker } from './brokers/jetstream.js';
import { describePubSubConformance } from './suite.js';

describePubSubConformance(jetstreamBroker);
