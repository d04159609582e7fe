#!/usr/bin/env node
import { main } from '../dist/src/cmd/tapr.js';

main(process.argv.slice(2));
