import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'
import { cliVersion } from '../cli-version.js'
import { emit } from '../output.js'

const HERE = dirname(fileURLToPath(import.meta.url))

/** The git commit of the checkout this build runs from, or null (an installed package). */
function gitCommit (): string | null {
  try {
    const out = execFileSync(
      'git', ['rev-parse', 'HEAD'], { cwd: HERE, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }
    )
    const commit = out.toString().trim()
    if (!/^[0-9a-f]{40}$/.test(commit)) return null
    const dirty = execFileSync(
      'git', ['status', '--porcelain', '--untracked-files=no'],
      { cwd: HERE, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }
    )
    return dirty.length > 0 ? `${commit}-dirty` : commit
  } catch {
    return null
  }
}

/** Version of a dependency as installed for @govmesh/node (the package that loads it), or null. */
function dependencyVersion (name: string): string | null {
  try {
    // Node's own lookup: node_modules of the package's directory, then of each parent.
    const from = dirname(fileURLToPath(import.meta.resolve('@govmesh/node')))
    for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
      try {
        return (
          JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }
        ).version
      } catch { /* not installed at this level */ }
    }
  } catch { /* @govmesh/node not resolvable */ }
  return null
}

export function registerVersion (program: Command): void {
  program.command('version')
    .description('print the version, git commit (in a checkout), runtime measurement, Node and libp2p versions')
    .option('--json', 'print {"version", "commit", "measurement", "node", "libp2p"} as JSON', false)
    .action(async (opts: { json: boolean }) => {
      // The measurement hashes the node's code; loaded here only, so `govmesh --version` stays fast.
      const { measureRuntime } = await import('@govmesh/node/measurement')
      const v = {
        version: cliVersion(),
        commit: gitCommit(),
        measurement: measureRuntime(),
        node: process.versions.node,
        libp2p: dependencyVersion('libp2p')
      }
      emit(opts.json, v, () => [
        `govmesh      ${v.version}`,
        `commit       ${v.commit ?? '(not a git checkout)'}`,
        `measurement  ${v.measurement}`,
        `node         ${v.node}`,
        `libp2p       ${v.libp2p ?? '?'}`
      ].join('\n'))
    })
}
