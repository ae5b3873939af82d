import {Args, Flags} from '@oclif/core'

import {XaiCommand} from '../../cli/xai-command.js'
import {type CreateModuleResult, createModule, displayPath} from '../../modules/create-module.js'

export default class ModuleCreate extends XaiCommand<CreateModuleResult> {
  static override summary = 'Scaffold a native module: source, Solidity interface, tests, README and activation proposal.'
  static override description = `Writes <dir>/<name>/ from the module template (a working counter):
  src/<name>.ts            the module, implementing NativeModule from xai/modules
  <Name>.sol               its Solidity interface (calls and events)
  test/<name>.test.ts      unit tests with the module test kit, including the determinism replay
  README.md                hooks, parameters, calls, events, how to activate
  proposals/activate.yaml  a module-activate proposal carrying the source's code hash

NAME is the module id: lowercase letters, digits and dashes, starting with a letter, 2 to 32 characters.`

  static override examples = [
    {description: 'A module folder my-counter/ here', command: '<%= config.bin %> <%= command.id %> my-counter'},
    {description: 'Under modules/, then check it', command: '<%= config.bin %> <%= command.id %> fees --dir modules && <%= config.bin %> module test modules/fees'},
    {description: 'Start over, as JSON', command: '<%= config.bin %> <%= command.id %> my-counter --force --json'},
  ]

  static override args = {
    name: Args.string({description: 'Module id (e.g. my-counter)', required: true}),
  }

  static override flags = {
    dir: Flags.string({description: 'Folder to create the module folder in', default: '.', env: 'XAI_MODULE_DIR'}),
    force: Flags.boolean({description: 'Overwrite the template files of an existing module folder', default: false, env: 'XAI_MODULE_FORCE'}),
  }

  async run(): Promise<CreateModuleResult> {
    const {args, flags} = await this.parse(ModuleCreate)
    const result = await createModule({name: args.name, dir: flags.dir, force: flags.force})
    if (!this.jsonEnabled()) {
      const folder = displayPath(result.folder, process.cwd())
      process.stdout.write(`${result.files.map((file) => `  created  ${folder}/${file}`).join('\n')}\n`)
      process.stdout.write(`  address  ${result.address}\n  codeHash ${result.codeHash}\n`)
      this.note(`Next: xai module test ${folder}`)
    }
    return result
  }
}
