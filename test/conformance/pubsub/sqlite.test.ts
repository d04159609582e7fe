import { sqliteBroker } from './brokers/sqlite.js';
import { describePubSubConformance } from './suite.js';

describePubSubConformance(sqliteBroker);
