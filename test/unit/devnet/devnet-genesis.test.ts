import {describe, expect, it} from 'vitest'

import {Chain} from '../../../src/chain/chain.js'
import {HISTORY_STORAGE_ADDRESS, createDevGenesis} from '../../../src/chain/genesis.js'
import {parseStateDump} from '../../../src/chain/state-dump.js'
import {
  assertGenesisFlagsMatch,
  buildDevnetGenesis,
  defaultGenesisSettings,
  formatEther,
  genesisSettingsFromFlags,
  parseEther,
  parseGenesisFile,
} from '../../../src/devnet/devnet-genesis.js'
import {openMemoryStore} from '../../../src/storage/database.js'
import {XaiError} from '../../../src/util/errors.js'

const ABANDON = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about'
const ADDRESS = '0x00000000000000000000000000000000000000aa'

async function refusal(run: () => unknown): Promise<XaiError> {
  try {
    await run()
  } catch (err) {
    if (err instanceof XaiError) return err
    throw err
  }
  throw new Error('expected a refusal')
}

describe('genesis settings from the flags', () => {
  it('defaults to what devnets always had: ten accounts of the test mnemonic with 10,000 ETH', async () => {
    expect(await genesisSettingsFromFlags({})).toEqual(defaultGenesisSettings())
    expect(defaultGenesisSettings()).toMatchObject({accounts: 10, balance: (10_000n * 10n ** 18n).toString(), derivationPath: "m/44'/60'/0'/0", gasLimit: '30000000', baseFee: '1000000000', hardfork: 'prague'})
  })

  it("takes anvil's flag forms: ether amounts, a path with its trailing slash, 'latest'", async () => {
    const settings = await genesisSettingsFromFlags({accounts: 3, balance: '5.5', mnemonic: `  ${ABANDON.replaceAll(' ', '  ')} `, derivationPath: "m/44'/60'/1'/0/", gasLimit: 60_000_000, baseFee: '7', hardfork: 'Latest'})
    expect(settings).toMatchObject({accounts: 3, balance: '5500000000000000000', mnemonic: ABANDON, derivationPath: "m/44'/60'/1'/0", gasLimit: '60000000', baseFee: '7', hardfork: 'prague'})
    expect(parseEther('0.000000000000000001')).toBe(1n)
    expect(formatEther(5_500_000_000_000_000_000n)).toBe('5.5')
    expect(formatEther(10_000n * 10n ** 18n)).toBe('10000')
  })

  it('refuses bad values with the reason', async () => {
    const cases: [Parameters<typeof genesisSettingsFromFlags>[0], RegExp][] = [
      [{balance: 'ten'}, /--balance "ten" is not an amount of ether/],
      [{balance: '1.0000000000000000001'}, /not an amount of ether/],
      [{mnemonic: 'abandon abandon'}, /2 words/],
      [{mnemonic: ABANDON.replace('about', 'zzzz')}, /"zzzz" is not a BIP-39 English word/],
      [{mnemonic: ABANDON.replace('about', 'abandon')}, /wrong checksum/],
      [{derivationPath: "44'/60'"}, /not a BIP-32 path/],
      [{derivationPath: "m/44'/x/0"}, /not a BIP-32 path/],
      [{derivationPath: "m/4294967296'"}, /not a BIP-32 path/],
      [{baseFee: '-1'}, /not a base fee in wei/],
      [{baseFee: String(2n ** 64n)}, /not a base fee in wei/],
      [{gasLimit: 20_000}, /--gas-limit 20000 is out of range/],
      [{hardfork: 'frontier'}, /not a hardfork @ethereumjs knows/],
      [{hardfork: 'london'}, /not one a devnet can run/],
      [{hardfork: 'osaka'}, /not one a devnet can run/],
      [{accounts: 1001}, /--accounts 1001 is out of range/],
    ]
    for (const [flags, reason] of cases) {
      const error = await refusal(() => genesisSettingsFromFlags(flags))
      expect(error.code, JSON.stringify(flags)).toBe('DEVNET_SETTING_INVALID')
      expect(error.message).toMatch(reason)
      expect(error.hint).toBeTruthy()
    }
  })

  it('on a resumed devnet, accepts the recorded values and refuses any other with a hint', async () => {
    const settings = await genesisSettingsFromFlags({accounts: 3, balance: '5', mnemonic: ABANDON})
    const recorded = {chainId: 1337, settings, name: 'default'}
    await assertGenesisFlagsMatch({chainId: 1337, accounts: 3, balance: '5.0', mnemonic: ABANDON, hardfork: 'prague', derivationPath: "m/44'/60'/0'/0/"}, recorded)
    for (const [flags, flag] of [
      [{chainId: 31337}, '--chain-id'],
      [{accounts: 10}, '--accounts'],
      [{balance: '6'}, '--balance'],
      [{mnemonic: 'test test test test test test test test test test test junk'}, '--mnemonic'],
      [{derivationPath: "m/44'/60'/0'/1/"}, '--derivation-path'],
      [{gasLimit: 40_000_000}, '--gas-limit'],
      [{baseFee: '5'}, '--base-fee'],
    ] as const) {
      const error = await refusal(() => assertGenesisFlagsMatch(flags, recorded))
      expect(error.code).toBe('DEVNET_SETTING_CONFLICT')
      expect(error.message).toContain(`created with ${flag}`)
      expect(error.hint).toMatch(/xai devnet reset --force/)
    }
  })
})

