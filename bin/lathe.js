#!/usr/bin/env node
// Entry point of the `lathe` command; the CLI itself is main/cli.ts, compiled to dist/.
import { main } from '../dist/main/cli.js';

process.exitCode = await main(process.argv.slice(2));
