import * as viem from 'viem'
import * as zod from 'zod'

import {checkModuleSource} from '../check-module-source.js'
import * as moduleApi from '../index.js'
import type {NativeModule} from '../module.js'

/**
 * Turns the source of a user module, as stored in the registry, into a running module. The
 * source is checked by the same static determinism check `xai module test` runs, its TypeScript
 * is stripped to JavaScript (no type checking: the author's tests did that), and it is evaluated
 * with a `require` that hands out only the module API, zod and viem: a module has no other way
 * to reach the node. A module is one file; relative imports are refused.
 */

export class ModuleLoadError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ModuleLoadError'
  }
}

const ALLOWED: Record<string, unknown> = {'xai/modules': moduleApi, zod, viem}

type TypeScript = typeof import('typescript')
let typescript: Promise<TypeScript> | undefined

async function loadTypeScript(): Promise<TypeScript> {
  typescript ??= import('typescript').then((mod) => ((mod as {default?: TypeScript}).default ?? mod) as TypeScript)
  return typescript
}

export async function loadModuleSource(source: string): Promise<NativeModule> {
  const check = checkModuleSource(source)
  if (!check.ok) {
    const first = check.findings[0]!
    throw new ModuleLoadError(`the module source fails the determinism check at ${first.line}:${first.col}: ${first.message}${check.findings.length > 1 ? ` (and ${check.findings.length - 1} more)` : ''}`)
  }
  const ts = await loadTypeScript()
  const {outputText, diagnostics} = ts.transpileModule(source, {
    compilerOptions: {module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: false, verbatimModuleSyntax: false},
    reportDiagnostics: true,
  })
  if (diagnostics && diagnostics.length > 0) {
    throw new ModuleLoadError(`the module source does not parse: ${ts.flattenDiagnosticMessageText(diagnostics[0]!.messageText, ' ')}`)
  }
  const exports: Record<string, unknown> = {}
  const require = (specifier: string): unknown => {
    if (specifier in ALLOWED) return ALLOWED[specifier]
    throw new ModuleLoadError(`the module imports "${specifier}"; a module is one file and may import only ${Object.keys(ALLOWED).join(', ')}`)
  }
  try {
    // The source passed the static check: no globals beyond the language, no I/O, no clock.
    // Only `require` and `exports` are in scope: the source's own top-level names (a `const
    // module` is common) must not collide with anything.
    new Function('require', 'exports', outputText)(require, exports)
  } catch (err) {
    throw new ModuleLoadError(`the module failed to load: ${err instanceof Error ? err.message : String(err)}`)
  }
  const candidate = (exports.default ?? exports) as NativeModule
  if (!isNativeModule(candidate)) throw new ModuleLoadError('the module source does not export a native module as its default export')
  return candidate
}

function isNativeModule(value: unknown): value is NativeModule {
  const mod = value as NativeModule | undefined
  return (
    typeof mod === 'object' && mod !== null && typeof mod.manifest?.id === 'string' && typeof mod.manifest.version === 'string' && Array.isArray(mod.abi) &&
    typeof mod.calls === 'object' && typeof mod.gas === 'object' && typeof (mod.params as {parse?: unknown})?.parse === 'function'
  )
}
