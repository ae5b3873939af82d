import {Flags} from '@oclif/core'

import {devnetFlags, devnetsRoot} from '../../cli/devnet-flags.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {describeDevnetEvent} from '../../cli/devnet-format.js'
import {type StopDevnetResult, stopDevnet} from '../../devnet/stop-devnet.js'

export default class DevnetDown extends XaiCommand<StopDevnetResult> {
  static override summary = 'Stop a running devnet, keeping its data.'
  static override description = `Stops every node of the devnet (and the Prometheus \`up --prometheus\` started) by the PID recorded in devnet.json: SIGTERM, then SIGKILL if a node has not exited after the grace period. Chain data stays; \`xai devnet up\` resumes from it. Stopping a devnet that is not running is not an error.

A devnet started with --state FILE first writes its head state to FILE (anvil's JSON dump, as anvil --state does on exit); \`state\` in the JSON result says where, or why it could not.`

  static override examples = [
    {description: 'Stop the default devnet', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Stop a named devnet', command: '<%= config.bin %> <%= command.id %> --name staging'},
    {description: 'Stop it from a script and check how many nodes were running', command: "<%= config.bin %> <%= command.id %> --json | jq '.stopped'"},
    {description: 'Give nodes 30 s to shut down cleanly before SIGKILL', command: '<%= config.bin %> <%= command.id %> --grace-period 30000'},
  ]

  static override flags = {
    ...devnetFlags,
    'grace-period': Flags.integer({description: 'Milliseconds between SIGTERM and SIGKILL', default: 10_000, min: 0, env: 'XAI_GRACE_PERIOD'}),
  }

  async run(): Promise<StopDevnetResult> {
    const {flags} = await this.parse(DevnetDown)
    const result = await stopDevnet(
      {dir: devnetsRoot(flags.dir), name: flags.name, graceMs: flags['grace-period']},
      {
        onEvent: (event) => {
          if (event.type === 'node-stopped' && event.outcome !== 'not-running') this.note(`Stopped node ${event.index} (PID ${event.pid}, ${event.outcome})`)
          if (event.type === 'state-saved' && event.error === undefined) this.note(describeDevnetEvent(event))
          if (event.type === 'state-saved' && event.error !== undefined) this.warn(`${describeDevnetEvent(event)}. The chain is kept: xai devnet up, then xai devnet state save ${event.file}`)
        },
      },
    )
    if (result.prometheus && result.prometheus !== 'not-running') this.note(`Stopped Prometheus (${result.prometheus})`)
    this.note(result.stopped === 0 ? `Devnet "${result.name}" was not running.` : `Devnet "${result.name}" stopped; \`xai devnet up\` resumes it.`)
    return result
  }
}
