import { rabbitmqBroker } from './brokers/rabbitmq.js';
import { describePubSubConformance } from './suite.js';

describePubSubConformance(rabbitmqBroker);
