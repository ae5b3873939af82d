import {Args, Flags} from '@oclif/core'

import {XaiCommand} from '../../cli/xai-command.js'
import {readArtifact} from '../../contracts/artifacts.js'
import {type ContractStateResult, contractState, parseSlotKeys} from '../../contracts/contract-state.js'
import {type StorageArray, type StorageLayout, type StorageMapping, type TruncatedBytes, parseStorageLayout} from '../../contracts/storage-layout.js'
import {abiFlag, chainFlags, resolveChainContext} from './deploy.js'

export default class ContractState extends XaiCommand<ContractStateResult> {
  static override summary = "Read a contract's state variables from storage, decoded through solc's storage layout."
  static override description = `Reads every state variable of a deployed contract slot by slot (eth_getStorageAt, all at one block) and decodes it with the storage layout of its compiled artifact: packed integers, bools, addresses, enums and bytesN, strings and bytes, structs, static and dynamic arrays (the first --max-items items).

A mapping cannot be listed, only read at keys: --slot-key balanceOf=0x… reads balanceOf[0x…] (repeat the flag for more keys), --slot-key allowance=0xA,0xB reads allowance[0xA][0xB], and a bare --slot-key 0x… is used for every mapping whose key type takes it, at every level. A mapping inside a struct is named by its path (--slot-key config.limits=1).

The contract is a name (its newest deployment on the current chain, from the deploy journal) or an address with --abi <Name>. In JSON, integers are decimal strings, addresses checksummed, bytes 0x-hex, enums numbers, structs objects, arrays {length, items, truncated} and mappings {entries: [{key, value}]}.`

  static override examples = [
    {description: 'An ERC-20 with two balances', command: '<%= config.bin %> <%= command.id %> Token --slot-key balanceOf=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 --slot-key balanceOf=0x70997970C51812dc3A010C7d01b50e0d17dc79C8'},
    {description: 'A nested mapping: allowance[holder][spender]', command: '<%= config.bin %> <%= command.id %> Token --slot-key allowance=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266,0x70997970C51812dc3A010C7d01b50e0d17dc79C8'},
    {description: 'At an address, at an earlier block', command: '<%= config.bin %> <%= command.id %> 0x5FbDB2315678afecb367f032d93F642f64180aa3 --abi Token --block 12'},
    {description: 'One variable, for scripts', command: "<%= config.bin %> <%= command.id %> Token --json | jq -r '.variables[] | select(.label == \"totalSupply\") | .value'"},
  ]

  static override args = {
    contract: Args.string({description: 'Contract name, or an address (with --abi)', required: true}),
  }

  static override flags = {
    ...chainFlags,
    ...abiFlag,
    'slot-key': Flags.string({
      char: 'k',
      description: 'Mapping keys: <mapping>=<key>[,<key>…] (one key per nesting level), or a bare <key> for every mapping that takes it; repeatable',
      multiple: true,
    }),
    block: Flags.string({char: 'b', description: 'Block number or tag (latest, earliest, safe, finalized)', default: 'latest', env: 'XAI_CONTRACT_BLOCK'}),
    'max-items': Flags.integer({description: 'Items shown per array', default: 32, min: 0, max: 10_000, env: 'XAI_CONTRACT_MAX_ITEMS'}),
  }

  async run(): Promise<ContractStateResult> {
    const {args, flags} = await this.parse(ContractState)
    const {project, network} = await resolveChainContext(flags)
    const result = await contractState(project, {
      target: args.contract,
      abi: flags.abi,
      network,
      keys: parseSlotKeys(flags['slot-key'] ?? []),
      block: flags.block,
      maxArrayItems: flags['max-items'],
    })
    if (!this.jsonEnabled()) {
      const {storageLayout} = await readArtifact(project, flags.abi ?? args.contract)
      this.note(`${result.contract} at ${result.address}, chain ${result.chainId}, block ${result.blockNumber}${result.variables.length === 0 ? ': no state variables' : ''}`)
      process.stdout.write(formatContractState(result, parseStorageLayout(storageLayout)))
      for (const variable of result.variables) {
        if (variable.note) this.note(`Note: ${variable.label}: ${variable.note}`)
      }
    }
    return result
  }
}

/**
 * One line per variable, `label (type) = value`; the parts of structs and arrays indented below
 * them, mapping entries as `label[key] = value`.
 */
export function formatContractState(result: ContractStateResult, layout: StorageLayout): string {
  const lines: string[] = []
  result.variables.forEach((variable, i) => {
    render(layout, layout.storage[i]!.type, `${variable.label} (${variable.type})`, variable.label, variable.value, 0, lines)
  })
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`
}

function render(layout: StorageLayout, id: string, head: string, path: string, value: unknown, indent: number, lines: string[]): void {
  const type = layout.types[id]!
  const pad = ' '.repeat(indent)
  if (type.encoding === 'mapping') {
    const {entries} = value as StorageMapping
    if (entries.length === 0) {
      lines.push(`${pad}${head}: no keys given`)
      return
    }
    lines.push(`${pad}${head}`)
    renderEntries(layout, type, path, entries, indent + 2, lines)
  } else if (type.encoding === 'dynamic_array' || (type.encoding === 'inplace' && type.base !== undefined)) {
    const array = value as StorageArray
    lines.push(`${pad}${head}: length ${array.length}${array.truncated ? `, the first ${array.items.length} shown` : ''}`)
    array.items.forEach((item, i) => render(layout, type.base!, `${path}[${i}]`, `${path}[${i}]`, item, indent + 2, lines))
  } else if (type.encoding === 'inplace' && type.members) {
    lines.push(`${pad}${head}`)
    const struct = value as Record<string, unknown>
    for (const member of type.members) render(layout, member.type, `${path}.${member.label}`, `${path}.${member.label}`, struct[member.label], indent + 2, lines)
  } else {
    lines.push(`${pad}${head} = ${formatScalar(type.label, type.encoding, value)}`)
  }
}

/** Entries of nested mappings flattened: `allowance[0xA][0xB] = 5`. */
function renderEntries(layout: StorageLayout, type: StorageLayout['types'][string], path: string, entries: StorageMapping['entries'], indent: number, lines: string[]): void {
  const keyType = layout.types[type.key!]!
  const valueType = layout.types[type.value!]!
  for (const entry of entries) {
    const key = keyType.encoding === 'bytes' && keyType.label === 'string' ? JSON.stringify(entry.key) : String(entry.key)
    const at = `${path}[${key}]`
    if (valueType.encoding === 'mapping' && (entry.value as StorageMapping).entries.length > 0) {
      renderEntries(layout, valueType, at, (entry.value as StorageMapping).entries, indent, lines)
    } else {
      render(layout, type.value!, at, at, entry.value, indent, lines)
    }
  }
}

function formatScalar(label: string, encoding: string, value: unknown): string {
  if (encoding === 'bytes') {
    const quote = (data: string): string => (label === 'string' ? JSON.stringify(data) : data)
    if (typeof value === 'object' && value !== null) {
      const cut = value as TruncatedBytes
      return `${quote(cut.data)}… (${cut.length} bytes, the first shown)`
    }
    return quote(String(value))
  }
  return String(value)
}
