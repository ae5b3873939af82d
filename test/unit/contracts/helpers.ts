import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {writeFileAtomic} from '../../../src/util/atomic-write.js'
import {initProject} from '../../../src/contracts/init-project.js'
import {type Project, openProject} from '../../../src/contracts/project.js'

/** A fresh project from `xai contract init` in a temporary folder, and its removal. */
export async function tempProject(): Promise<{project: Project; root: string; write(path: string, content: string): Promise<void>; cleanup(): Promise<void>}> {
  const root = await mkdtemp(join(tmpdir(), 'xai-contracts-'))
  await initProject({dir: root})
  return {
    project: await openProject(root),
    root,
    write: (path, content) => writeFileAtomic(join(root, path), content),
    cleanup: () => rm(root, {recursive: true, force: true}),
  }
}

export const HEADER = '// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\n'
