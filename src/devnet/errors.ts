import {basename, dirname} from 'node:path'

import {XaiError} from '../util/errors.js'

/** Every error code the devnet orchestrator and the node process raise. */
export const DevnetErrorCode = {
  notFound: 'DEVNET_NOT_FOUND',
  alreadyRunning: 'DEVNET_ALREADY_RUNNING',
  running: 'DEVNET_RUNNING',
  portInUse: 'DEVNET_PORT_IN_USE',
  corrupt: 'DEVNET_CORRUPT',
  invalidName: 'DEVNET_INVALID_NAME',
  multiNodeUnsupported: 'DEVNET_MULTI_NODE_UNSUPPORTED',
  nodeFailed: 'DEVNET_NODE_FAILED',
  nodeTimeout: 'DEVNET_NODE_TIMEOUT',
  nodeExited: 'DEVNET_NODE_EXITED',
  stopFailed: 'DEVNET_STOP_FAILED',
  interrupted: 'DEVNET_INTERRUPTED',
} as const
export type DevnetErrorCode = (typeof DevnetErrorCode)[keyof typeof DevnetErrorCode]

export function devnetNotFound(name: string, folder: string): XaiError {
  return new XaiError(DevnetErrorCode.notFound, `No devnet named "${name}" (looked for ${folder})`, {
    hint: `Start one with: xai devnet up${name === 'default' ? '' : ` --name ${name}`} (or pass the --dir it was created in).`,
    details: {name, folder},
  })
}

export function devnetCorrupt(file: string, reason: string, cause?: unknown): XaiError {
  const name = basename(dirname(file))
  const nameFlag = name === 'default' ? '' : ` --name ${name}`
  return new XaiError(DevnetErrorCode.corrupt, `The devnet folder is corrupt: ${file} ${reason}`, {
    hint: `Wipe it and start afresh: xai devnet reset${nameFlag} --force && xai devnet up${nameFlag}`,
    cause,
    details: {file},
  })
}

export function logTailHint(logPath: string, tail: string[]): string {
  if (tail.length === 0) return `The node wrote nothing to ${logPath}; run \`xai node start --home <dir>\` by hand to see why.`
  return `The end of ${logPath}:\n${tail.map((line) => `    ${line}`).join('\n')}`
}
