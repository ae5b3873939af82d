import {Flags} from '@oclif/core'

import {XaiCommand} from '../../../cli/xai-command.js'
import {createCa, type CreateCaResult} from '../../../fl/attest/ca.js'

export default class FlAttestCa extends XaiCommand<CreateCaResult> {
  static override summary = 'Create a local certificate authority that signs the EK certificates of software TPMs.'
  static override description = `In a private deployment this CA plays the TPM manufacturer's role: \`xai fl attest provision\` has it sign each software TPM's endorsement key (EK) certificate, and a federation server trusts the clients whose EK certificate chains to it (\`xai fl serve --tpm-ca DIR\`).

The folder holds ca.key (EC P-256, mode 0600, needed only to provision), ca.crt (the only file verifiers need) and certserial. Needs openssl.`

  static override examples = [
    {description: 'A CA for a test federation', command: '<%= config.bin %> <%= command.id %> --dir ./tpm-ca'},
    {description: 'Its fingerprint, for scripts', command: '<%= config.bin %> <%= command.id %> --dir ./tpm-ca --json | jq -r .fingerprint256'},
  ]

  static override flags = {
    dir: Flags.string({description: 'Folder to create the CA in (must not hold one)', required: true, env: 'XAI_TPM_CA'}),
    subject: Flags.string({description: 'Common name of the CA', default: 'xai TPM endorsement CA', env: 'XAI_TPM_CA_SUBJECT'}),
  }

  async run(): Promise<CreateCaResult> {
    const {flags} = await this.parse(FlAttestCa)
    const result = await createCa(flags.dir, {subject: flags.subject})
    if (!this.jsonEnabled()) {
      process.stdout.write(`CA ${result.subject} in ${result.dir}\n  certificate ${result.certificate}\n  sha256 ${result.fingerprint256}\n  valid to ${result.validTo}\n`)
    }
    return result
  }
}
