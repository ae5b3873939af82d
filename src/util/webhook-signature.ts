import {createHmac, timingSafeEqual} from 'node:crypto'

/** The header every webhook delivery carries: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const WEBHOOK_SIGNATURE_HEADER = 'x-xai-signature'
/** The header with the delivered event's id (also in the body), for de-duplication. */
export const WEBHOOK_EVENT_ID_HEADER = 'x-xai-event-id'
/**
 * How far a delivery's timestamp may be from the receiver's clock (seconds) before it is refused
 * as a replay. Retries are signed again with a fresh timestamp, so a genuine delivery is always
 * inside it.
 */
export const WEBHOOK_TOLERANCE_SECONDS = 300

/** HMAC-SHA256 over `${timestamp}.${body}`, hex. */
export function webhookDigest(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')
}

/** The X-Xai-Signature value for `body` sent at `timestamp` (unix seconds). */
export function signWebhook(secret: string, body: string, timestamp: number): string {
  return `t=${timestamp},v1=${webhookDigest(secret, timestamp, body)}`
}

export type WebhookVerdict = {ok: true; timestamp: number} | {ok: false; reason: string; timestamp?: number}

/**
 * Checks a delivery as a receiver should: the header parses, its timestamp is within
 * `toleranceSeconds` of `now`, and one of its v1 signatures is the HMAC of `t.body` under the
 * secret (compared in constant time). The body must be the exact bytes received.
 */
export function verifyWebhook(options: {secret: string; header: string | undefined; body: string; nowSeconds?: number; toleranceSeconds?: number}): WebhookVerdict {
  const {header, body, secret} = options
  if (!header) return {ok: false, reason: `no ${WEBHOOK_SIGNATURE_HEADER} header`}
  let timestamp: number | undefined
  const signatures: string[] = []
  for (const part of header.split(',')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const key = part.slice(0, eq).trim()
    const value = part.slice(eq + 1).trim()
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value)
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value)
  }
  if (timestamp === undefined) return {ok: false, reason: 'the signature header has no timestamp (t=…)'}
  if (signatures.length === 0) return {ok: false, reason: 'the signature header has no v1 signature', timestamp}
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000)
  const tolerance = options.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS
  if (Math.abs(now - timestamp) > tolerance) {
    return {ok: false, reason: `the timestamp is ${Math.abs(now - timestamp)} s from now, outside the ${tolerance} s replay window`, timestamp}
  }
  const expected = Buffer.from(webhookDigest(secret, timestamp, body), 'hex')
  const match = signatures.some((sig) => {
    const given = Buffer.from(sig, 'hex')
    return given.length === expected.length && timingSafeEqual(given, expected)
  })
  return match ? {ok: true, timestamp} : {ok: false, reason: 'the signature does not match the body under this secret', timestamp}
}
