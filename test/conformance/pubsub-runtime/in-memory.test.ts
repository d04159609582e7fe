import { describeRuntimePubSubConformance } from './suite.js';

await describeRuntimePubSubConformance('in-memory');
