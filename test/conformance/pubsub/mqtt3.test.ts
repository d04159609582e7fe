import { mqtt3Broker } from './brokers/mqtt3.js';
import { describePubSubConformance } from './suite.js';

describePubSubConformance(mqtt3Broker);
