import type { Command } from 'commander'
import { resolveDataDir } from '../data-dir.js'
import { emit, EXIT } from '../output.js'

/** `$GOVMESH_HOME` as the default `--data-dir` (undefined keeps the flag required). */
function defaultDataDir (): string | undefined {
  return resolveDataDir(undefined)
}

/** `dag verify` (offline, read-only store check) and `store rebuild`. */
export function registerStoreCommands (program: Command, dag: Command): void {
  dag.command('verify')
    .description('check a stopped node\'s store offline (like git fsck), reading a copy: never repairs or rewrites it')
    .requiredOption('--data-dir <dir>', 'the node\'s data directory (default: $GOVMESH_HOME)', defaultDataDir())
    .option('--json', 'print JSON for scripts', false)
    .action(async (opts: { dataDir: string, json: boolean }) => {
      const { verifyStore, renderVerify } = await import('../offline-store.js')
      const r = await verifyStore(opts.dataDir, opts.json)
      emit(opts.json, r, () => renderVerify(r, opts.dataDir))
      if (!r.ok) process.exitCode = EXIT.error
    })
  program.command('store').description('manage a stopped node\'s store')
    .command('rebuild')
    .description('move a damaged store aside (kept), keep the node key: the next start refills it from peers')
    .requiredOption('--data-dir <dir>', 'the node\'s data directory (default: $GOVMESH_HOME)', defaultDataDir())
    .option('--json', 'print JSON for scripts', false)
    .action(async (opts: { dataDir: string, json: boolean }) => {
      const { rebuildStore } = await import('../offline-store.js')
      const r = await rebuildStore(opts.dataDir)
      emit(opts.json, r, () => [
        `moved the store to ${r.movedTo} (kept for inspection); ${opts.dataDir}/node.key kept`,
        r.ownSeq === null
          ? 'warning: the damaged store does not say how far this node\'s own chain went; let it sync before it authors'
          : r.ownSeq > 0 ? `the node authors nothing until sync brings back its own entries up to seq ${r.ownSeq}` : '',
        `next: govmesh start --data-dir ${opts.dataDir} --genesis FILE --bootstrap PEER refills it through sync`
      ].filter(l => l !== '').join('\n'))
    })
}