describe('a geth-style --genesis file', () => {
  const genesis = (over: Record<string, unknown> = {}): string =>
    JSON.stringify({
      config: {chainId: 4242, homesteadBlock: 0, londonBlock: 0, shanghaiTime: 0, cancunTime: 0, pragueTime: 0, terminalTotalDifficulty: 0},
      gasLimit: '0x3938700',
      baseFeePerGas: '0x7',
      timestamp: '0x10',
      extraData: '0x1234',
      alloc: {
        '00000000000000000000000000000000000000aa': {balance: '1000000000000000000', nonce: '0x2', code: '0x6001', storage: {'0x01': '0x2a'}},
      },
      ...over,
    })

  it('gives its chain id, gas limit, base fee, timestamp and alloc (geth forms: bare addresses, decimal balances)', () => {
    const parsed = parseGenesisFile(genesis(), '/g.json')
    expect(parsed).toMatchObject({chainId: 4242, gasLimit: 60_000_000n, baseFeePerGas: 7n, timestamp: 16n, extraData: '0x1234'})
    expect(parsed.alloc[ADDRESS]).toEqual({balance: '0xde0b6b3a7640000', nonce: '0x2', code: '0x6001', storage: {[`0x${'1'.padStart(64, '0')}`]: `0x${'2a'.padStart(64, '0')}`}})
  })

  it('accepts an identical copy of a system contract, as geth dev genesis files carry them', () => {
    const same = createDevGenesis({accounts: []}).alloc[HISTORY_STORAGE_ADDRESS]!
    const parsed = parseGenesisFile(genesis({alloc: {[HISTORY_STORAGE_ADDRESS]: {balance: '0x0', nonce: '0x1', code: same.code}}}), '/g.json')
    expect(parsed.alloc[HISTORY_STORAGE_ADDRESS]?.code).toBe(same.code)
  })

  it('refuses hostile or unusable files with the reason', () => {
    const cases: [string, RegExp][] = [
      ['{', /not JSON/],
      ['[]', /top level is not a JSON object/],
      [JSON.stringify({alloc: {}}), /"config" is missing/],
      [genesis({config: {chainId: -1}}), /config.chainId must be a positive integer/],
      [genesis({config: {chainId: '1'}}), /config.chainId must be a positive integer/],
      [genesis({config: {chainId: 1, londonBlock: 5}}), /config.londonBlock schedules a fork at 5/],
      [genesis({config: {chainId: 1, pragueTime: 1700000000}}), /config.pragueTime schedules a fork/],
      [genesis({validators: [{address: ADDRESS, power: 1}]}), /"validators" is set/],
      [genesis({gasLimit: '0x10'}), /gasLimit 16 is below 21000/],
      [genesis({gasLimit: 'lots'}), /gasLimit is not an integer/],
      [genesis({extraData: `0x${'00'.repeat(33)}`}), /extraData must be 0x-hex of at most 32 bytes/],
      [genesis({alloc: []}), /"alloc" is not an object/],
      [genesis({alloc: {'0x1234': {balance: '0x1'}}}), /alloc key "0x1234" is not a 20-byte hex address/],
      ['{"config": {"chainId": 1}, "alloc": {"__proto__": {"balance": "0x1"}}}', /alloc key "__proto__" is not a 20-byte hex address/],
      [genesis({alloc: {[ADDRESS]: {balance: '0x1'}, [ADDRESS.replace('0x', '')]: {balance: '0x2'}}}), /names .* twice/],
      [genesis({alloc: {'0x00000000000000000000000000000a1100000000': {balance: '0x1'}}}), /reserved prefix/],
      [genesis({alloc: {[HISTORY_STORAGE_ADDRESS]: {balance: '0x0', code: '0x00'}}}), /would replace the EIP-2935 block hash history system contract/],
      [genesis({alloc: {[ADDRESS]: {balance: `0x1${'0'.repeat(64)}`}}}), /balance/],
      [genesis({alloc: {[ADDRESS]: {balance: 1e300}}}), /balance is 1e\+300, not a non-negative integer/],
      [genesis({alloc: {[ADDRESS]: {balance: '0x1', nonce: '0x10000000000000000'}}}), /nonce is .* above its limit/],
      [genesis({alloc: {[ADDRESS]: {balance: '0x1', code: '0x123'}}}), /code must be even-length 0x-hex/],
      [genesis({alloc: {[ADDRESS]: {balance: '0x1', code: `0x${'00'.repeat((1 << 20) + 1)}`}}}), /code is longer than/],
      [genesis({alloc: {[ADDRESS]: {balance: '0x1', storage: {'0x1': `0x${'11'.repeat(33)}`}}}}), /storage .* is not 0x-hex of at most 32 bytes/],
      [genesis({alloc: {[ADDRESS]: {balance: '0x1', storage: {zz: '0x1'}}}}), /storage key "zz"/],
    ]
    for (const [text, reason] of cases) {
      let error: unknown
      try {
        parseGenesisFile(text, '/g.json')
      } catch (err) {
        error = err
      }
      expect(error, text.slice(0, 120)).toBeInstanceOf(XaiError)
      expect((error as XaiError).code).toBe('DEVNET_GENESIS_INVALID')
      expect((error as XaiError).message).toMatch(reason)
    }
  })

  it("builds a chain: the dev accounts funded, the file's alloc over them, a state dump over that", async () => {
    const imported = parseGenesisFile(genesis(), '/g.json')
    const settings = await genesisSettingsFromFlags({accounts: 1, balance: '5', mnemonic: ABANDON}, imported)
    const state = parseStateDump({
      accounts: {
        [ADDRESS]: {balance: '0x9', storage: {'0x02': '0x03'}},
        '0x00000000000000000000000000000a1100000000': {balance: '0x1', code: '0xfe'},
      },
    })
    const dev = '0x9858effd232b4033e47d90003d41ec34ecaeda94'
    const {genesis: built, skipped} = buildDevnetGenesis({chainId: 4242, settings, accounts: [dev], validators: [], imported, state})
    expect(skipped).toEqual(['0x00000000000000000000000000000a1100000000'])
    expect(built.config.chainId).toBe(4242)
    expect(BigInt(built.gasLimit)).toBe(60_000_000n)
    expect(BigInt(built.alloc[dev]!.balance)).toBe(5n * 10n ** 18n)
    // The dump's account replaced the file's fields and merged its storage.
    expect(built.alloc[ADDRESS]).toMatchObject({balance: '0x9', storage: {[`0x${'1'.padStart(64, '0')}`]: `0x${'2a'.padStart(64, '0')}`, [`0x${'2'.padStart(64, '0')}`]: `0x${'3'.padStart(64, '0')}`}})
    const chain = await Chain.create({store: openMemoryStore(), genesis: built})
    expect(chain.chainId).toBe(4242n)
    expect(chain.head.header.baseFeePerGas).toBe(7n)
    await chain.close()
  })
})
