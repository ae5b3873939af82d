#!/usr/bin/env node
// One xai node process: `xai node start`'s flags, without the CLI framework (what `xai devnet up` spawns).
import {runNodeEntry} from '../dist/cli/node-entry.js'

process.exitCode = await runNodeEntry(process.argv.slice(2))
