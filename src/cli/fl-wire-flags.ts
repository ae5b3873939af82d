import {Flags} from '@oclif/core'

import {XaiError} from '../util/errors.js'

/** `--listen HOST:PORT` → host and port (port 0: any free one). */
export function parseListen(text: string): {host: string; port: number} {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text.trim())
  const port = match ? Number(match[2]) : Number.NaN
  if (!match || port > 65_535) throw new XaiError('FL_INVALID_CONFIG', `--listen expects HOST:PORT, not "${text}"`, {hint: 'E.g. --listen 127.0.0.1:7700, or 0.0.0.0:7700 for other hosts.'})
  return {host: match[1]!.replace(/^\[|\]$/g, ''), port}
}

/** Attestation flags of the listening processes (serve, edge). */
export const attestFlags = {
  attest: Flags.option({options: ['required', 'optional', 'off'] as const, description: 'TPM attestation of the clients', default: 'off' as const, env: 'XAI_FL_ATTEST'})(),
  'tpm-ca': Flags.string({description: 'Folder of the CA the clients\' EK certificates chain to', env: 'XAI_FL_TPM_CA'}),
  'pcr-policy': Flags.string({description: 'YAML file: PCR index → allowed sha256 values', env: 'XAI_FL_PCR_POLICY'}),
}
