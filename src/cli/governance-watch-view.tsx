import {Box, Text, render} from 'ink'
import type {JSX} from 'react'

import {type WatchSnapshot, bar} from './governance-watch-model.js'

const STATE_COLOR: Record<string, string> = {Active: 'cyan', Queued: 'yellow', Executed: 'green', Failed: 'red', Defeated: 'red', Vetoed: 'magenta', Canceled: 'gray'}
const OUTCOME: Record<string, string> = {passed: 'passes', 'no-quorum': 'no quorum', 'below-threshold': 'not enough yes', vetoed: 'vetoed'}

export function GovernanceWatch({snapshot, error}: {snapshot?: WatchSnapshot; error?: string}): JSX.Element {
  return (
    <Box flexDirection="column">
      <Text bold>Governance {snapshot ? <Text dimColor>· block {snapshot.head}</Text> : <Text dimColor>· connecting…</Text>}</Text>
      {error ? <Text color="red">{error}</Text> : null}
      {snapshot && snapshot.proposals.length === 0 ? <Text dimColor>No open proposals.</Text> : null}
      {snapshot?.proposals.map((p) => (
        <Box key={p.id} flexDirection="column" marginTop={1}>
          <Text>
            <Text bold>#{p.id}</Text> {p.title} <Text dimColor>({p.kind})</Text> <Text color={STATE_COLOR[p.state]}>{p.state}</Text>
            {p.blocksLeft === null ? '' : <Text color="cyan"> · {p.blocksLeft} block{p.blocksLeft === 1 ? '' : 's'} left</Text>}
          </Text>
          <Text dimColor>  {p.stage}</Text>
          <Text>
            {'  '}yes <Text color="green">{bar(p.tally.percent.yes)}</Text> {p.tally.percent.yes.toFixed(1)} %{'  '}no {p.tally.percent.no.toFixed(1)} %{'  '}abstain {p.tally.percent.abstain.toFixed(1)} %{'  '}veto{' '}
            <Text color={p.tally.vetoThreshold.vetoed ? 'magenta' : undefined}>{p.tally.percent.veto.toFixed(1)} %</Text>
          </Text>
          <Text>
            {'  '}turnout <Text color={p.tally.quorum.reached ? 'green' : 'yellow'}>{bar(p.tally.quorum.turnout)}</Text> {p.tally.quorum.turnout.toFixed(1)} % of {(p.tally.quorum.bps / 100).toFixed(2)} % quorum
            {'  '}→ <Text bold>{OUTCOME[p.tally.outcome]}</Text>
          </Text>
        </Box>
      ))}
      <Text dimColor>Ctrl-C to stop watching</Text>
    </Box>
  )
}

/** Renders the watch view on stderr; `update` redraws it. */
export function startGovernanceWatch(stdout: NodeJS.WriteStream = process.stderr): {update(snapshot?: WatchSnapshot, error?: string): void; end(): Promise<void>} {
  const ink = render(<GovernanceWatch />, {stdout, exitOnCtrlC: false, patchConsole: false})
  return {
    update(snapshot, error) {
      ink.rerender(<GovernanceWatch snapshot={snapshot} error={error} />)
    },
    async end() {
      ink.unmount()
      await ink.waitUntilExit().catch(() => undefined)
    },
  }
}
