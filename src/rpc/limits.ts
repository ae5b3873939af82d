/** Bounds that keep one client from exhausting the node. All can be overridden per server. */
export interface RpcLimits {
  /** Largest HTTP request body (413 / -32600 above it). */
  maxBodyBytes: number
  /** Most requests in one batch. */
  maxBatch: number
  /** Largest WebSocket message. */
  maxWsMessageBytes: number
  /** Most open WebSocket connections. */
  maxWsConnections: number
  /** Bytes queued on a WebSocket before the node drops it as too slow for its subscriptions. */
  maxWsBufferedBytes: number
  /** Widest eth_getLogs block range. */
  maxLogsBlockRange: number
  /** Most logs one eth_getLogs / eth_getFilterLogs returns. */
  maxLogs: number
  /** Installed filters, all clients together. */
  maxFilters: number
  /** Items a filter holds between polls (oldest dropped beyond it). */
  maxFilterQueue: number
  /** A filter not polled for this long is removed (geth: 5 minutes). */
  filterTimeoutMs: number
  /** Subscriptions per WebSocket connection. */
  maxSubscriptionsPerConnection: number
  /** Subscriptions, all connections together. */
  maxSubscriptions: number
  /** Highest gas an eth_call / eth_estimateGas may use (geth's RPCGasCap). */
  gasCap: bigint
  /** Wall-clock budget of one eth_call, and of a whole eth_estimateGas search (geth's RPCEVMTimeout). */
  callTimeoutMs: number
  /** Wall-clock budget of one debug_trace* call. */
  traceTimeoutMs: number
  /** Most struct logs a debug_trace* answer may hold. */
  maxTraceSteps: number
  /** Requests one WebSocket connection may have in flight (more are refused with -32005). */
  maxWsInFlight: number
  /** Most blocks eth_feeHistory covers. */
  maxFeeHistoryBlocks: number
}

export const DEFAULT_LIMITS: RpcLimits = {
  maxBodyBytes: 5 * 1024 * 1024,
  maxBatch: 1_000,
  maxWsMessageBytes: 5 * 1024 * 1024,
  maxWsConnections: 1_000,
  maxWsBufferedBytes: 16 * 1024 * 1024,
  maxLogsBlockRange: 10_000,
  maxLogs: 10_000,
  maxFilters: 10_000,
  maxFilterQueue: 10_000,
  filterTimeoutMs: 5 * 60 * 1000,
  maxSubscriptionsPerConnection: 1_000,
  maxSubscriptions: 10_000,
  gasCap: 50_000_000n,
  callTimeoutMs: 5_000,
  traceTimeoutMs: 30_000,
  maxTraceSteps: 250_000,
  maxWsInFlight: 256,
  maxFeeHistoryBlocks: 1_024,
}

export function resolveLimits(overrides: Partial<RpcLimits> = {}): RpcLimits {
  return {...DEFAULT_LIMITS, ...overrides}
}
