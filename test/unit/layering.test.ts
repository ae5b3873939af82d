import {readdirSync, readFileSync} from 'node:fs'
import {dirname, join, normalize, relative} from 'node:path'

import {describe, expect, it} from 'vitest'

/**
 * The import rule of docs/architecture.md, checked over src/: a folder imports only from its own
 * files and from layers below it; no import cycle between files; only the CLI layers (cli,
 * commands) touch oclif, Ink, React or listr2. Lowest layer first; folders on one line are peers
 * and import neither one another. A subfolder not listed is part of its parent's layer.
 */
const LAYERS: string[][] = [
  ['util'],
  ['storage'],
  ['chain'],
  ['governance'],
  ['modules'],
  ['p2p'],
  ['consensus'],
  ['contracts'],
  ['client'],
  ['rpc'],
  ['rest'],
  ['node'],
  ['devnet', 'fl', 'conformance'],
  ['cli'],
  ['commands'],
]
const UI_PACKAGES = ['@oclif/core', 'ink', 'react', 'listr2', 'ink-testing-library']
const UI_LAYERS = new Set(['cli', 'commands'])

const SRC = normalize(join(dirname(new URL(import.meta.url).pathname), '../../src'))

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : []
  })
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g

interface Graph {
  files: string[]
  imports: Map<string, {target: string; line: number}[]>
  packages: Map<string, {name: string; line: number}[]>
}

function buildGraph(): Graph {
  const files = sourceFiles(SRC).map((file) => relative(SRC, file))
  const known = new Set(files)
  const imports = new Map<string, {target: string; line: number}[]>()
  const packages = new Map<string, {name: string; line: number}[]>()
  for (const file of files) {
    const text = readFileSync(join(SRC, file), 'utf8')
    const local: {target: string; line: number}[] = []
    const external: {name: string; line: number}[] = []
    for (const match of text.matchAll(IMPORT)) {
      const spec = match[1] ?? match[2]!
      const line = text.slice(0, match.index).split('\n').length + (match[0].startsWith('\n') ? 1 : 0)
      if (spec.startsWith('.')) {
        const base = normalize(join(dirname(file), spec))
        const target = [base.replace(/\.js$/, '.ts'), base.replace(/\.js$/, '.tsx'), `${base}.ts`, join(base, 'index.ts')].find((candidate) => known.has(candidate))
        if (target) local.push({target, line})
      } else {
        external.push({name: spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!, line})
      }
    }
    imports.set(file, local)
    packages.set(file, external)
  }
  return {files, imports, packages}
}

function folderOf(file: string): string {
  return file.includes('/') ? file.split('/')[0]! : '.'
}

function layerOf(folder: string): number {
  return LAYERS.findIndex((layer) => layer.includes(folder))
}

/** Strongly connected components of more than one file (Tarjan). */
function cycles(graph: Graph): string[][] {
  let index = 0
  const stack: string[] = []
  const onStack = new Set<string>()
  const indices = new Map<string, number>()
  const low = new Map<string, number>()
  const found: string[][] = []
  const visit = (file: string): void => {
    indices.set(file, index)
    low.set(file, index)
    index++
    stack.push(file)
    onStack.add(file)
    for (const {target} of graph.imports.get(file) ?? []) {
      if (!indices.has(target)) {
        visit(target)
        low.set(file, Math.min(low.get(file)!, low.get(target)!))
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file)!, indices.get(target)!))
      }
    }
    if (low.get(file) === indices.get(file)) {
      const component: string[] = []
      let member: string
      do {
        member = stack.pop()!
        onStack.delete(member)
        component.push(member)
      } while (member !== file)
      if (component.length > 1) found.push(component.sort())
    }
  }
  for (const file of graph.files) if (!indices.has(file)) visit(file)
  return found
}

describe('layering (docs/architecture.md: a folder imports only from layers below it)', () => {
  const graph = buildGraph()

  it('every folder under src/ has a layer', () => {
    const unplaced = [...new Set(graph.files.map(folderOf))].filter((folder) => layerOf(folder) < 0)
    expect(unplaced, 'add each new folder to LAYERS in this test and to the picture in docs/architecture.md').toEqual([])
  })

  it('no import reaches a layer above, or a peer folder', () => {
    const upward: string[] = []
    for (const [file, targets] of graph.imports) {
      const from = folderOf(file)
      for (const {target, line} of targets) {
        const to = folderOf(target)
        if (to === from) continue
        if (layerOf(to) >= layerOf(from)) upward.push(`src/${file}:${line} imports src/${target} (${from} → ${to})`)
      }
    }
    expect(upward).toEqual([])
  })

  it('no import cycle between files', () => {
    expect(cycles(graph).map((component) => component.join(' → '))).toEqual([])
  })

  it('only cli/ and commands/ use oclif, Ink, React or listr2', () => {
    const offending: string[] = []
    for (const [file, names] of graph.packages) {
      if (UI_LAYERS.has(folderOf(file))) continue
      for (const {name, line} of names) if (UI_PACKAGES.includes(name)) offending.push(`src/${file}:${line} imports ${name}`)
    }
    expect(offending).toEqual([])
  })
})
