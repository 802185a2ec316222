import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CORE_MODULE_URL } from '@govmesh/core'

function walk (dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) walk(p, out)
    else if (name.endsWith('.js')) out.push(p)
  }
}

/**
 * The node's runtime measurement: SHA-256 over its own compiled code (this
 * package's and the core's dist files, in a fixed order). Nodes built from the
 * same source report the same value; the policy allowlists accepted values.
 */
export function measureRuntime (): string {
  const hash = createHash('sha256')
  const here = dirname(fileURLToPath(import.meta.url))
  const coreDist = dirname(fileURLToPath(CORE_MODULE_URL))
  for (const dir of [coreDist, here]) {
    const files: string[] = []
    walk(dir, files)
    for (const f of files) {
      hash.update(f.slice(dir.length))
      hash.update(readFileSync(f))
    }
  }
  return hash.digest('hex')
}
