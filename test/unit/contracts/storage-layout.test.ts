// decodeStorage against real EVM storage: a contract compiled by the project compiler (so with
// solc's storageLayout), deployed on an in-memory chain, its slots read through eth_getStorageAt.
import {type Abi, type Hex, type PublicClient, createPublicClient, custom, decodeFunctionResult, encodeFunctionData, getAddress} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {formatContractState} from '../../../src/commands/contract/state.js'
import {type Artifact, readArtifact} from '../../../src/contracts/artifacts.js'
import {compileProject} from '../../../src/contracts/compile-project.js'
import {contractState, parseBlockSelector, parseSlotKeys} from '../../../src/contracts/contract-state.js'
import type {ResolvedNetwork} from '../../../src/contracts/network.js'
import {type ReadSlot, decodeStorage, parseStorageLayout} from '../../../src/contracts/storage-layout.js'
import {XaiError} from '../../../src/util/errors.js'
import {DEV_ACCOUNTS, type Harness, createHarness} from '../rpc/harness.js'
import {HEADER, tempProject} from './helpers.js'

const LAYOUT_SOURCE = `${HEADER}
type Price is uint128;

contract Layout {
    enum Phase { Idle, Open, Closed }
    struct Point { uint16 x; int16 y; }
    struct Config {
        uint8 level;
        bool active;
        address admin;
        Point origin;
        string title;
        uint32[] marks;
        mapping(address => uint256) credits;
    }

    uint8 public small;
    bool public flag;
    address public owner;
    int32 public negative;
    Phase public phase;
    bytes4 public selector;
    int256 public bigNegative;
    string public shortText;
    string public longText;
    bytes public blob;
    Config internal config;
    uint8[] public packed;
    uint64[3] public trio;
    uint256[2] public pair;
    Point[] public points;
    string[] public words;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;
    mapping(string => uint256) public byName;
    mapping(int8 => bool) public bySigned;
    mapping(bytes4 => address) public bySelector;
    mapping(uint256 => Point) public pointAt;
    mapping(Phase => uint256) public byPhase;
    Layout public self;
    Price public price;

    constructor() {
        small = 200;
        flag = true;
        owner = msg.sender;
        negative = -123456;
        phase = Phase.Closed;
        selector = 0xdeadbeef;
        bigNegative = -(2 ** 200);
        shortText = "hello";
        longText = "The quick brown fox jumps over the lazy dog, and then over the fence.";
        blob = abi.encodePacked(uint256(1), uint64(2));
        config.level = 7;
        config.active = true;
        config.admin = address(0xBEEF);
        config.origin = Point(3, -4);
        config.title = "cfg";
        config.marks.push(10);
        config.marks.push(20);
        config.credits[msg.sender] = 99;
        for (uint8 i = 0; i < 35; i++) packed.push(i * 7);
        trio = [uint64(1), 2, type(uint64).max];
        pair = [type(uint256).max, 5];
        points.push(Point(1, -1));
        points.push(Point(65535, type(int16).min));
        words.push("a");
        words.push("a long word that takes more than thirty-one bytes");
        balanceOf[msg.sender] = 1000;
        balanceOf[address(0xB0B)] = 5;
        allowance[msg.sender][address(0xB0B)] = 77;
        byName["alice"] = 11;
        bySigned[-5] = true;
        bySelector[0xdeadbeef] = address(0xCAFE);
        pointAt[9] = Point(9, 9);
        byPhase[Phase.Open] = 3;
        self = this;
        price = Price.wrap(1234);
    }

    function setSmall(uint8 value) external {
        small = value;
    }
}

contract Empty {}
`

const BOB_LITERAL = getAddress('0x0000000000000000000000000000000000000b0b')
const LONG_TEXT = 'The quick brown fox jumps over the lazy dog, and then over the fence.'
const LONG_WORD = 'a long word that takes more than thirty-one bytes'
const alice = DEV_ACCOUNTS[0]!.address
const UINT256_MAX = ((1n << 256n) - 1n).toString()

