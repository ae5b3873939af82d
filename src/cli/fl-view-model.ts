import type {RoundRecord} from '../fl/federation.js'
import type {FlEvent} from '../fl/run-federation.js'

export type ClientCell = 'waiting' | 'done' | 'rejected' | 'excluded'

/** What the federated-learning view shows, folded from the run's events. */
export interface FlViewSnapshot {
  title: string
  detail: string
  /** Rounds of this run, and the round the federation had before it. */
  planned: number
  resumedAt: number
  round: number | null
  clients: {id: string; state: ClientCell; loss: number | null}[]
  history: RoundRecord[]
  bytesUp: number
  bytesDown: number
  epsilon: number | null
  done: boolean
}

export function initialFlView(planned: number): FlViewSnapshot {
  return {title: 'Federated learning', detail: 'loading the data…', planned, resumedAt: 0, round: null, clients: [], history: [], bytesUp: 0, bytesDown: 0, epsilon: null, done: false}
}

/** The next snapshot after an event (a pure function, tested without a terminal). */
export function reduceFlView(view: FlViewSnapshot, event: FlEvent): FlViewSnapshot {
  switch (event.type) {
    case 'setup': {
      const c = event.config
      return {
        ...view,
        title: `Federation "${event.name}" · ${c.dataset} · ${c.model === 'mlp' ? `mlp(${c.hidden})` : 'logreg'} · ${c.clients} clients${c.edges > 0 ? ` · ${c.edges} edges` : ''}`,
        detail: [
          `aggregator ${c.aggregator}${c.edges > 0 ? ` (edges: ${c.edgeAggregator})` : ''}`,
          `partition ${c.partition}`,
          ...(c.byzantine > 0 ? [`byzantine ${Math.round(c.byzantine * 100)} % ${c.attack}`] : []),
          ...(c.dp ? [`DP clip ${c.clip} σ ${c.noiseMultiplier}`] : []),
          ...(c.compress === 'none' ? [] : [`compress ${c.compress}`]),
          `${event.parameters.toLocaleString('en-US')} parameters`,
          `${event.workers} workers`,
        ].join(' · '),
        resumedAt: event.resumedAt,
      }
    }
    case 'round-start':
      return {...view, round: event.round, clients: event.sampled.map((id) => ({id, state: 'waiting', loss: null}))}
    case 'client-done':
      return {...view, clients: view.clients.map((c) => (c.id === event.clientId ? {...c, state: 'done', loss: event.loss} : c))}
    case 'round-end': {
      const rejected = new Map(event.record.rejections.map((r) => [r.clientId, r.reason]))
      return {
        ...view,
        clients: view.clients.map((c) => (rejected.has(c.id) ? {...c, state: rejected.get(c.id) === 'excluded-by-aggregator' ? 'excluded' : 'rejected'} : c)),
        history: [...view.history, event.record],
        bytesUp: view.bytesUp + event.record.bytesUp,
        bytesDown: view.bytesDown + event.record.bytesDown,
        epsilon: event.record.epsilon,
      }
    }
    case 'anchor':
      return view
  }
}

const BARS = '▁▂▃▄▅▆▇█'

/** A sparkline of values in [min, max] (default: their own range). */
export function sparkline(values: readonly number[], width = 40): string {
  const shown = values.slice(-width)
  if (shown.length === 0) return ''
  const min = Math.min(...shown)
  const max = Math.max(...shown)
  return shown.map((v) => BARS[max === min ? BARS.length - 1 : Math.round(((v - min) / (max - min)) * (BARS.length - 1))]).join('')
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`
}

/** One round as a plain line (for logs, pipes and the view's table). */
export function formatRound(r: RoundRecord, total?: number): string {
  return [
    `round ${r.round}${total === undefined ? '' : `/${total}`}`,
    `accuracy ${(r.accuracy * 100).toFixed(2)} %`,
    `loss ${r.loss.toFixed(4)}`,
    `clients ${r.participants}/${r.sampled}`,
    ...(r.rejected > 0 ? [`rejected ${r.rejected}`] : []),
    `up ${formatBytes(r.bytesUp)}`,
    `down ${formatBytes(r.bytesDown)}`,
    ...(r.epsilon === null ? [] : [`ε ${r.epsilon.toFixed(3)}`]),
    `${(r.durationMs / 1000).toFixed(2)} s`,
  ].join('  ')
}
