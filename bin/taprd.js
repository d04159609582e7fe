#!/usr/bin/env node
import { main } from '../dist/src/cmd/taprd.js';

main(process.argv.slice(2));
