import { describeStateConformance } from './suite.js';

describeStateConformance('postgresql-v1');
