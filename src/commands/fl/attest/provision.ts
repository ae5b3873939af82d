import {Flags} from '@oclif/core'

import {XaiCommand} from '../../../cli/xai-command.js'
import {XaiError} from '../../../util/errors.js'
import {provisionSwtpm, type ProvisionResult} from '../../../fl/attest/ca.js'
import {parseTpmSpec} from '../../../fl/attest/client-attestor.js'

export default class FlAttestProvision extends XaiCommand<ProvisionResult> {
  static override summary = 'Manufacture a software TPM 2.0 whose EK certificate a local CA signs.'
  static override description = `Runs swtpm_setup on the state folder: an RSA-2048 endorsement key at the TCG's handle 0x81010001, its certificate (signed by --ca, stored at NV index 0x01c00002) and the sha256 PCR bank. The TPM then serves \`--tpm swtpm:DIR\` in \`xai fl join\` and \`xai fl attest check\`, which start swtpm on it for the life of the command.

Needs swtpm, swtpm-tools and tpm2-tools (apt-get install -y swtpm swtpm-tools tpm2-tools).`

  static override examples = [
    {description: 'Three client TPMs from one CA', command: 'for i in 1 2 3; do <%= config.bin %> <%= command.id %> --tpm swtpm:./tpm-$i --ca ./tpm-ca; done'},
    {description: 'Manufacture again (a new EK: the client must enroll again)', command: '<%= config.bin %> <%= command.id %> --tpm swtpm:./tpm-1 --ca ./tpm-ca --overwrite'},
  ]

  static override flags = {
    tpm: Flags.string({description: 'The software TPM to manufacture: swtpm:DIR', required: true, env: 'XAI_TPM'}),
    ca: Flags.string({description: 'The CA folder (xai fl attest ca)', required: true, env: 'XAI_TPM_CA'}),
    overwrite: Flags.boolean({description: 'Replace a TPM already in the folder', default: false, env: 'XAI_TPM_OVERWRITE'}),
  }

  async run(): Promise<ProvisionResult> {
    const {flags} = await this.parse(FlAttestProvision)
    const spec = parseTpmSpec(flags.tpm)
    if (spec.kind !== 'swtpm') {
      throw new XaiError('FL_ATTEST_TPM_SPEC', 'Only a software TPM can be provisioned here', {hint: 'A hardware TPM comes with its EK certificate from its manufacturer: use --tpm swtpm:DIR.'})
    }
    const result = await provisionSwtpm(spec.stateDir, flags.ca, {overwrite: flags.overwrite})
    if (!this.jsonEnabled()) process.stdout.write(`Software TPM in ${result.stateDir}, EK certified by the CA in ${result.ca}\n`)
    return result
  }
}
