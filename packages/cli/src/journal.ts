import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { CliError } from './output.js'

/** Per mesh: the last entry this key signed (its seq and CID). */
export interface JournalFile {
  version: 1
  author: string
  meshes: Record<string, { seq: number, id: string, time: number }>
}

/** Where a key file's journal lives: beside it, so it moves with the key. */
export function journalPath (keyFile: string): string {
  return `${keyFile}.journal`
}

export function readJournal (path: string): JournalFile | undefined {
  if (!existsSync(path)) return undefined
  let j: JournalFile
  try {
    j = JSON.parse(readFileSync(path, 'utf8')) as JournalFile
  } catch (err) {
    throw new CliError(`journal ${path} is unreadable (${(err as Error).message}); ` +
      'see "govmesh governor journal --help"')
  }
  if (j?.version !== 1 || typeof j.meshes !== 'object' || j.meshes === null) {
    throw new CliError(`journal ${path} is not a govmesh journal; see "govmesh governor journal --help"`)
  }
  return j
}

/** Records a signed entry; written aside and renamed, so a crash never leaves half a journal. */
export function recordSigned (path: string, author: string, mesh: string, seq: number, id: string): void {
  const j = readJournal(path) ?? { version: 1, author, meshes: {} }
  const prior = j.meshes[mesh]
  if (prior !== undefined && prior.seq > seq) return
  j.meshes[mesh] = { seq, id, time: Date.now() }
  writeFileSync(`${path}.tmp`, JSON.stringify(j, null, 2) + '\n', { mode: 0o600 })
  renameSync(`${path}.tmp`, path)
}

export function resetJournal (path: string): boolean {
  const had = existsSync(path)
  rmSync(path, { force: true })
  return had
}

/** The node's idea of where this key's chain ends. */
export interface NodePosition { mesh: string, seq: number, prev: string | null }

/**
 * Refuses to sign from a view that lacks this key's own latest entry: signing there would reuse
 * a seq, i.e. equivocate. `known` asks the node whether it holds an entry.
 */
export async function checkAgainstJournal (
  path: string, pos: NodePosition, known: (id: string) => Promise<boolean>
): Promise<void> {
  const last = readJournal(path)?.meshes[pos.mesh]
  if (last === undefined) return
  const seen = pos.seq - 1
  if (seen < last.seq) {
    throw new CliError(`stale view: this node holds this key's entries up to seq ${seen}, but its journal (${path}) ` +
      `records seq ${last.seq} (${last.id}); sign through a node that has it, or wait for sync ` +
      '(recovery: govmesh governor journal --help)', 1, 'cli.stale-view')
  }
  const same = seen === last.seq ? pos.prev === last.id : await known(last.id)
  if (!same) {
    throw new CliError(`journal conflict: this node does not hold the entry ${last.id} ` +
      `that the journal (${path}) records ` +
      `at seq ${last.seq}; refusing to sign (recovery: govmesh governor journal --help)`, 1, 'cli.journal-conflict')
  }
}
