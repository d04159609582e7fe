import { describeStateConformance } from './suite.js';

describeStateConformance('mysql');
