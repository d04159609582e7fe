import { describeRuntimePubSubConformance } from './suite.js';

await describeRuntimePubSubConformance('mqtt3');
