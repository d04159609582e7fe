import { describeStateConformance } from './suite.js';

describeStateConformance('in-memory');
