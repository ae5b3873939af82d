import {XaiError} from '../util/errors.js'
import type {Random} from './random.js'

/**
 * What a Byzantine client does to its update (for testing robustness):
 * - sign-flip[:k]: sends −k × its honest update (default k = 4, so that a minority can outweigh
 *   the honest majority in a plain average, as in the robust-aggregation literature);
 * - scale:k: sends k × its honest update;
 * - gaussian:σ: sends N(0, σ²) noise in every coordinate instead of an update;
 * - label-flip: trains honestly on labels mapped y → classes − 1 − y.
 */
export type AttackSpec = {kind: 'sign-flip'; k: number} | {kind: 'scale'; k: number} | {kind: 'gaussian'; sigma: number} | {kind: 'label-flip'}

export const ATTACK_FORMS = 'sign-flip[:k] | scale:<k> | gaussian:<sigma> | label-flip'

export function parseAttack(text: string): AttackSpec {
  const [kind, arg, ...rest] = text.trim().split(':')
  const number = (fallback?: number): number => {
    const value = arg === undefined || arg === '' ? fallback : Number(arg)
    if (value === undefined || !Number.isFinite(value) || rest.length > 0) throw invalidAttack(text)
    return value
  }
  switch (kind) {
    case 'sign-flip':
      return {kind, k: positive(number(4), text)}
    case 'scale':
      return {kind, k: number()}
    case 'gaussian':
      return {kind, sigma: positive(number(), text)}
    case 'label-flip':
      if (arg !== undefined) throw invalidAttack(text)
      return {kind}
    default:
      throw invalidAttack(text)
  }
}

export function formatAttack(spec: AttackSpec): string {
  switch (spec.kind) {
    case 'sign-flip':
      return `sign-flip:${spec.k}`
    case 'scale':
      return `scale:${spec.k}`
    case 'gaussian':
      return `gaussian:${spec.sigma}`
    case 'label-flip':
      return 'label-flip'
  }
}

/** Turns an honest update into the attacker's, in place (label-flip acts in training instead). */
export function applyAttack(spec: AttackSpec, update: Float32Array, rng: Random): void {
  switch (spec.kind) {
    case 'sign-flip':
      for (let i = 0; i < update.length; i++) update[i] = -spec.k * update[i]!
      return
    case 'scale':
      for (let i = 0; i < update.length; i++) update[i] = spec.k * update[i]!
      return
    case 'gaussian':
      for (let i = 0; i < update.length; i++) update[i] = spec.sigma * rng.normal()
      return
    case 'label-flip':
      return
  }
}

function positive(value: number, text: string): number {
  if (!(value > 0)) throw invalidAttack(text)
  return value
}

function invalidAttack(text: string): XaiError {
  return new XaiError('FL_INVALID_ATTACK', `"${text}" is not an attack`, {hint: `Use one of: ${ATTACK_FORMS}`})
}
