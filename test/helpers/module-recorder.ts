import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

// Preloaded with `--import`: records every module the process loads, ESM through a loader hook and
// CommonJS from the require cache at exit, one path or URL per line, into the file named by `?out=`.
const RECORDER = `
import { appendFileSync } from 'node:fs'
import { createRequire, register } from 'node:module'
const out = new URL(import.meta.url).searchParams.get('out')
const hooks = \`
import { appendFileSync } from 'node:fs'
let out
export function initialize (data) { out = data.out }
export async function load (url, context, next) { appendFileSync(out, url + '\\\\n'); return next(url, context) }
\`
register('data:text/javascript,' + encodeURIComponent(hooks), import.meta.url, { data: { out } })
const cache = createRequire(import.meta.url).cache
process.on('exit', () => { appendFileSync(out, Object.keys(cache).join('\\n') + '\\n') })
`

/** The packages that make a node a node: a client command that loads one of them starts slowly. */
export const DAEMON_PACKAGES = ['libp2p', '@libp2p/', '@chainsafe/', 'level', 'classic-level', 'fastify']

/** A module recorder in `dir`: node options that record into a list, and that list's packages. */
export class ModuleRecorder {
  private readonly script: string
  constructor (private readonly dir: string) {
    this.script = join(dir, 'module-recorder.mjs')
    writeFileSync(this.script, RECORDER)
  }

  /** The `--import` option that records into the list named `name`. */
  importOption (name: string): string {
    const url = pathToFileURL(this.script)
    url.searchParams.set('out', this.listPath(name))
    return `--import=${url.href}`
  }

  /** The packages (by node_modules name, scoped ones as `@scope/name`) the recorded process loaded. */
  packages (name: string): Set<string> {
    const path = this.listPath(name)
    if (!existsSync(path)) throw new Error(`no module list ${path}: the recorder did not run`)
    const found = new Set<string>()
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(decodeURIComponent(line))
      if (m !== null) found.add(m[1]!)
    }
    return found
  }

  /** The daemon packages among those the recorded process loaded. */
  daemonPackages (name: string): string[] {
    return [...this.packages(name)].filter(p => DAEMON_PACKAGES.some(d => d.endsWith('/') ? p.startsWith(d) : p === d))
  }

  private listPath (name: string): string {
    return join(this.dir, `${name}.modules`)
  }
}
