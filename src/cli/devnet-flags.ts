import {resolve} from 'node:path'

import {Flags} from '@oclif/core'

/** Flags every `xai devnet` command shares: which devnet, and where devnets live. */
export const devnetFlags = {
  name: Flags.string({description: 'Devnet name (a folder under <dir>/devnets/)', default: 'default', env: 'XAI_DEVNET'}),
  dir: Flags.string({description: 'Folder holding devnets/ [default: ./.xai]', env: 'XAI_HOME'}),
}

/** The folder holding devnets/, resolved once here (libraries never read the cwd). */
export function devnetsRoot(dir: string | undefined): string {
  return resolve(dir ?? resolve(process.cwd(), '.xai'))
}
