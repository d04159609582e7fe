import { describeStateConformance } from './suite.js';

describeStateConformance('redis');