describe('decodeStorage', () => {
  let t: Awaited<ReturnType<typeof tempProject>>
  let h: Harness
  let artifact: Artifact
  let address: Hex
  let deployBlock: bigint

  const readAt =
    (block: string | bigint = 'latest', reads?: bigint[]): ReadSlot =>
    async (slot) => {
      reads?.push(slot)
      return h.rpc<Hex>('eth_getStorageAt', [address, `0x${slot.toString(16)}`, typeof block === 'bigint' ? `0x${block.toString(16)}` : block])
    }

  beforeAll(async () => {
    t = await tempProject()
    await t.write('contracts/Layout.sol', LAYOUT_SOURCE)
    await compileProject(t.project)
    artifact = await readArtifact(t.project, 'Layout')
    h = await createHarness()
    const hash = await h.send({data: artifact.bytecode, gas: 15_000_000n})
    const receipt = await h.rpc<{contractAddress: Hex; status: Hex; blockNumber: Hex}>('eth_getTransactionReceipt', [hash])
    expect(receipt.status).toBe('0x1')
    address = getAddress(receipt.contractAddress)
    deployBlock = BigInt(receipt.blockNumber)
  })
  afterAll(async () => {
    h?.close()
    await t?.cleanup()
  })

  it('decodes every kind of variable of the compiled layout from the EVM storage', async () => {
    const variables = await decodeStorage(artifact.storageLayout, readAt(), {
      keys: {balanceOf: [alice, BOB_LITERAL, '0x0000000000000000000000000000000000000001'], allowance: [`${alice},${BOB_LITERAL}`], byName: ['alice', 'bob'], bySigned: ['-5'], bySelector: ['0xdeadbeef'], pointAt: ['9'], byPhase: ['1'], 'config.credits': [alice]},
    })
    const byLabel = Object.fromEntries(variables.map((v) => [v.label, v]))
    // Packed into slot 0, from the low-order end.
    expect(variables.slice(0, 6)).toEqual([
      {label: 'small', type: 'uint8', slot: '0', offset: 0, value: '200'},
      {label: 'flag', type: 'bool', slot: '0', offset: 1, value: true},
      {label: 'owner', type: 'address', slot: '0', offset: 2, value: alice},
      {label: 'negative', type: 'int32', slot: '0', offset: 22, value: '-123456'},
      {label: 'phase', type: 'enum Layout.Phase', slot: '0', offset: 26, value: 2},
      {label: 'selector', type: 'bytes4', slot: '0', offset: 27, value: '0xdeadbeef'},
    ])
    expect(byLabel.bigNegative!.value).toBe((-(2n ** 200n)).toString())
    expect(byLabel.shortText).toMatchObject({type: 'string', value: 'hello'})
    expect(byLabel.longText).toMatchObject({type: 'string', value: LONG_TEXT})
    expect(byLabel.blob).toMatchObject({type: 'bytes', value: `0x${'00'.repeat(31)}01${'00'.repeat(7)}02`})
    expect(byLabel.config).toMatchObject({type: 'struct Layout.Config', offset: 0})
    expect(byLabel.config!.value).toEqual({
      level: '7',
      active: true,
      admin: getAddress('0x000000000000000000000000000000000000beef'),
      origin: {x: '3', y: '-4'},
      title: 'cfg',
      marks: {length: 2, items: ['10', '20'], truncated: false},
      credits: {entries: [{key: alice, value: '99'}]},
    })
    expect(byLabel.config!.note).toBeUndefined()
    // 35 uint8 items: 32 per slot; the first 32 shown by default.
    expect(byLabel.packed!.value).toEqual({length: 35, items: Array.from({length: 32}, (_, i) => String(i * 7)), truncated: true})
    expect(byLabel.trio).toMatchObject({type: 'uint64[3]', value: {length: 3, items: ['1', '2', '18446744073709551615'], truncated: false}})
    expect(byLabel.pair!.value).toEqual({length: 2, items: [UINT256_MAX, '5'], truncated: false})
    expect(byLabel.points!.value).toEqual({length: 2, items: [{x: '1', y: '-1'}, {x: '65535', y: '-32768'}], truncated: false})
    expect(byLabel.words!.value).toEqual({length: 2, items: ['a', LONG_WORD], truncated: false})
    expect(byLabel.balanceOf).toEqual({
      label: 'balanceOf',
      type: 'mapping(address => uint256)',
      slot: byLabel.balanceOf!.slot,
      offset: 0,
      value: {entries: [{key: alice, value: '1000'}, {key: BOB_LITERAL, value: '5'}, {key: '0x0000000000000000000000000000000000000001', value: '0'}]},
    })
    expect(byLabel.allowance!.value).toEqual({entries: [{key: alice, value: {entries: [{key: BOB_LITERAL, value: '77'}]}}]})
    expect(byLabel.byName!.value).toEqual({entries: [{key: 'alice', value: '11'}, {key: 'bob', value: '0'}]})
    expect(byLabel.bySigned!.value).toEqual({entries: [{key: '-5', value: true}]})
    expect(byLabel.bySelector!.value).toEqual({entries: [{key: '0xdeadbeef', value: getAddress('0x000000000000000000000000000000000000cafe')}]})
    expect(byLabel.pointAt!.value).toEqual({entries: [{key: '9', value: {x: '9', y: '9'}}]})
    expect(byLabel.byPhase!.value).toEqual({entries: [{key: 1, value: '3'}]})
    expect(byLabel.self).toMatchObject({type: 'contract Layout', value: address})
    // A user-defined value type: the layout does not say what it wraps, so its bytes.
    expect(byLabel.price).toMatchObject({type: 'Price', value: `0x${1234n.toString(16).padStart(32, '0')}`})
    // Every value agrees with the contract's own public getters.
    const getter = async (name: string, args: unknown[] = []): Promise<unknown> => {
      const abi = artifact.abi as Abi
      const data = encodeFunctionData({abi, functionName: name, args})
      const out = await h.rpc<Hex>('eth_call', [{to: address, data}, 'latest'])
      return decodeFunctionResult({abi, functionName: name, data: out})
    }
    expect(String(await getter('negative'))).toBe(byLabel.negative!.value)
    expect(await getter('longText')).toBe(byLabel.longText!.value)
    expect(String(await getter('packed', [34n]))).toBe('238')
    expect(String(await getter('allowance', [alice, BOB_LITERAL]))).toBe('77')
  })

  it('reads mappings without keys as empty, with a note; bare keys go to every mapping whose key type takes them, at every level', async () => {
    const none = await decodeStorage(artifact.storageLayout, readAt())
    const allowance = none.find((v) => v.label === 'allowance')!
    expect(allowance.value).toEqual({entries: []})
    expect(allowance.note).toBe('Mappings are read only at the keys given: --slot-key allowance=<key>,<key>')
    expect(none.find((v) => v.label === 'config')!.note).toBe('Mappings are read only at the keys given: --slot-key config.credits=<key>')
    expect(none.find((v) => v.label === 'small')!.note).toBeUndefined()

    const bare = await decodeStorage(artifact.storageLayout, readAt(), {keys: [`${alice},${BOB_LITERAL}`, '-5']})
    const get = (label: string): unknown => bare.find((v) => v.label === label)!.value
    expect(get('balanceOf')).toEqual({entries: [{key: alice, value: '1000'}, {key: BOB_LITERAL, value: '5'}]})
    expect(get('allowance')).toEqual({
      entries: [
        {key: alice, value: {entries: [{key: alice, value: '0'}, {key: BOB_LITERAL, value: '77'}]}},
        {key: BOB_LITERAL, value: {entries: [{key: alice, value: '0'}, {key: BOB_LITERAL, value: '0'}]}},
      ],
    })
    expect(get('bySigned')).toEqual({entries: [{key: '-5', value: true}]})
    // An address is taken neither as an integer nor as a string; -5 is no uint256, but a string.
    expect(get('pointAt')).toEqual({entries: []})
    expect(get('byName')).toEqual({entries: [{key: '-5', value: '0'}]})
  })

  it('keeps to maxArrayItems and maxBytesSlots, and reads each slot once', async () => {
    const reads: bigint[] = []
    const variables = await decodeStorage(artifact.storageLayout, readAt('latest', reads), {maxArrayItems: 2, maxBytesSlots: 1, keys: {balanceOf: [alice, alice]}})
    const get = (label: string): unknown => variables.find((v) => v.label === label)!.value
    expect(get('packed')).toEqual({length: 35, items: ['0', '7'], truncated: true})
    expect(get('longText')).toEqual({length: LONG_TEXT.length, data: LONG_TEXT.slice(0, 32), truncated: true})
    expect(get('shortText')).toBe('hello')
    expect(get('balanceOf')).toEqual({entries: [{key: alice, value: '1000'}]})
    expect(reads.length).toBeGreaterThan(10)
    expect(new Set(reads).size).toBe(reads.length)
  })

  it('reads at the block the reader is bound to', async () => {
    await h.send({to: address, data: encodeFunctionData({abi: artifact.abi as Abi, functionName: 'setSmall', args: [9]})})
    const now = await decodeStorage(artifact.storageLayout, readAt())
    const then = await decodeStorage(artifact.storageLayout, readAt(deployBlock))
    expect(now[0]).toMatchObject({label: 'small', value: '9'})
    expect(then[0]).toMatchObject({label: 'small', value: '200'})
    expect(now[1]).toMatchObject({label: 'flag', value: true}) // its neighbour in the slot is untouched
  })

  it('renders for humans: label (type) = value, structs and arrays indented, mapping entries as label[key] = value', async () => {
    const variables = await decodeStorage(artifact.storageLayout, readAt(deployBlock), {maxArrayItems: 2, maxBytesSlots: 1, keys: {byName: ['alice'], allowance: [`${alice},${BOB_LITERAL}`], pointAt: ['9']}})
    const text = formatContractState({address, contract: 'Layout', chainId: 31337, blockNumber: String(deployBlock), variables}, parseStorageLayout(artifact.storageLayout))
    const lines = text.split('\n')
    expect(lines.slice(0, 10)).toEqual([
      'small (uint8) = 200',
      'flag (bool) = true',
      `owner (address) = ${alice}`,
      'negative (int32) = -123456',
      'phase (enum Layout.Phase) = 2',
      'selector (bytes4) = 0xdeadbeef',
      `bigNegative (int256) = ${-(2n ** 200n)}`,
      'shortText (string) = "hello"',
      `longText (string) = ${JSON.stringify(LONG_TEXT.slice(0, 32))}… (${LONG_TEXT.length} bytes, the first shown)`,
      `blob (bytes) = 0x${'00'.repeat(31)}01… (40 bytes, the first shown)`,
    ])
    expect(text).toContain(
      [
        'config (struct Layout.Config)',
        '  config.level = 7',
        '  config.active = true',
        `  config.admin = ${getAddress('0x000000000000000000000000000000000000beef')}`,
        '  config.origin',
        '    config.origin.x = 3',
        '    config.origin.y = -4',
        '  config.title = "cfg"',
        '  config.marks: length 2',
        '    config.marks[0] = 10',
        '    config.marks[1] = 20',
        '  config.credits: no keys given',
        'packed (uint8[]): length 35, the first 2 shown',
        '  packed[0] = 0',
        '  packed[1] = 7',
      ].join('\n'),
    )
    expect(text).toContain(['points (struct Layout.Point[]): length 2', '  points[0]', '    points[0].x = 1', '    points[0].y = -1', '  points[1]'].join('\n'))
    expect(text).toContain(['allowance (mapping(address => mapping(address => uint256)))', `  allowance[${alice}][${BOB_LITERAL}] = 77`, 'byName (mapping(string => uint256))', '  byName["alice"] = 11'].join('\n'))
    expect(text).toContain(['pointAt (mapping(uint256 => struct Layout.Point))', '  pointAt[9]', '    pointAt[9].x = 9', '    pointAt[9].y = 9'].join('\n'))
    expect(text).toContain('\nbalanceOf (mapping(address => uint256)): no keys given\n')
    expect(text.endsWith(`price (Price) = 0x${1234n.toString(16).padStart(32, '0')}\n`)).toBe(true)
  })

  it('a contract without state variables has an empty layout (types: null)', async () => {
    const empty = await readArtifact(t.project, 'Empty')
    expect(empty.storageLayout).toEqual({storage: [], types: null})
    expect(await decodeStorage(empty.storageLayout, readAt())).toEqual([])
  })

  it('a malformed layout is CONTRACT_STORAGE_LAYOUT_INVALID (exit 3) before anything is read', async () => {
    const reads: bigint[] = []
    const bad = async (layout: unknown): Promise<XaiError> => {
      const err = await decodeStorage(layout, readAt('latest', reads)).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(XaiError)
      expect(err).toMatchObject({code: 'CONTRACT_STORAGE_LAYOUT_INVALID', exitCode: 3})
      return err as XaiError
    }
    expect((await bad(undefined)).message).toContain('(root)')
    expect((await bad({storage: [{label: 'x', slot: 'one', offset: 0, type: 't_uint8'}], types: {}})).message).toContain('storage.0.slot')
    expect((await bad({storage: [{label: 'x', slot: '0', offset: 0, type: 't_uint8'}], types: {}})).message).toContain('variable x names the type t_uint8, which is not in types')
    const mapping = {storage: [{label: 'm', slot: '0', offset: 0, type: 't_mapping(t_address,t_uint256)'}], types: {'t_mapping(t_address,t_uint256)': {encoding: 'mapping', label: 'mapping(address => uint256)', numberOfBytes: '32', key: 't_address'}}}
    expect((await bad(mapping)).message).toContain('mapping t_mapping(t_address,t_uint256) names the type (none)')
    expect((await bad({storage: [{label: 'x', slot: '0', offset: 30, type: 't_uint32'}], types: {t_uint32: {encoding: 'inplace', label: 'uint32', numberOfBytes: '4'}}})).message).toContain('x (uint32, 4 bytes) does not fit its slot at offset 30')
    const cyclic = {storage: [{label: 's', slot: '0', offset: 0, type: 't_struct(S)'}], types: {'t_struct(S)': {encoding: 'inplace', label: 'struct S', numberOfBytes: '32', members: [{label: 'inner', slot: '0', offset: 0, type: 't_struct(S)'}]}}}
    expect((await bad(cyclic)).message).toContain('types nest more than 64 levels deep')
    expect(reads).toEqual([])
    expect(() => parseStorageLayout({storage: [], types: {t_x: {encoding: 'packed', label: 'x', numberOfBytes: '1'}}})).toThrow(/types\.t_x\.encoding/)
  })

  it('mapping keys that do not fit are CONTRACT_INVALID_ARGUMENT (exit 2), before anything is read', async () => {
    const reads: bigint[] = []
    const invalid = async (keys: Record<string, string[]> | string[]): Promise<string> => {
      const err = await decodeStorage(artifact.storageLayout, readAt('latest', reads), {keys}).catch((e: unknown) => e)
      expect(err).toMatchObject({code: 'CONTRACT_INVALID_ARGUMENT', exitCode: 2})
      return (err as XaiError).message
    }
    expect(await invalid({balance: [alice]})).toBe('Cannot read keys of balance: no state variable is named balance')
    expect(await invalid({small: ['1']})).toBe('Cannot read keys of small: small is a uint8, not a mapping')
    expect(await invalid({'config.nope': ['1']})).toBe('Cannot read keys of config.nope: config (struct Layout.Config) has no member nope')
    expect(await invalid({allowance: [`${alice},${alice},${alice}`]})).toContain('allowance takes 2 keys (address, address), got 3')
    expect(await invalid({balanceOf: ['0x1234']})).toContain('Invalid key 1 of balanceOf: expected address')
    expect(await invalid({bySigned: ['200']})).toContain('an integer from -128 to 127')
    expect(await invalid({balanceOf: [`${alice},`]})).toBe(`An empty key for balanceOf: "${alice},"`)
    expect(reads).toEqual([])
    const empty = await readArtifact(t.project, 'Empty')
    await expect(decodeStorage(empty.storageLayout, readAt(), {keys: ['0x12345']})).rejects.toMatchObject({code: 'CONTRACT_INVALID_ARGUMENT', message: 'No mapping of this contract takes the key 0x12345'})
    const hint = await decodeStorage(artifact.storageLayout, readAt(), {keys: {nope: ['1']}}).catch((e: XaiError) => e.hint)
    expect(hint).toContain('balanceOf (address); allowance (address, address)')
    expect(hint).toContain('config.credits (address)')
  })
})

