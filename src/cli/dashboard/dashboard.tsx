import {Box, Text} from 'ink'
import type {JSX, ReactNode} from 'react'

import type {BlockSnapshot, DevnetSnapshot, NodeSnapshot, NodeTone} from '../../devnet/watch-devnet.js'

export interface DashboardProps {
  snapshot: DevnetSnapshot
  /** The last line, e.g. what Ctrl-C does here. */
  footer: string
  /** Terminal width; below 92 the table drops its RSS column to fit 80 (default 100). */
  columns?: number
}

interface Column {
  title: string
  width: number
  cell(node: NodeSnapshot, multiNode: boolean): {text: ReactNode; color?: string; bold?: boolean}
}

const TONE_COLOR: Record<NodeTone, string | undefined> = {ok: 'green', warn: 'yellow', fault: 'red'}

const dash = (value: number | string | null): number | string => value ?? '–'

/**
 * The node table's columns: 92 characters wide; below that (an 80-column terminal) the RSS
 * column goes and the others narrow to 79.
 */
export function nodeColumns(columns: number): Column[] {
  const wide = columns >= 92
  const all: (Column | false)[] = [
    {title: 'NODE', width: 5, cell: (n) => ({text: n.index})},
    {title: 'PID', width: wide ? 8 : 7, cell: (n) => ({text: dash(n.pid)})},
    {title: 'STATE', width: wide ? 15 : 14, cell: (n) => ({text: n.state.label, color: TONE_COLOR[n.state.tone], bold: n.state.tone !== 'ok'})},
    {title: 'HEIGHT', width: wide ? 8 : 7, cell: (n) => ({text: dash(n.height)})},
    {title: 'ROUND', width: 6, cell: (n) => ({text: dash(n.round), color: n.round !== null && n.round > 0 ? 'yellow' : undefined})},
    {title: 'STEP', width: 10, cell: (n) => ({text: dash(n.step)})},
    {title: 'PEERS', width: 6, cell: (n, multiNode) => ({text: dash(n.peers), color: multiNode && n.peers === 0 ? 'yellow' : undefined})},
    {
      title: 'LAST BLOCK',
      width: wide ? 18 : 16,
      cell: (n) => ({text: n.headAgeS === null ? '–' : `${formatAge(n.headAgeS)} ${n.headHash ?? ''}`}),
    },
    {title: 'MEMPOOL', width: 8, cell: (n) => ({text: dash(n.mempool)})},
    wide && {title: 'RSS', width: 8, cell: (n) => ({text: n.rssMiB === null ? '–' : `${n.rssMiB} MiB`})},
  ]
  return all.filter((c): c is Column => c !== false)
}

/** One frame of the devnet dashboard: header, node table, committed blocks, footer. Props only. */
export function Dashboard({snapshot, footer, columns = 100}: DashboardProps): JSX.Element {
  const table = nodeColumns(columns)
  const multiNode = snapshot.nodes.length > 1
  return (
    <Box flexDirection="column">
      <Header snapshot={snapshot} />
      {snapshot.error === null ? null : <Text color="red">✖ {snapshot.error}</Text>}
      <Box flexDirection="column" marginTop={1}>
        <Box>
          {table.map((column) => (
            <Cell key={column.title} width={column.width} bold>
              {column.title}
            </Cell>
          ))}
        </Box>
        {snapshot.nodes.length === 0 ? <Text dimColor>{snapshot.updatedAt === null ? 'Polling the devnet…' : 'No nodes.'}</Text> : null}
        {snapshot.nodes.map((node) => (
          <Box key={node.index}>
            {table.map((column) => {
              const {text, color, bold} = column.cell(node, multiNode)
              return (
                <Cell key={column.title} width={column.width} color={color} bold={bold}>
                  {text}
                </Cell>
              )
            })}
          </Box>
        ))}
      </Box>
      <Box flexDirection="column" marginTop={1}>
        <Text bold>Committed blocks</Text>
        {snapshot.blocks.length === 0 ? <Text dimColor>none yet</Text> : null}
        {snapshot.blocks.map((block) => (
          <BlockRow key={block.number} block={block} />
        ))}
      </Box>
      <Box marginTop={1}>
        <Text dimColor>{footer}</Text>
      </Box>
    </Box>
  )
}

function Header({snapshot}: {snapshot: DevnetSnapshot}): JSX.Element {
  const blockTime = snapshot.blockTime === null ? '…' : snapshot.blockTime === 0 ? 'automine' : `${snapshot.blockTime} ms`
  const rate = snapshot.txPerSecond === null ? '–' : snapshot.txPerSecond.toFixed(1)
  return (
    <Text>
      <Text bold color="cyan">
        devnet &quot;{snapshot.name}&quot;
      </Text>
      {`  chain ${snapshot.chainId ?? '…'}  block time ${blockTime}  head #${snapshot.headHeight ?? '–'}  `}
      <Text bold>{rate} tx/s</Text>
      <Text dimColor> (10 s)</Text>
    </Text>
  )
}

function BlockRow({block}: {block: BlockSnapshot}): JSX.Element {
  return (
    <Box>
      <Cell width={9}>#{block.number}</Cell>
      <Cell width={14}>{block.hash}</Cell>
      <Cell width={9}>{block.txs} tx</Cell>
      <Cell width={10}>{block.proposer === null ? 'node ?' : `node ${block.proposer}`}</Cell>
      <Cell width={10}>{formatAge(block.ageS)} ago</Cell>
    </Box>
  )
}

function Cell(props: {width: number; color?: string; bold?: boolean; children: ReactNode}): JSX.Element {
  return (
    <Box width={props.width} flexShrink={0}>
      <Text color={props.color} bold={props.bold} wrap="truncate">
        {props.children}
      </Text>
    </Box>
  )
}

/** Whole seconds: block timestamps have no finer resolution. */
export function formatAge(seconds: number): string {
  return `${Math.floor(seconds)}s`
}
