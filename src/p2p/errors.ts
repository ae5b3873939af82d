import {ExitCode, XaiError} from '../util/errors.js'

/** Every error code the peer-to-peer layer raises. */
export const P2PErrorCode = {
  invalidOptions: 'P2P_INVALID_OPTIONS',
  portInUse: 'P2P_PORT_IN_USE',
  startFailed: 'P2P_START_FAILED',
  closed: 'P2P_CLOSED',
  disconnected: 'P2P_DISCONNECTED',
  peerNotConnected: 'P2P_PEER_NOT_CONNECTED',
  messageTooLarge: 'P2P_MESSAGE_TOO_LARGE',
  requestTimeout: 'P2P_REQUEST_TIMEOUT',
  requestFailed: 'P2P_REQUEST_FAILED',
  remoteHandlerFailed: 'P2P_REMOTE_HANDLER_FAILED',
  responseTooLarge: 'P2P_RESPONSE_TOO_LARGE',
} as const
export type P2PErrorCode = (typeof P2PErrorCode)[keyof typeof P2PErrorCode]

export function invalidP2POptions(message: string, details?: Record<string, unknown>): XaiError {
  return new XaiError(P2PErrorCode.invalidOptions, message, {exitCode: ExitCode.usage, details})
}

export function p2pPortInUse(host: string, port: number, cause: unknown): XaiError {
  return new XaiError(P2PErrorCode.portInUse, `P2P port ${port} on ${host} is already in use`, {
    exitCode: ExitCode.environment,
    hint: 'Stop the process holding it (a node of another devnet?) or choose another --p2p-port.',
    cause,
    details: {host, port},
  })
}

export function p2pStartFailed(cause: unknown, details?: Record<string, unknown>): XaiError {
  const reason = cause instanceof Error ? cause.message : String(cause)
  return new XaiError(P2PErrorCode.startFailed, `The P2P host failed to start: ${reason}`, {exitCode: ExitCode.environment, cause, details})
}

export function p2pClosed(): XaiError {
  return new XaiError(P2PErrorCode.closed, 'The P2P host is closed')
}

export function p2pDisconnected(): XaiError {
  return new XaiError(P2PErrorCode.disconnected, 'The P2P host is disconnected (fault injection); call reconnect() first', {
    exitCode: ExitCode.environment,
  })
}

export function peerNotConnected(peerId: string): XaiError {
  return new XaiError(P2PErrorCode.peerNotConnected, `Not connected to peer ${peerId}`, {
    exitCode: ExitCode.environment,
    hint: 'Requests go only to connected peers: check peers() or wait for peer:connect.',
    details: {peerId},
  })
}

export function messageTooLarge(size: number, limit: number): XaiError {
  return new XaiError(P2PErrorCode.messageTooLarge, `Gossip message of ${size} bytes exceeds the ${limit}-byte limit`, {details: {size, limit}})
}

export function requestTimeout(peerId: string, protocol: string, timeoutMs: number): XaiError {
  return new XaiError(P2PErrorCode.requestTimeout, `Request "${protocol}" to peer ${peerId} timed out after ${timeoutMs} ms`, {
    exitCode: ExitCode.environment,
    details: {peerId, protocol, timeoutMs},
  })
}

export function requestFailed(peerId: string, protocol: string, cause: unknown): XaiError {
  const reason = cause instanceof Error ? cause.message : String(cause)
  return new XaiError(P2PErrorCode.requestFailed, `Request "${protocol}" to peer ${peerId} failed: ${reason}`, {
    exitCode: ExitCode.environment,
    cause,
    details: {peerId, protocol},
  })
}

export function remoteHandlerFailed(peerId: string, protocol: string, reason: string): XaiError {
  return new XaiError(P2PErrorCode.remoteHandlerFailed, `Peer ${peerId} failed to answer "${protocol}": ${reason}`, {
    exitCode: ExitCode.environment,
    details: {peerId, protocol, reason},
  })
}

export function responseTooLarge(peerId: string, protocol: string, reason: string): XaiError {
  return new XaiError(P2PErrorCode.responseTooLarge, `Response to "${protocol}" from peer ${peerId} exceeds the limit: ${reason}`, {
    exitCode: ExitCode.environment,
    details: {peerId, protocol, reason},
  })
}
