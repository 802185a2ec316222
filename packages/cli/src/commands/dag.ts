import type { Command } from 'commander'
import { ApiClient, clientOptions, wideOutput, type ClientOptions } from '../client.js'
import { memberNames, peerLabel, type Names } from '../names.js'
import { CliError, emit, EXIT, table } from '../output.js'
import { registerProof } from './proof.js'
import { registerStoreCommands } from './store.js'
import type { EntryView } from '@govmesh/node'


function positiveInt (v: string, flag: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0) throw new CliError(`${flag}: expected a non-negative integer`, EXIT.usage)
  return n
}

function entriesTable (entries: EntryView[], names: Names, wide: boolean): string {
  if (entries.length === 0) return 'no entries'
  return table(['CID', 'TYPE', 'AUTHOR', 'SEQ', 'TIME'], entries.map(e => [
    e.cid, e.type, peerLabel(e.authorPeerId, names, wide), String(e.seq), new Date(e.time).toISOString()
  ]), { wide, shrink: [2] })
}

/** The entries as JSON, or as a table with member names (fetched only for the table). */
async function showEntries (client: ApiClient, opts: ClientOptions, r: { entries: EntryView[] }): Promise<void> {
  if (opts.json === true) { emit(true, r, () => ''); return }
  const names = await memberNames(client)
  emit(false, r, () => entriesTable(r.entries, names, wideOutput(opts)))
}

export function registerDag (program: Command): void {
  const dag = program.command('dag').description('query a node\'s lineage DAG, export proofs, check a store')
  registerProof(program, dag)
  registerStoreCommands(program, dag)
  clientOptions(dag.command('heads').description('the DAG heads and frontier'))
    .action(async (opts: ClientOptions) => {
      const r = await new ApiClient(opts).get<{ heads: string[], frontier: Record<string, number> }>('/v1/dag/heads')
      emit(opts.json === true, r, () => r.heads.join('\n'))
    })
  clientOptions(dag.command('get').description('one entry, decoded, with signature status').argument('<cid>'))
    .action(async (cid: string, opts: ClientOptions) => {
      const e = await new ApiClient(opts).get<EntryView>(`/v1/dag/entries/${encodeURIComponent(cid)}`)
      emit(opts.json === true, e, () => JSON.stringify(e, null, 2))
    })
  clientOptions(dag.command('log').description('newest entries first, optionally filtered')
    .option('--author <key>', 'author PeerId or hex key')
    .option('--type <type>', 'entry type, e.g. policy.update')
    .option('--limit <n>', 'most entries to show', '50'))
    .action(async (opts: ClientOptions & { author?: string, type?: string, limit: string }) => {
      const q = new URLSearchParams({ limit: String(positiveInt(opts.limit, '--limit')) })
      if (opts.author !== undefined) q.set('author', opts.author)
      if (opts.type !== undefined) q.set('type', opts.type)
      const client = new ApiClient(opts)
      await showEntries(client, opts, await client.get<{ entries: EntryView[] }>(`/v1/dag/log?${q.toString()}`))
    })
  clientOptions(dag.command('ancestry').description('an entry and its causal ancestry, breadth first').argument('<cid>')
    .option('--depth <n>', 'most edges to follow'))
    .action(async (cid: string, opts: ClientOptions & { depth?: string }) => {
      const q = new URLSearchParams()
      if (opts.depth !== undefined) q.set('depth', String(positiveInt(opts.depth, '--depth')))
      const client = new ApiClient(opts)
      await showEntries(
        client, opts,
        await client.get<{ entries: EntryView[] }>(`/v1/dag/ancestry/${encodeURIComponent(cid)}?${q.toString()}`)
      )
    })
}
