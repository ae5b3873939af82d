// Compile bench/contracts/BenchToken.sol with the solc-js compiler bundled in the `solc` package
// (no download), evmVersion 'prague'.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import type {Abi, Hex} from 'viem'
import {REPO_ROOT} from './targets.js'

export interface CompiledContract {
  abi: Abi
  bytecode: Hex
  solcVersion: string
  evmVersion: string
}

/** solc (about 200 MiB once loaded) is imported here, so the standalone benchmarks never load it. */
export async function compileBenchToken(): Promise<CompiledContract> {
  const {default: solc} = await import('solc')
  const file = 'BenchToken.sol'
  const source = readFileSync(path.join(REPO_ROOT, 'bench', 'contracts', file), 'utf8')
  const evmVersion = 'prague'
  const input = {
    language: 'Solidity',
    sources: {[file]: {content: source}},
    settings: {
      evmVersion,
      optimizer: {enabled: true, runs: 200},
      outputSelection: {'*': {'*': ['abi', 'evm.bytecode.object']}},
    },
  }
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: {severity: string; formattedMessage: string}[]
    contracts?: Record<string, Record<string, {abi: Abi; evm: {bytecode: {object: string}}}>>
  }
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length > 0) throw new Error(`solc failed:\n${errors.map((e) => e.formattedMessage).join('\n')}`)
  const contract = output.contracts?.[file]?.BenchToken
  if (!contract?.evm.bytecode.object) throw new Error('solc produced no bytecode for BenchToken')
  return {abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}`, solcVersion: solc.version(), evmVersion}
}
