import {XaiError} from '../util/errors.js'
import type {Random} from './random.js'

/**
 * The two steps of client-level differential privacy (DP-FedAvg): each client's update is clipped
 * to L2 norm `clip`, and Gaussian noise of standard deviation `noiseMultiplier · clip` is added to
 * the sum of the clipped updates. The privacy this buys is counted by the RDP accountant.
 */

export const DpErrorCode = {
  invalidClip: 'FL_INVALID_CLIP',
  invalidNoise: 'FL_INVALID_NOISE',
  nonFiniteUpdate: 'FL_NON_FINITE_UPDATE',
} as const
export type DpErrorCode = (typeof DpErrorCode)[keyof typeof DpErrorCode]

/**
 * A scale a little below clip / norm: float32 rounding of x · scale can grow each coordinate by a
 * relative 2^-24, so scaling by (clip / norm)(1 − 2^-22) keeps the clipped norm ≤ clip exactly,
 * which is what the sensitivity bound of the Gaussian mechanism needs.
 */
const SAFETY = 1 - 2 ** -22

/**
 * Scales `update` in place to L2 norm at most `clip` (norm in float64) and returns the scale
 * applied: 1 when the norm is already ≤ clip.
 */
export function clipUpdate(update: Float32Array, clip: number): number {
  if (!(clip > 0 && clip < Infinity)) {
    throw new XaiError(DpErrorCode.invalidClip, `The clipping norm must be a positive number, not ${clip}`, {
      hint: 'Pass --clip with a positive value (for example --clip 1).',
      details: {clip},
    })
  }
  const norm = l2Norm(update)
  if (!Number.isFinite(norm)) {
    throw new XaiError(DpErrorCode.nonFiniteUpdate, 'The update has a non-finite norm and cannot be clipped', {
      hint: 'Training diverged: lower --lr.',
    })
  }
  if (norm <= clip) return 1
  const scale = (clip / norm) * SAFETY
  for (let i = 0; i < update.length; i++) update[i]! *= scale
  return scale
}

/** The L2 norm of `values`, accumulated in float64. */
export function l2Norm(values: Float32Array): number {
  let sum = 0
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!
    sum += x * x
  }
  return Math.sqrt(sum)
}

/** Adds independent N(0, std²) noise to every coordinate of `sum` in place (std 0: unchanged, no draws). */
export function addGaussianNoise(sum: Float32Array, std: number, rng: Random): void {
  if (!(std >= 0 && std < Infinity)) {
    throw new XaiError(DpErrorCode.invalidNoise, `The noise standard deviation must be a non-negative number, not ${std}`, {
      hint: 'Pass --noise-multiplier and --clip as non-negative numbers.',
      details: {std},
    })
  }
  if (std === 0) return
  for (let i = 0; i < sum.length; i++) sum[i]! += std * rng.normal()
}
