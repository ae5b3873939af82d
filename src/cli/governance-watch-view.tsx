import {Box, Text} from 'ink'
import type {JSX} from 'react'

import type {WatchSnapshot} from '../client/watch-proposals.js'

const STATE_COLOR: Record<string, string> = {Active: 'cyan', Queued: 'yellow', Executed: 'green', Failed: 'red', Defeated: 'red', Vetoed: 'magenta', Canceled: 'gray'}
const OUTCOME: Record<string, string> = {passed: 'passes', 'no-quorum': 'no quorum', 'below-threshold': 'not enough yes', vetoed: 'vetoed'}

export interface GovernanceWatchProps {
  /** Undefined until the first read ("connecting…"). */
  snapshot?: WatchSnapshot
  /** A read error to show above the (last good) snapshot. */
  error?: string
}

/** The live proposals view: each one's countdown, tally bars against quorum, and outcome. Props only. */
export function GovernanceWatch({snapshot, error}: GovernanceWatchProps): JSX.Element {
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

/** A bar of `width` cells, `share` (0..100) of them filled. */
export function bar(share: number, width = 20): string {
  const filled = Math.max(0, Math.min(width, Math.round((share / 100) * width)))
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`
}
