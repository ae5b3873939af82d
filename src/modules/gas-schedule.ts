/**
 * What the chain charges a module call on top of the module's own gas table, in one place: the
 * host (host/host.ts) charges it on chain and the test kit (test-kit.ts, `xai module test`)
 * charges the same, so the gas a module's tests report is the gas its transactions use. The
 * sandbox's own metering (steps, host calls, boundary bytes) is in sandbox/sandbox.ts and runs in
 * both places unchanged.
 */

/** Base gas of a call the module's gas table does not name. */
export const DEFAULT_CALL_GAS = 10_000n
/** Per `ctx.storage.set` (one 32-byte word). */
export const STORAGE_WRITE_GAS = 5_000n
/** Per log (`ctx.emit`), per topic, per byte of data. */
export const LOG_GAS = 375n
export const LOG_TOPIC_GAS = 375n
export const LOG_BYTE_GAS = 8n

/** Gas of one log with `topics` topics and `dataBytes` bytes of data. */
export function logGas(topics: number, dataBytes: number): bigint {
  return LOG_GAS + LOG_TOPIC_GAS * BigInt(topics) + LOG_BYTE_GAS * BigInt(dataBytes)
}
