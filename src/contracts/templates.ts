import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

/**
 * The contract templates of `xai contract new`, in templates/contract/<dir>/: a contract named
 * `contractName` (renamed on use) and its TypeScript test, plus the shared base contracts it
 * imports from templates/contract/lib/, which land in contracts/xai/.
 */
export const CONTRACT_TEMPLATES = {
  counter: {dir: 'counter', contractName: 'Counter', libs: [], description: 'A counter anyone can increment or decrement'},
  erc20: {dir: 'erc20', contractName: 'Token', libs: ['ERC20.sol', 'Ownable.sol'], description: 'ERC-20 token with custom errors; the owner mints'},
  erc721: {dir: 'erc721', contractName: 'Collectible', libs: ['IERC721Receiver.sol', 'Ownable.sol'], description: 'Minimal ERC-721 with safeTransferFrom and a receiver check'},
  ownable: {dir: 'ownable', contractName: 'Owned', libs: ['Ownable.sol'], description: 'A contract built on the Ownable base (owner-only functions)'},
  'governor-token': {dir: 'governor-token', contractName: 'VotesToken', libs: ['ERC20.sol', 'Ownable.sol'], description: 'ERC-20 with delegation and checkpointed voting power'},
  verifier: {dir: 'verifier', contractName: 'SignatureVerifier', libs: [], description: 'Verifies EIP-191 ECDSA signatures with ecrecover; rejects malleable ones'},
} as const satisfies Record<string, ContractTemplate>

export interface ContractTemplate {
  dir: string
  contractName: string
  libs: readonly string[]
  description: string
}

export type ContractTemplateId = keyof typeof CONTRACT_TEMPLATES
export const CONTRACT_TEMPLATE_IDS = Object.keys(CONTRACT_TEMPLATES) as ContractTemplateId[]

/** Contracts declared by the shared base files (contracts/xai/*.sol); no new contract may take these names. */
export const LIBRARY_CONTRACT_NAMES = ['ERC20', 'Ownable', 'IERC721Receiver'] as const

/** Folder the shared base contracts are copied to, relative to the project root. */
export const LIBRARY_DIR = 'contracts/xai'

/** templates/contract/, found relative to this module in src/ (tsx, tests) and in dist/ alike. */
export function contractTemplatesDir(): string {
  return fileURLToPath(new URL('../../templates/contract/', import.meta.url))
}

export async function readTemplateFile(...path: string[]): Promise<string> {
  return readFile(join(contractTemplatesDir(), ...path), 'utf8')
}

/**
 * The template's contract and test with the contract renamed: every whole-word occurrence of the
 * template's contract name becomes `name` (the templates use that word for nothing else).
 */
export async function renderContractTemplate(id: ContractTemplateId, name: string): Promise<{contract: string; test: string}> {
  const template = CONTRACT_TEMPLATES[id]
  const pattern = new RegExp(`\\b${template.contractName}\\b`, 'g')
  const [contract, test] = await Promise.all([
    readTemplateFile(template.dir, `${template.contractName}.sol`),
    readTemplateFile(template.dir, `${template.contractName}.test.ts`),
  ])
  return {contract: contract.replace(pattern, name), test: test.replace(pattern, name)}
}
