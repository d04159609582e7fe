import { describeRuntimePubSubConformance } from './suite.js';

await describeRuntimePubSubConformance('sqlite');
