import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {XaiError} from '../util/errors.js'
import {ContractsErrorCode} from './errors.js'
import type {Project} from './project.js'
import {listSolidityFiles, stripComments} from './sources.js'
import {LIBRARY_CONTRACT_NAMES} from './templates.js'

/** Solidity keywords, reserved words and built-in names that cannot (or should not) name a contract. */
const RESERVED = new Set(
  (
    'abstract after alias anonymous apply as assembly auto byte calldata case catch constant constructor contract copyof ' +
    'default define delete do else emit enum error event external fallback false final for function global hex if immutable ' +
    'implements import in indexed inline interface internal is let library macro mapping match memory modifier mutable new ' +
    'null of override partial payable pragma private promise public pure receive reference relocatable return returns sealed ' +
    'sizeof static storage struct super supports switch this throw transient true try type typedef typeof unchecked ' +
    'unicode using var view virtual while address bool string bytes int uint fixed ufixed wei gwei ether seconds minutes ' +
    'hours days weeks years abi block msg tx now selfdestruct suicide assert require revert keccak256 sha256 ripemd160 ' +
    'ecrecover addmod mulmod gasleft blockhash blobhash'
  ).split(' '),
)

/**
 * Throws CONTRACT_INVALID_NAME unless `name` can name a contract and its file: a Solidity
 * identifier of letters, digits and "_" (no "$", which makes awkward file names), not starting
 * with a digit, not a keyword or built-in type, and not one of the shared base contracts.
 */
export function validateContractName(name: string): void {
  const fail = (why: string): never => {
    throw new XaiError(ContractsErrorCode.invalidName, `"${name}" is not a valid contract name: ${why}`, {
      hint: 'Use an identifier such as MyToken: letters, digits and "_", starting with a letter.',
      details: {name},
    })
  }
  if (name.length === 0) fail('it is empty')
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) fail(/^[0-9]/.test(name) ? 'it starts with a digit' : 'only letters, digits and "_" are allowed')
  if (name.length > 64) fail('it is longer than 64 characters')
  if (RESERVED.has(name) || /^(u?int|bytes|u?fixed)[0-9x]+$/.test(name)) fail('it is a Solidity keyword or built-in name')
  if ((LIBRARY_CONTRACT_NAMES as readonly string[]).includes(name)) fail(`${name} is one of the base contracts the templates share (contracts/xai/)`)
}

/** The contracts, interfaces and libraries a source declares, by name. */
export function declaredContractNames(source: string): string[] {
  const code = stripComments(source)
  return [...code.matchAll(/\b(?:contract|interface|library)\s+([A-Za-z_$][A-Za-z0-9_$]*)/g)].map((m) => m[1]!)
}

/**
 * Throws CONTRACT_NAME_TAKEN when a source of the project already declares `name` or when
 * contracts/<name>.sol or test/<name>.test.ts exists (compared without case, as macOS and
 * Windows file systems do).
 */
export async function assertContractNameFree(project: Project, name: string): Promise<void> {
  const taken = (message: string, file: string): never => {
    throw new XaiError(ContractsErrorCode.nameTaken, message, {
      hint: `Choose another name, or remove ${file} first.`,
      details: {name, file},
    })
  }
  const sources = await listSolidityFiles(project.root, project.paths.contracts)
  const lower = `contracts/${name}.sol`.toLowerCase()
  const sameFile = sources.find((s) => s.toLowerCase() === lower)
  if (sameFile) taken(`${sameFile} already exists`, sameFile)
  for (const sourceName of sources) {
    const content = await readFile(join(project.root, ...sourceName.split('/')), 'utf8')
    if (declaredContractNames(content).includes(name)) taken(`A contract named ${name} already exists in ${sourceName}`, sourceName)
  }
  try {
    await readFile(join(project.paths.test, `${name}.test.ts`))
    taken(`test/${name}.test.ts already exists`, `test/${name}.test.ts`)
  } catch (err) {
    if (err instanceof XaiError) throw err
  }
}
