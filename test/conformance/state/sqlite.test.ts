import { describeStateConformance } from './suite.js';

describeStateConformance('sqlite');
