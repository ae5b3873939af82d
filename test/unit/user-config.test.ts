import {mkdtemp, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {userDefaultNetwork} from '../../src/cli/chain-target.js'
import {applyUserConfig, getUserSetting, listUserSettings, setUserSetting, unsetUserSetting} from '../../src/cli/user-config.js'
import {XaiError} from '../../src/util/errors.js'

let dir: string
let env: NodeJS.ProcessEnv

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xai-user-config-'))
  env = {XAI_CONFIG_DIR: dir}
})
afterEach(async () => {
  await rm(dir, {recursive: true, force: true})
})

function thrown(fn: () => unknown): XaiError {
  try {
    fn()
  } catch (err) {
    return err as XaiError
  }
  throw new Error('did not throw')
}

describe('user config (xai config)', () => {
  it('stores validated settings in $XAI_CONFIG_DIR/config.json with mode 0600', async () => {
    expect(setUserSetting('devnet', 'staging', env)).toEqual({key: 'devnet', value: 'staging', secret: false})
    expect(setUserSetting('account', '3', env).value).toBe(3)
    expect(setUserSetting('json', 'true', env).value).toBe(true)
    setUserSetting('apiKeys.sepolia', 'sk-1234567890abcd', env)
    const file = join(dir, 'config.json')
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(getUserSetting('apiKeys.sepolia', {}, env)!.value).toBe('********abcd')
    expect(getUserSetting('apiKeys.sepolia', {reveal: true}, env)!.value).toBe('sk-1234567890abcd')
    expect(listUserSettings({}, env)).toEqual({
      path: file,
      settings: [
        {key: 'account', value: 3, secret: false},
        {key: 'apiKeys.sepolia', value: '********abcd', secret: true},
        {key: 'devnet', value: 'staging', secret: false},
        {key: 'json', value: true, secret: false},
      ],
    })
    expect(unsetUserSetting('devnet', env)).toBe(true)
    expect(unsetUserSetting('devnet', env)).toBe(false)
    expect(getUserSetting('devnet', {}, env)).toBeUndefined()
  })

  it('refuses unknown keys and invalid values with a clear error', () => {
    expect(thrown(() => setUserSetting('colour', 'true', env))).toMatchObject({code: 'CONFIG_UNKNOWN_KEY', exitCode: 2})
    expect(thrown(() => setUserSetting('account', '12', env))).toMatchObject({code: 'CONFIG_INVALID_VALUE'})
    expect(thrown(() => setUserSetting('devnet', '../x', env))).toMatchObject({code: 'CONFIG_INVALID_VALUE'})
    expect(thrown(() => setUserSetting('json', 'yes', env)).message).toContain('json: "yes" is not valid')
  })

  it('precedence: the environment (and so flags) beat the settings, which fill only what is unset', () => {
    setUserSetting('home', '/srv/xai', env)
    setUserSetting('devnet', 'staging', env)
    setUserSetting('account', '2', env)
    setUserSetting('color', 'false', env)
    const run = {...env, XAI_DEVNET: 'from-env'}
    expect(applyUserConfig(run).applied.sort()).toEqual(['account', 'color', 'home'])
    expect(run).toMatchObject({XAI_HOME: '/srv/xai', XAI_DEVNET: 'from-env', XAI_ACCOUNT: '2', NO_COLOR: '1'})
  })

  it('the network setting is a URL or a devnet name; a broken file is ignored with a warning', async () => {
    setUserSetting('network', 'https://rpc.example.org', env)
    const run = {...env}
    applyUserConfig(run)
    expect(userDefaultNetwork(run)).toEqual({rpcUrl: 'https://rpc.example.org'})
    expect(userDefaultNetwork({XAI_DEFAULT_NETWORK: 'staging'})).toEqual({devnet: 'staging'})
    expect(userDefaultNetwork({})).toBeUndefined()
    await writeFile(join(dir, 'config.json'), '{not json')
    const broken = applyUserConfig({...env})
    expect(broken.applied).toEqual([])
    expect(broken.warning).toMatch(/^Ignoring the user settings: /)
  })
})
