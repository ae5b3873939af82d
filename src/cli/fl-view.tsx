import {Box, Text} from 'ink'
import type {JSX} from 'react'

import {type FlViewSnapshot, formatBytes, formatRound, sparkline} from './fl-view-model.js'

const CELL: Record<string, {glyph: string; color?: string}> = {
  waiting: {glyph: '·'},
  done: {glyph: '●', color: 'green'},
  rejected: {glyph: '✗', color: 'red'},
  excluded: {glyph: '○', color: 'yellow'},
}

/** The live federated-learning view, folded from the run's events by reduceFlView. Props only. */
export function FlView({view}: {view: FlViewSnapshot}): JSX.Element {
  const last = view.history.at(-1)
  return (
    <Box flexDirection="column">
      <Text bold>{view.title}</Text>
      <Text dimColor>{view.detail}</Text>
      <Box marginTop={1}>
        <Text>
          {view.round === null ? 'Starting…' : `Round ${view.round} (${view.round - view.resumedAt}/${view.planned} of this run)`}
          {'  '}
        </Text>
        {view.clients.map((c) => (
          <Text key={c.id} color={CELL[c.state]!.color}>
            {CELL[c.state]!.glyph}
          </Text>
        ))}
      </Box>
      {view.history.length === 0 ? null : (
        <Box flexDirection="column" marginTop={1}>
          <Text>
            accuracy <Text color="cyan">{sparkline(view.history.map((r) => r.accuracy))}</Text> {last ? `${(last.accuracy * 100).toFixed(2)} %` : ''}
          </Text>
          {view.history.slice(-6).map((r) => (
            <Text key={r.round} dimColor={r !== last}>
              {formatRound(r)}
            </Text>
          ))}
          <Text>
            total up {formatBytes(view.bytesUp)} · down {formatBytes(view.bytesDown)}
            {view.epsilon === null ? '' : ` · ε so far ${view.epsilon.toFixed(3)}`}
          </Text>
        </Box>
      )}
      <Text dimColor>● trained · ✗ rejected by its edge · ○ left out by the aggregator · Ctrl-C stops after the round</Text>
    </Box>
  )
}