describe('contractState', () => {
  let t: Awaited<ReturnType<typeof tempProject>>
  let h: Harness
  let client: PublicClient
  let address: Hex
  const network: ResolvedNetwork = {name: null, rpcUrl: 'memory://chain', chainId: 31337, devnet: null}

  beforeAll(async () => {
    t = await tempProject()
    await t.write('contracts/Layout.sol', LAYOUT_SOURCE)
    await compileProject(t.project)
    h = await createHarness()
    client = createPublicClient({transport: custom({request: ({method, params}) => h.rpc(method, params as unknown[])})})
    const artifact = await readArtifact(t.project, 'Layout')
    const hash = await h.send({data: artifact.bytecode, gas: 15_000_000n})
    address = getAddress((await h.rpc<{contractAddress: Hex}>('eth_getTransactionReceipt', [hash])).contractAddress)
    await h.send({to: address, data: encodeFunctionData({abi: artifact.abi as Abi, functionName: 'setSmall', args: [1]})})
  })
  afterAll(async () => {
    h?.close()
    await t?.cleanup()
  })

  it('reads an address with --abi at a pinned block', async () => {
    const latest = await contractState(t.project, {target: address, abi: 'Layout', network, client, keys: parseSlotKeys(['byName=alice'])})
    expect(latest).toMatchObject({address, contract: 'Layout', chainId: 31337, blockNumber: '2'})
    expect(latest.variables[0]).toMatchObject({label: 'small', value: '1'})
    expect(latest.variables.find((v) => v.label === 'byName')!.value).toEqual({entries: [{key: 'alice', value: '11'}]})
    const first = await contractState(t.project, {target: address, abi: 'Layout', network, client, block: '1'})
    expect(first).toMatchObject({blockNumber: '1'})
    expect(first.variables[0]).toMatchObject({label: 'small', value: '200'})
  })

  it('no code at the address is CONTRACT_NOT_DEPLOYED (exit 3); an unknown block or a bad --block is exit 2', async () => {
    const before = await contractState(t.project, {target: address, abi: 'Layout', network, client, block: 'earliest'}).catch((e: XaiError) => e)
    expect(before).toMatchObject({code: 'CONTRACT_NOT_DEPLOYED', exitCode: 3, message: `No contract code at ${address} on chain 31337 at block 0`})
    await expect(contractState(t.project, {target: '0x0000000000000000000000000000000000000b0b', abi: 'Layout', network, client})).rejects.toMatchObject({code: 'CONTRACT_NOT_DEPLOYED', exitCode: 3})
    const err = await contractState(t.project, {target: address, abi: 'Layout', network, client, block: '99'}).catch((e: XaiError) => e)
    expect(err).toMatchObject({code: 'CONTRACT_INVALID_ARGUMENT', exitCode: 2, message: 'Block 99 is not on chain 31337 (its head is block 2)'})
    await expect(contractState(t.project, {target: address, abi: 'Layout', network, client, block: 'pending!'})).rejects.toMatchObject({code: 'CONTRACT_INVALID_ARGUMENT', exitCode: 2})
  })

  it('an address needs --abi; an artifact without a layout is CONTRACT_STORAGE_LAYOUT_MISSING', async () => {
    await expect(contractState(t.project, {target: address, network, client})).rejects.toMatchObject({code: 'CONTRACT_INVALID_ARGUMENT', exitCode: 2})
    const path = `${t.root}/artifacts/contracts/Layout.sol/Layout.json`
    const {readFile, writeFile} = await import('node:fs/promises')
    const original = await readFile(path, 'utf8')
    await writeFile(path, JSON.stringify({...JSON.parse(original), storageLayout: null}))
    try {
      await expect(contractState(t.project, {target: address, abi: 'Layout', network, client})).rejects.toMatchObject({code: 'CONTRACT_STORAGE_LAYOUT_MISSING', exitCode: 3, hint: 'Recompile to write it: xai contract compile --force'})
    } finally {
      await writeFile(path, original)
    }
  })

  it('parses --slot-key and --block values', () => {
    expect(parseSlotKeys(['balanceOf=0xA', 'balanceOf=0xB', 'allowance=0xA,0xB', '0xC', 'config.credits=0xD', 'a b=c'])).toEqual({
      balanceOf: ['0xA', '0xB'],
      allowance: ['0xA,0xB'],
      '*': ['0xC', 'a b=c'],
      'config.credits': ['0xD'],
    })
    expect(parseBlockSelector(undefined)).toBe('latest')
    expect(parseBlockSelector('finalized')).toBe('finalized')
    expect(parseBlockSelector('0x10')).toBe(16n)
    expect(parseBlockSelector('12')).toBe(12n)
    expect(() => parseBlockSelector('-1')).toThrow(XaiError)
  })
})
