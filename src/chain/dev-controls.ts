import {Account, Address, bytesToHex, setLengthLeft} from '@ethereumjs/util'

import type {BlockRecord, Chain} from './chain.js'
import type {Mempool, PooledTx} from './mempool.js'
import type {BlockProducer, TimeSettings} from './producer.js'
import type {Bytes} from '../storage/database.js'
import {type StateDump, applyStateDump} from './state-dump.js'

/** What a snapshot (evm_snapshot) holds: the head, its state, the clock and the pool. */
interface Snapshot {
  head: BlockRecord
  stateRoot: Bytes
  time: TimeSettings
  pool: PooledTx[]
}

/**
 * The development controls of a single-node chain, as anvil offers them through its cheat
 * methods: snapshots and reverts, state edits, impersonation, mining and the clock. Each change
 * of state or chain runs with no block open (`BlockProducer.exclusive`), so the open block of
 * interval mining never sees half of one.
 *
 * Snapshots are real: a revert moves the head back to the snapshot's block and state root
 * (the archival trie keeps every root), deletes the later blocks from the indexes in one batch,
 * and restores the clock and the transaction pool as they were.
 */
export class DevControls {
  private readonly snapshots = new Map<bigint, Snapshot>()
  private nextSnapshotId = 0n
  private readonly impersonated = new Set<string>()
  /** anvil_autoImpersonateAccount: every address may send unsigned. */
  autoImpersonate = false

  constructor(
    readonly chain: Chain,
    readonly mempool: Mempool,
    readonly producer: BlockProducer,
  ) {}

  // ----- snapshots ---------------------------------------------------------------------------

  /** evm_snapshot: the id of a snapshot of the current head, state, clock and pool. */
  snapshot(): Promise<bigint> {
    return this.producer.exclusive(async () => {
      const id = this.nextSnapshotId++
      this.snapshots.set(id, {head: this.chain.headRecord, stateRoot: this.chain.headStateRoot, time: this.producer.timeSettings, pool: [...this.mempool.content().pending, ...this.mempool.content().queued]})
      return id
    })
  }

  /**
   * evm_revert: back to snapshot `id`. Ids are single-use: the snapshot and every later one are
   * gone afterwards. False for an id that is unknown (never taken, or already used).
   */
  revert(id: bigint): Promise<boolean> {
    return this.producer.exclusive(async () => {
      const snapshot = this.snapshots.get(id)
      if (!snapshot) return false
      for (const key of [...this.snapshots.keys()]) if (key >= id) this.snapshots.delete(key)
      await this.rewind(snapshot.head, snapshot.stateRoot, snapshot.pool)
      this.producer.timeSettings = snapshot.time
      return true
    })
  }

  /** anvil_reset (no fork): the chain from genesis again, with no snapshots, pool or clock offset. */
  reset(): Promise<void> {
    return this.producer.exclusive(async () => {
      this.snapshots.clear()
      const genesis = (await this.chain.getBlock(0n))!
      await this.rewind(genesis, genesis.block.header.stateRoot, [])
      this.producer.timeSettings = {offset: 0n}
      this.impersonated.clear()
      this.autoImpersonate = false
    })
  }

  private async rewind(head: BlockRecord, stateRoot: Bytes, pool: PooledTx[]): Promise<void> {
    this.mempool.clear()
    await this.chain.rewindTo(head, stateRoot)
    for (const pooled of pool) {
      // Re-admitted against the restored state; one no longer valid stays out.
      await this.mempool.add(pooled.tx, {sender: new Address(pooled.sender), settle: false}).catch(() => undefined)
    }
  }

  // ----- state -------------------------------------------------------------------------------

  /** Changes the head state at once (visible to the next read, committed with the next block). */
  private edit(change: (sm: Chain['vm']['stateManager']) => Promise<void>): Promise<void> {
    return this.producer.exclusive(async () => {
      await this.chain.changeHeadState(change)
      await this.mempool.resync()
    })
  }

  setBalance(address: Bytes, balance: bigint): Promise<void> {
    return this.edit(async (sm) => {
      const a = new Address(address)
      const account = (await sm.getAccount(a)) ?? new Account()
      account.balance = balance
      await sm.putAccount(a, account)
    })
  }

  setNonce(address: Bytes, nonce: bigint): Promise<void> {
    return this.edit(async (sm) => {
      const a = new Address(address)
      const account = (await sm.getAccount(a)) ?? new Account()
      account.nonce = nonce
      await sm.putAccount(a, account)
    })
  }

  setCode(address: Bytes, code: Bytes): Promise<void> {
    return this.edit(async (sm) => {
      const a = new Address(address)
      if (!(await sm.getAccount(a))) await sm.putAccount(a, new Account())
      await sm.putCode(a, code)
    })
  }

  /** anvil_setStorageAt: `value` is a 32-byte word (zero clears the slot). */
  setStorageAt(address: Bytes, slot: Bytes, value: Bytes): Promise<void> {
    return this.edit(async (sm) => {
      const a = new Address(address)
      if (!(await sm.getAccount(a))) await sm.putAccount(a, new Account())
      let i = 0
      while (i < value.length && value[i] === 0) i++
      await sm.putStorage(a, setLengthLeft(slot, 32), value.subarray(i))
    })
  }

  /** anvil_loadState: writes a dump's accounts into the head state (as setBalance & co. do, one commit). */
  loadState(dump: StateDump): Promise<void> {
    return this.edit((sm) => applyStateDump(sm as never, dump))
  }

  // ----- impersonation -----------------------------------------------------------------------

  impersonate(address: Bytes): void {
    this.impersonated.add(bytesToHex(address))
  }

  stopImpersonating(address: Bytes): void {
    this.impersonated.delete(bytesToHex(address))
  }

  /** Whether eth_sendTransaction may send from `address` without its key. */
  isImpersonated(address: Bytes): boolean {
    return this.autoImpersonate || this.impersonated.has(bytesToHex(address))
  }

  // ----- block environment -------------------------------------------------------------------

  /** anvil_setNextBlockBaseFeePerGas: the next block's base fee (then EIP-1559 continues from it). */
  setNextBlockBaseFee(baseFee: bigint): Promise<void> {
    return this.producer.exclusive(async () => {
      this.chain.nextBaseFeeOverride = baseFee
    })
  }

  setCoinbase(address: Bytes): Promise<void> {
    return this.producer.exclusive(async () => {
      this.producer.coinbase = new Address(address)
    })
  }

  /** Clock changes take effect on the next block: an open block is reopened with them. */
  setTime(change: () => void): Promise<void> {
    return this.producer.exclusive(async () => change())
  }
}
