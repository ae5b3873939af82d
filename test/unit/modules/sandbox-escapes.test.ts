import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'

import {loadModuleSource} from '../../../src/modules/host/load-module.js'
import type {NativeModule} from '../../../src/modules/module.js'
import {type TestHarness, createTestHarness} from '../../../src/modules/test-kit.js'

/**
 * Escape attempts from a user module, each one its own call of one module loaded by the real
 * loader (static check, TypeScript stripped, QuickJS sandbox). Every attempt passes the static
 * check (it reaches the forbidden names by member access and strings, as an attacker would); each
 * must get nothing of the node and change nothing outside the module's own storage.
 */

const ATTEMPTS = [
  'issueEscape', 'constructorChain', 'functionConstructor', 'indirectEval', 'dynamicImport', 'prepareStackTrace', 'pollutePrototypes',
  'readPollution', 'proxyIntoHost', 'proxyAsResult', 'webAssembly', 'sharedMemory', 'timers', 'clock', 'mathRandom', 'hostFunction',
  'keepState', 'readState',
] as const

const SOURCE = `
import {parseAbi} from 'viem'
import {z} from 'zod'

const abi = parseAbi([
${ATTEMPTS.map((name) => `  'function ${name}() returns (string)',`).join('\n')}
])

// Reached by member access, never by name: the static check passes all of this.
const globalOf = (): any => ((() => 0) as any).constructor('return this')()
let calls = 0n

const module = {
  manifest: {id: 'escapes', version: '0.1.0', description: 'escape attempts'},
  params: z.object({}),
  abi,
  gas: {},
  calls: {
    issueEscape(ctx: any) {
      const F = (abi as any).constructor.constructor
      const proc = F('return this.process')()
      proc.stdout.write('ESCAPED: pid ' + proc.pid + ' cwd ' + proc.cwd() + '\\n')
      return 'escaped'
    },
    constructorChain(ctx: any) {
      const F = ctx.storage.get.constructor
      const g = F('return this')()
      const proto = F('return Object.getPrototypeOf(this)')()
      return JSON.stringify({names: Object.getOwnPropertyNames(g).sort(), protoNames: proto ? Object.getOwnPropertyNames(proto).length : 0})
    },
    functionConstructor() {
      const F = (function () {} as any).constructor
      return F('return [typeof process, typeof require, typeof module, typeof Buffer, typeof global, typeof __dirname].join(",")')()
    },
    indirectEval() {
      const e = globalOf()['ev' + 'al']
      return e('[typeof process, typeof require, typeof globalThis.process].join(",")')
    },
    dynamicImport() {
      const F = (function () {} as any).constructor
      let got = 'pending'
      try {
        const p = F('return imp' + 'ort("node:fs")')()
        p.then(() => { got = 'loaded' }, () => { got = 'refused' })
      } catch (err: any) {
        got = 'threw: ' + err.message
      }
      return got
    },
    prepareStackTrace() {
      const E = (new Error('x') as any).constructor
      let seen = 'not called'
      E.prepareStackTrace = (_err: any, frames: any[]) => {
        seen = 'called with ' + frames.length + ' frames'
        return frames.map((frame) => String(frame.getThis?.())).join('|')
      }
      const stack = String(new E('boom').stack)
      return seen + '; ' + (stack.includes('process') ? 'saw the process' : 'no process')
    },
    pollutePrototypes(ctx: any) {
      ;({} as any).__proto__.polluted = 'yes'
      ;([] as any).__proto__.polluted = 'yes'
      ;(ctx as any).__proto__.polluted = 'yes'
      ;((() => 0) as any).__proto__.polluted = 'yes'
      ;(ctx.storage.get as any).__proto__.polluted = 'yes'
      return String(({} as any).polluted)
    },
    readPollution() {
      return String(({} as any).polluted) + ',' + String(([] as any).polluted)
    },
    proxyIntoHost(ctx: any) {
      let reads = 0
      const slot = new Proxy({}, {get: () => { reads++; return reads > 1 ? 7n : 0n }, getPrototypeOf: () => ({}).constructor.prototype})
      try {
        ctx.storage.set(slot, 1n)
      } catch (err: any) {
        return 'refused: ' + err.message
      }
      return 'accepted'
    },
    proxyAsResult() {
      return new Proxy({}, {get: () => { throw new Error('trap ran in the host') }}) as any
    },
    webAssembly() {
      const g = globalOf()
      return [typeof g['Web' + 'Assembly'], typeof g['WebAssembly']].join(',')
    },
    sharedMemory() {
      const g = globalOf()
      return [typeof g['Shared' + 'ArrayBuffer'], typeof g['Atom' + 'ics']].join(',')
    },
    timers() {
      const g = globalOf()
      return ['set' + 'Timeout', 'set' + 'Interval', 'set' + 'Immediate', 'queue' + 'Microtask'].map((name) => typeof g[name]).join(',')
    },
    clock() {
      const g = globalOf()
      return [typeof g['Da' + 'te'], typeof g['perf' + 'ormance']].join(',')
    },
    mathRandom() {
      return String(globalOf()['Ma' + 'th'].random())
    },
    hostFunction() {
      const g = globalOf()
      return [typeof g.__xai, typeof g.__xaiInput].join(',')
    },
    keepState() {
      calls += 1n
      return String(calls)
    },
    readState() {
      return String(calls)
    },
  },
}

export default module
`

