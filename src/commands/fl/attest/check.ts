import {Flags} from '@oclif/core'

import {XaiCommand} from '../../../cli/xai-command.js'
import {ExitCode} from '../../../util/errors.js'
import {type AttestationCheckResult, runAttestationCheck} from '../../../fl/attest/check.js'
import {loadPcrPolicy} from '../../../fl/attest/pcr-policy.js'

export default class FlAttestCheck extends XaiCommand<AttestationCheckResult> {
  static override summary = 'Run the whole attestation protocol against a TPM and print its PCRs and the verdict.'
  static override description = `Plays both sides on this machine, as a federation does: the client enrolls (EK certificate, a new attestation key under the EK, credential activation), and quotes its PCRs for an update; the verifier checks the EK certificate against --ca, the activation, the quote's signature and qualifying data, the PCRs against --pcr-policy and the TPM clock.

Without --pcr-policy, PCRs 0–7 are quoted and their current values allowed: the protocol is checked, not the machine's state. The PCR values printed are what a policy file lists (YAML: PCR index → allowed sha256 values). Exits 4 when the TPM is refused.`

  static override examples = [
    {description: 'A software TPM against its CA', command: '<%= config.bin %> <%= command.id %> --tpm swtpm:./tpm-1 --ca ./tpm-ca'},
    {description: 'Against a PCR policy, as JSON', command: '<%= config.bin %> <%= command.id %> --tpm swtpm:./tpm-1 --ca ./tpm-ca --pcr-policy pcrs.yaml --json'},
    {description: "This machine's TPM (/dev/tpmrm0) against its manufacturer's CA certificates", command: '<%= config.bin %> <%= command.id %> --tpm device --ca ./vendor-cas'},
  ]

  static override flags = {
    tpm: Flags.string({description: 'swtpm:DIR (a provisioned software TPM) or device (/dev/tpmrm0)', required: true, env: 'XAI_TPM'}),
    ca: Flags.string({description: 'Folder of CA certificates the EK certificate must chain to', required: true, env: 'XAI_TPM_CA'}),
    'pcr-policy': Flags.string({description: 'YAML file: PCR index → allowed sha256 values [default: the current PCR 0–7 values]', env: 'XAI_PCR_POLICY'}),
  }

  async run(): Promise<AttestationCheckResult> {
    const {flags} = await this.parse(FlAttestCheck)
    const policy = flags['pcr-policy'] ? loadPcrPolicy(flags['pcr-policy']) : undefined
    const stop = (): void => this.abort.abort()
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    try {
      const result = await runAttestationCheck({tpm: flags.tpm, caDir: flags.ca, policy, signal: this.signal})
      if (!result.verdict.ok) process.exitCode = ExitCode.chainRejected
      if (!this.jsonEnabled()) process.stdout.write(formatCheck(result))
      return result
    } finally {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    }
  }
}

export function formatCheck(result: AttestationCheckResult): string {
  const lines = [`TPM ${result.tpm}`]
  if (result.ekCertificate) lines.push(`  EK certificate ${result.ekCertificate.subject.replaceAll('\n', ', ')} issued by ${result.ekCertificate.issuer.replaceAll('\n', ', ')}`)
  lines.push(`  enrollment ${result.enrollment.ok ? 'ok' : `refused: ${result.enrollment.reason}`}`)
  lines.push(`  PCRs (sha256, policy: ${result.policy})`)
  for (const [index, value] of Object.entries(result.pcrs)) lines.push(`    ${index.padStart(2)}: ${value}`)
  lines.push(result.verdict.ok ? `✔ attested (enroll ${ms(result.timings.enrollMs)}, quote ${ms(result.timings.quoteMs)}, verify ${ms(result.timings.verifyMs)})` : `✖ refused: ${result.verdict.reason}`)
  return `${lines.join('\n')}\n`
}

function ms(value: number): string {
  return `${Math.round(value)} ms`
}
