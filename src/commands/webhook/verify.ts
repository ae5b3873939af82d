import {readFile} from 'node:fs/promises'

import {Flags} from '@oclif/core'

import {XaiCommand} from '../../cli/xai-command.js'
import {XaiError, errorMessage} from '../../util/errors.js'
import {type WebhookCheck, checkWebhookDelivery, parseWebhookDelivery} from '../../util/webhook-delivery.js'
import {WEBHOOK_TOLERANCE_SECONDS} from '../../util/webhook-signature.js'

export default class WebhookVerify extends XaiCommand<WebhookCheck> {
  static override summary = 'Check that a webhook delivery (headers + body on stdin) is authentic.'
  static override description = `Reads one delivery as HTTP text on stdin: header lines (at least X-Xai-Signature: t=<unix seconds>,v1=<hex>), an empty line, then the body exactly as received. It is authentic when v1 is HMAC-SHA256 under the secret of "<t>.<body>" and t is within the replay window (default ${WEBHOOK_TOLERANCE_SECONDS} s) of now. Exits 0 when authentic; otherwise says why and exits 4. A reference for receivers: docs/monitoring.md shows the same check in a few lines of Node.js.`

  static override examples = [
    {description: 'Check a delivery saved by a receiver', command: '<%= config.bin %> <%= command.id %> --secret-file .xai/devnets/default/webhook.secret < delivery.http'},
    {description: 'Check an old delivery, allowing a day of age', command: '<%= config.bin %> <%= command.id %> --secret-file webhook.secret --tolerance 86400 < delivery.http'},
  ]

  static override flags = {
    'secret-file': Flags.string({description: 'File holding the webhook secret (its first line)', required: true, env: 'XAI_WEBHOOK_SECRET_FILE'}),
    tolerance: Flags.integer({description: 'Replay window: seconds the signature timestamp may be from now', default: WEBHOOK_TOLERANCE_SECONDS, min: 0, env: 'XAI_WEBHOOK_TOLERANCE'}),
  }

  async run(): Promise<WebhookCheck> {
    const {flags} = await this.parse(WebhookVerify)
    let secret: string
    try {
      secret = (await readFile(flags['secret-file'], 'utf8')).split('\n')[0]!.trim()
    } catch (err) {
      throw new XaiError('WEBHOOK_DELIVERY_INVALID', `Cannot read the secret file ${flags['secret-file']}: ${errorMessage(err)}`, {hint: 'Pass the file the devnet or node was given (xai devnet up writes <devnet>/webhook.secret).', cause: err})
    }
    const delivery = parseWebhookDelivery(await readStdin())
    const result = checkWebhookDelivery(delivery, secret, {toleranceSeconds: flags.tolerance})
    if (!result.authentic) {
      throw new XaiError('WEBHOOK_NOT_AUTHENTIC', `Not authentic: ${result.reason}`, {
        hint: 'Check the secret file, that the body is byte for byte what was received, and the clock (the replay window).',
        details: {...result},
      })
    }
    this.note(`Authentic${result.eventId ? `: event ${result.eventId}` : ''}, signed ${result.ageSeconds} s ago.`)
    return result
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new XaiError('WEBHOOK_DELIVERY_INVALID', 'Nothing on stdin', {hint: 'Pipe the delivery in: xai webhook verify --secret-file F < delivery.http'})
  }
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
