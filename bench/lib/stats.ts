import {readFileSync} from 'node:fs'

/** Percentile with linear interpolation between closest ranks (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = (p / 100) * (sorted.length - 1)
  const lo = Math.floor(rank)
  const hi = Math.ceil(rank)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo)
}

export function median(values: readonly number[]): number {
  return percentile(values, 50)
}

export const MiB = 1024 * 1024

export function round(value: number, digits = 1): number {
  if (!Number.isFinite(value)) return value
  const f = 10 ** digits
  return Math.round(value * f) / f
}

/** CPU time (user+system) of a process in ms from /proc/<pid>/stat; undefined if unavailable. */
const CLK_TCK = 100 // USER_HZ on Linux x86-64
export function procCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the ")" that ends the command name: state is field 3; utime=14, stime=15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const utime = Number(rest[11])
    const stime = Number(rest[12])
    return ((utime + stime) * 1000) / CLK_TCK
  } catch {
    return undefined
  }
}
