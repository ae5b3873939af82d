import type {ProposalInfo} from './governance-client.js'

/** Where a proposal stands relative to the head block, in words ("voting until block 15, 3 to go"). */
export function stage(p: Pick<ProposalInfo, 'state' | 'votingEndHeight' | 'executableHeight'>, head: number): string {
  switch (p.state) {
    case 'Active':
      return p.votingEndHeight >= head + 1 ? `voting until block ${p.votingEndHeight}, ${p.votingEndHeight - head} to go` : `voting ended at block ${p.votingEndHeight}; tallied at its end`
    case 'Queued':
      return p.executableHeight === null ? 'queued' : `executes in block ${p.executableHeight}`
    case 'Executed':
      return p.executableHeight === null ? 'executed' : `executed in block ${p.executableHeight}`
    case 'Defeated':
    case 'Vetoed':
      return `tallied at block ${p.votingEndHeight}`
    case 'Failed':
      return 'execution failed'
    default:
      return p.state.toLowerCase()
  }
}
