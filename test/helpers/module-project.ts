import {mkdir, symlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

import {REPO_ROOT} from './devnet.js'

/**
 * Makes `xai/modules`, viem, zod and vitest resolve from `root` as in a project with xai
 * installed: node_modules/xai exports ./modules (the built library), the rest link to ours.
 */
export async function linkModuleDependencies(root: string): Promise<void> {
  const modules = join(root, 'node_modules')
  await mkdir(join(modules, 'xai'), {recursive: true})
  await writeFile(join(modules, 'xai/package.json'), JSON.stringify({name: 'xai', type: 'module', exports: {'./modules': './modules.js'}}))
  await writeFile(join(modules, 'xai/modules.js'), `export * from ${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'dist/modules/index.js')).href)}\n`)
  for (const name of ['viem', 'zod', 'vitest']) await symlink(join(REPO_ROOT, 'node_modules', name), join(modules, name))
}
