/**
 * The shape the code must keep (docs/ARCHITECTURE.md): no import cycles in any package, no service or
 * API route that reaches for the whole node, and a core without sockets or disk.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '..')
const PACKAGES = ['core', 'node', 'cli', 'console']

function sources (dir: string): string[] {
  return readdirSync(dir).flatMap(name => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [path] : []
  })
}

/** Every module specifier a file imports or re-exports, type-only ones included. */
function specifiers (file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const out: string[] = []
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g)) out.push(m[1]!)
  for (const m of text.matchAll(/(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)) out.push(m[1]!)
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!)
  return out
}

function localTarget (from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined
  const base = resolve(dirname(from), spec).replace(/\.js$/, '')
  for (const ext of ['.ts', '.tsx', '/index.ts']) {
    try { if (statSync(base + ext).isFile()) return base + ext } catch { /* next */ }
  }
  return undefined
}

function graph (pkg: string): Map<string, string[]> {
  const files = sources(join(ROOT, 'packages', pkg, 'src'))
  return new Map(
    files.map(f => [f, specifiers(f).map(s => localTarget(f, s)).filter((t): t is string => t !== undefined)])
  )
}

/** The strongly connected components with more than one file (or a self-import): the cycles. */
function cycles (g: Map<string, string[]>): string[][] {
  let index = 0
  const idx = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const on = new Set<string>()
  const out: string[][] = []
  const visit = (v: string): void => {
    idx.set(v, index); low.set(v, index); index++
    stack.push(v); on.add(v)
    for (const w of g.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!))
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = []
      let w: string
      do { w = stack.pop()!; on.delete(w); scc.push(w) } while (w !== v)
      if (scc.length > 1 || (g.get(v) ?? []).includes(v)) out.push(scc.map(f => relative(ROOT, f)).sort())
    }
  }
  for (const v of g.keys()) if (!idx.has(v)) visit(v)
  return out
}

describe('architecture', () => {
  for (const pkg of PACKAGES) {
    it(`packages/${pkg} has no import cycle`, () => {
      const g = graph(pkg)
      expect(g.size).toBeGreaterThan(3)
      expect(cycles(g)).toEqual([])
    })
  }

  it('no service and no API route imports the node: each gets narrow components', () => {
    const g = graph('node')
    const nodeFile = join(ROOT, 'packages/node/src/node.ts')
    const offenders = [...g.entries()]
      .filter(([f]) => /\/src\/(services|api)\//.test(f))
      .filter(([, deps]) => deps.includes(nodeFile))
      .map(([f]) => relative(ROOT, f))
    expect(offenders).toEqual([])
    expect([...g.keys()].filter(f => f.includes('/src/services/')).length).toBeGreaterThanOrEqual(6)
  })

  it('packages/core is pure: no sockets, no disk, no processes', () => {
    const impure = /^(node:)?(fs|fs\/promises|net|dgram|http|https|child_process|worker_threads|cluster|tls)$/
    const offenders = sources(join(ROOT, 'packages/core/src'))
      .flatMap(f => specifiers(f).filter(s => impure.test(s)).map(s => `${relative(ROOT, f)} imports ${s}`))
    expect(offenders).toEqual([])
  })

  it('the detector itself finds a cycle', () => {
    expect(cycles(new Map([['a', ['b']], ['b', ['a']], ['c', []]]))).toHaveLength(1)
  })
})
