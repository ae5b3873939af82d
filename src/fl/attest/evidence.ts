import {concatBytes, TpmParseError, TpmReader, u16be} from './tpm-structures.js'

/**
 * The evidence bytes of one quote, as the update message carries them (big-endian, like the TPM's
 * own structures):
 *
 *     u8 version (1)
 *     u16 n ‖ n bytes   TPMS_ATTEST, exactly as the TPM signed it
 *     u16 n ‖ n bytes   TPMT_SIGNATURE by the AK
 *     u8 k              PCR values that follow (sha256 bank, ascending index)
 *     k × (u8 index ‖ 32 bytes value)
 */
export const EVIDENCE_VERSION = 1
const PCR_VALUE_BYTES = 32
const MAX_PCRS = 24

export interface QuoteEvidence {
  attest: Uint8Array
  signature: Uint8Array
  /** PCR index → its sha256 value, in ascending index order. */
  pcrs: {index: number; value: Uint8Array}[]
}

export function encodeEvidence(evidence: QuoteEvidence): Uint8Array {
  const pcrs = [...evidence.pcrs].sort((a, b) => a.index - b.index)
  return concatBytes(
    Uint8Array.of(EVIDENCE_VERSION),
    u16be(evidence.attest.length),
    evidence.attest,
    u16be(evidence.signature.length),
    evidence.signature,
    Uint8Array.of(pcrs.length),
    ...pcrs.flatMap((pcr) => {
      if (pcr.value.length !== PCR_VALUE_BYTES) throw new TpmParseError(`PCR ${pcr.index} value is ${pcr.value.length} bytes, not 32`)
      return [Uint8Array.of(pcr.index), pcr.value]
    }),
  )
}

/** Throws {@link TpmParseError} for anything but well-formed version-1 evidence. */
export function decodeEvidence(bytes: Uint8Array): QuoteEvidence {
  const r = new TpmReader(bytes)
  const version = r.u8('evidence version')
  if (version !== EVIDENCE_VERSION) throw new TpmParseError(`evidence version ${version}, expected ${EVIDENCE_VERSION}`)
  const attest = r.sized('attestation', 1024)
  const signature = r.sized('signature', 1024)
  const count = r.u8('PCR count')
  if (count > MAX_PCRS) throw new TpmParseError(`${count} PCR values, at most ${MAX_PCRS}`)
  const pcrs: QuoteEvidence['pcrs'] = []
  for (let i = 0; i < count; i++) {
    const index = r.u8('PCR index')
    if (index >= MAX_PCRS) throw new TpmParseError(`PCR index ${index}`)
    if (pcrs.length > 0 && index <= pcrs.at(-1)!.index) throw new TpmParseError('PCR values not in ascending index order')
    pcrs.push({index, value: r.bytes(PCR_VALUE_BYTES, `PCR ${index} value`)})
  }
  r.end('the evidence')
  return {attest, signature, pcrs}
}
