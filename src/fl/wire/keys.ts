import {chmod, mkdir, readFile, writeFile} from 'node:fs/promises'
import {dirname} from 'node:path'

import {secp256k1} from '@noble/curves/secp256k1.js'
import {bytesToHex, hexToBytes} from '@noble/hashes/utils.js'

import {XaiError} from '../../util/errors.js'

/**
 * A participant's secp256k1 key in a file (64 hex digits of the private key), created with real
 * randomness on first use, mode 0600; a file readable by others is tightened to 0600.
 */
export async function loadOrCreateKey(path: string): Promise<{privateKey: Uint8Array; publicKey: Uint8Array; created: boolean}> {
  let text: string | undefined
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw badKey(path, (err as Error).message)
  }
  if (text === undefined) {
    const privateKey = secp256k1.utils.randomSecretKey()
    await mkdir(dirname(path), {recursive: true, mode: 0o700})
    try {
      await writeFile(path, `${bytesToHex(privateKey)}\n`, {mode: 0o600, flag: 'wx'})
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateKey(path)
      throw badKey(path, (err as Error).message)
    }
    return {privateKey, publicKey: secp256k1.getPublicKey(privateKey, true), created: true}
  }
  const hex = text.trim().replace(/^0x/, '')
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw badKey(path, 'it does not hold 64 hex digits')
  const privateKey = hexToBytes(hex)
  if (!secp256k1.utils.isValidSecretKey(privateKey)) throw badKey(path, 'it is not a valid secp256k1 private key')
  await chmod(path, 0o600)
  return {privateKey, publicKey: secp256k1.getPublicKey(privateKey, true), created: false}
}

function badKey(path: string, why: string): XaiError {
  return new XaiError('FL_CORRUPT', `Cannot use the key file ${path}: ${why}`, {hint: 'Point --key at another file (a new key is created there), or fix this one.'})
}
