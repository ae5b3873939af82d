import {XaiError} from './errors.js'
import {WEBHOOK_EVENT_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TOLERANCE_SECONDS, verifyWebhook} from './webhook-signature.js'

/** A delivery as a receiver saw it: its headers (lowercase names) and the exact body. */
export interface WebhookDelivery {
  headers: Record<string, string>
  body: string
}

/**
 * Parses a delivery written as HTTP: an optional request line (`POST /hook HTTP/1.1`), header
 * lines, an empty line, then the body, byte for byte.
 */
export function parseWebhookDelivery(text: string): WebhookDelivery {
  const normalized = text.replace(/^\uFEFF/, '')
  const split = /\r?\n\r?\n/.exec(normalized)
  if (!split) {
    throw new XaiError('WEBHOOK_DELIVERY_INVALID', 'The delivery has no empty line between its headers and its body', {
      hint: 'Give the headers (at least X-Xai-Signature), an empty line, then the body exactly as received.',
    })
  }
  const head = normalized.slice(0, split.index)
  const body = normalized.slice(split.index + split[0].length)
  const headers: Record<string, string> = {}
  for (const line of head.split(/\r?\n/)) {
    if (/^[A-Z]+ \S+ HTTP\/\d/.test(line)) continue
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  return {headers, body}
}

export interface WebhookCheck {
  authentic: boolean
  reason?: string
  eventId?: string
  timestamp?: number
  /** Seconds between the signature's timestamp and now. */
  ageSeconds?: number
}

/**
 * Whether a delivery is authentic under `secret`: signed over its exact body and within the
 * replay window. A body that only differs by one final newline (added by a shell or editor) is
 * tried as received first, then without it.
 */
export function checkWebhookDelivery(delivery: WebhookDelivery, secret: string, options: {nowSeconds?: number; toleranceSeconds?: number} = {}): WebhookCheck {
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000)
  const header = delivery.headers[WEBHOOK_SIGNATURE_HEADER]
  const check = (body: string) => verifyWebhook({secret, header, body, nowSeconds: now, toleranceSeconds: options.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS})
  let verdict = check(delivery.body)
  if (!verdict.ok && delivery.body.endsWith('\n')) {
    const trimmed = check(delivery.body.replace(/\r?\n$/, ''))
    if (trimmed.ok) verdict = trimmed
  }
  const eventId = delivery.headers[WEBHOOK_EVENT_ID_HEADER]
  const age = verdict.timestamp === undefined ? {} : {timestamp: verdict.timestamp, ageSeconds: now - verdict.timestamp}
  return verdict.ok ? {authentic: true, ...(eventId ? {eventId} : {}), ...age} : {authentic: false, reason: verdict.reason, ...(eventId ? {eventId} : {}), ...age}
}
