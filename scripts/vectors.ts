/**
 * Writes the conformance vectors to docs/spec/vectors/ (`npm run vectors`). The unit test
 * test/unit/conformance/vectors.test.ts regenerates them in memory and fails on any drift.
 */
import {mkdir, writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {formatVectorFile, generateVectors} from '../src/conformance/vectors.js'

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'spec', 'vectors')
await mkdir(dir, {recursive: true})
const files = await generateVectors()
for (const [name, content] of Object.entries(files)) {
  await writeFile(join(dir, name), formatVectorFile(content))
  process.stdout.write(`wrote docs/spec/vectors/${name}\n`)
}
