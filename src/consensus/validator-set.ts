import {ExitCode, XaiError} from '../util/errors.js'
import type {ValidatorAddress, ValidatorInfo} from './types.js'

/** The longest proposer schedule kept; larger power sums are scaled down for the schedule only. */
const MAX_CYCLE = 100_000

const ADDRESS = /^0x[0-9a-f]{40}$/

/** A validator set that cannot be used: empty, a malformed address, a bad power, a duplicate. */
export class InvalidValidatorSetError extends XaiError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('CONSENSUS_INVALID_VALIDATOR_SET', message, {
      exitCode: ExitCode.usage,
      hint: 'Give each validator a lowercase 0x address of 20 bytes and a positive integer power, each address once.',
      details,
    })
  }
}

/**
 * The validators of a height with their voting power: quorum thresholds and the proposer
 * schedule. Every node builds the same set from the same list, so every node computes the same
 * proposer for each (height, round).
 *
 * @example
 * const set = new ValidatorSet([{address: a, power: 1}, {address: b, power: 1}, {address: c, power: 2}])
 * set.quorum // 3: more than 2/3 of 4
 * set.proposer(1, 0)
 */
export class ValidatorSet {
  /** The validators, sorted by address. */
  readonly validators: readonly ValidatorInfo[]
  /** The sum of all voting powers. */
  readonly totalPower: number
  /** The smallest power strictly greater than 2/3 of the total (2f+1). */
  readonly quorum: number
  /** The smallest power strictly greater than 1/3 of the total (f+1): at least one honest validator. */
  readonly skipThreshold: number
  private readonly powers: ReadonlyMap<ValidatorAddress, number>
  private readonly schedule: readonly ValidatorAddress[]

  constructor(validators: readonly ValidatorInfo[]) {
    if (validators.length === 0) throw new InvalidValidatorSetError('The validator set is empty.')
    const powers = new Map<ValidatorAddress, number>()
    let total = 0
    for (const {address, power} of validators) {
      if (typeof address !== 'string' || !ADDRESS.test(address)) {
        throw new InvalidValidatorSetError(`Validator address ${String(address)} is not a lowercase 0x-prefixed 20-byte hex string.`, {address})
      }
      if (!Number.isSafeInteger(power) || power <= 0) {
        throw new InvalidValidatorSetError(`Validator ${address} has power ${power}; a power must be a positive safe integer.`, {address, power})
      }
      if (powers.has(address)) throw new InvalidValidatorSetError(`Validator ${address} is listed twice.`, {address})
      powers.set(address, power)
      total += power
    }
    if (!Number.isSafeInteger(total)) throw new InvalidValidatorSetError(`The total voting power ${total} exceeds the safe integer range.`)
    this.validators = [...powers.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([address, power]) => Object.freeze({address, power}))
    Object.freeze(this.validators)
    this.powers = powers
    this.totalPower = total
    // floor(2t/3) computed without forming 2t, which could leave the safe integer range.
    this.quorum = 2 * Math.floor(total / 3) + Math.floor((2 * (total % 3)) / 3) + 1
    this.skipThreshold = Math.floor(total / 3) + 1
    this.schedule = proposerSchedule(this.validators)
  }

  /** The number of validators. */
  get size(): number {
    return this.validators.length
  }

  /** Whether `address` is a validator. */
  has(address: ValidatorAddress): boolean {
    return this.powers.has(address)
  }

  /** The voting power of `address`, 0 when it is not a validator. */
  power(address: ValidatorAddress): number {
    return this.powers.get(address) ?? 0
  }

  /**
   * The proposer of (height, round): weighted round robin over one precomputed cycle of smooth
   * weighted round robin, indexed by height + round. With equal powers it is plain round robin
   * over the sorted addresses.
   */
  proposer(height: number, round: number): ValidatorAddress {
    if (!Number.isSafeInteger(height) || height < 0 || !Number.isSafeInteger(round) || round < 0) {
      throw new RangeError(`proposer(${height}, ${round}): height and round must be non-negative safe integers`)
    }
    return this.schedule[(height + round) % this.schedule.length]!
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b]
  return a
}

/**
 * One cycle of smooth weighted round robin (nginx): each slot adds every validator's weight to
 * its credit, picks the highest credit (ties to the lower address) and debits it by the total.
 * After sum(weights) slots every credit is back to zero, so the cycle repeats exactly, and each
 * validator holds as many slots as its weight, spread as evenly as the weights allow.
 */
function proposerSchedule(validators: readonly ValidatorInfo[]): ValidatorAddress[] {
  let weights = reduce(validators.map((v) => v.power))
  let sum = weights.reduce((a, b) => a + b, 0)
  if (sum > MAX_CYCLE) {
    // Scale down proportionally (exactly, in bigint), keeping every validator in the schedule.
    const total = BigInt(sum)
    weights = reduce(weights.map((w) => Math.max(1, Number((BigInt(w) * BigInt(MAX_CYCLE)) / total))))
    sum = weights.reduce((a, b) => a + b, 0)
  }
  const credit = weights.map(() => 0)
  const cycle: ValidatorAddress[] = []
  for (let slot = 0; slot < sum; slot++) {
    let best = 0
    for (let i = 0; i < weights.length; i++) {
      credit[i]! += weights[i]!
      if (credit[i]! > credit[best]!) best = i
    }
    credit[best]! -= sum
    cycle.push(validators[best]!.address)
  }
  return cycle
}

/** Divides the weights by their greatest common divisor. */
function reduce(weights: number[]): number[] {
  const g = weights.reduce(gcd)
  return weights.map((w) => w / g)
}