function snapshot(): Record<string, string[]> {
  return {
    global: Object.getOwnPropertyNames(globalThis).sort(),
    object: Object.getOwnPropertyNames(Object.prototype).sort(),
    array: Object.getOwnPropertyNames(Array.prototype).sort(),
    function: Object.getOwnPropertyNames(Function.prototype).sort(),
    error: Object.getOwnPropertyNames(Error).sort(),
  }
}

describe('a sandboxed user module cannot reach the node', () => {
  let module: NativeModule
  let harness: TestHarness
  let before: Record<string, string[]>
  const writes: string[] = []

  beforeAll(async () => {
    before = snapshot()
    module = await loadModuleSource(SOURCE)
    harness = createTestHarness(module)
    const write = process.stdout.write.bind(process.stdout)
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      writes.push(String(chunk))
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest)
    })
  }, 120_000)

  afterAll(() => {
    vi.restoreAllMocks()
  })

  /** Runs an attempt; after it, nothing of the host changed and the module's storage is empty. */
  function attempt(name: (typeof ATTEMPTS)[number]): {result?: string; error?: string} {
    let out: {result?: string; error?: string}
    try {
      out = {result: harness.call(name).result as string}
    } catch (err) {
      out = {error: err instanceof Error ? err.message : String(err)}
    }
    expect(snapshot()).toEqual(before)
    expect(harness.storageSnapshot()).toEqual([])
    expect(harness.events).toEqual([])
    expect(writes.join('')).not.toContain('ESCAPED')
    return out
  }

  it('the escape of the issue (abi.constructor.constructor → Function → this.process) finds no process and reverts', () => {
    const out = attempt('issueEscape')
    expect(out.result).toBeUndefined()
    expect(out.error).toMatch(/issueEscape: .*(undefined|not an object|cannot read)/i)
  })

  it('the constructor chain reaches only the guest realm: its global has no process, require, Buffer or host function', () => {
    const {result} = attempt('constructorChain')
    const {names} = JSON.parse(result!) as {names: string[]}
    for (const hostName of ['process', 'require', 'module', 'Buffer', 'global', 'fetch', '__xai', '__xaiInput', 'setTimeout']) expect(names).not.toContain(hostName)
    expect(names).toContain('Object')
  })

  it('Function built by a constructor chain evaluates guest code only', () => {
    expect(attempt('functionConstructor').result).toBe('undefined,undefined,undefined,undefined,undefined,undefined')
  })

  it('eval reached through the global object sees no process or require', () => {
    expect(attempt('indirectEval').result).toBe('undefined,undefined,undefined')
  })

  it('import() loads nothing (no module loader; promises never run)', () => {
    const out = attempt('dynamicImport')
    expect(out.result ?? out.error).not.toBe('loaded')
    expect(out.result ?? out.error).toMatch(/pending|threw|refused|not supported/)
  })

  it('Error.prepareStackTrace set in the guest exposes no host frame, and the host Error is untouched', () => {
    const before = (Error as unknown as {prepareStackTrace?: unknown}).prepareStackTrace
    const out = attempt('prepareStackTrace')
    expect(out.result ?? out.error).not.toMatch(/saw the process/)
    expect((Error as unknown as {prepareStackTrace?: unknown}).prepareStackTrace).toBe(before)
  })

  it('prototype pollution stays in the call\'s own realm: not in the host, not in the next call', () => {
    expect(attempt('pollutePrototypes').result).toBe('yes')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(([] as unknown as Record<string, unknown>).polluted).toBeUndefined()
    expect(attempt('readPollution').result).toBe('undefined,undefined')
  })

  it('a Proxy passed to the host is flattened to data in the guest: the host sees no object and runs no trap', () => {
    const out = attempt('proxyIntoHost')
    expect(out.result).toMatch(/^refused: /)
  })

  it('a Proxy returned as the result never reaches the host: it is flattened to plain data in the guest', () => {
    let result: unknown
    expect(() => {
      result = harness.call('proxyAsResult').result
    }).not.toThrow(/trap ran in the host/)
    if (result !== undefined) {
      expect(typeof result === 'string' || Object.getPrototypeOf(result) === Object.prototype).toBe(true)
      expect(() => JSON.stringify(result)).not.toThrow()
    }
    expect(snapshot()).toEqual(before)
  })

  it('WebAssembly does not exist in the guest', () => {
    expect(attempt('webAssembly').result).toBe('undefined,undefined')
  })

  it('SharedArrayBuffer and Atomics do not exist in the guest', () => {
    expect(attempt('sharedMemory').result).toBe('undefined,undefined')
  })

  it('timers do not exist in the guest', () => {
    expect(attempt('timers').result).toBe('undefined,undefined,undefined,undefined')
  })

  it('there is no clock: no Date, no performance', () => {
    expect(attempt('clock').result).toBe('undefined,undefined')
  })

  it('Math.random throws', () => {
    expect(attempt('mathRandom').error).toMatch(/Math.random is not deterministic/)
  })

  it('the host function and the invocation are gone from the global object before the module runs', () => {
    expect(attempt('hostFunction').result).toBe('undefined,undefined')
  })

  it('module-level variables do not survive between calls (a fresh context per call)', () => {
    expect(attempt('keepState').result).toBe('1')
    expect(attempt('keepState').result).toBe('1')
    expect(attempt('readState').result).toBe('0')
  })
})
