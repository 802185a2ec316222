import { toHex, type Dag, type SignedEntry } from '@govmesh/core'
import { isRevokedEntry, viewOfEntry, type EntryView } from './entry-view.js'
import type { HistoryIndex } from './history-index.js'
import { decodeStored, readEntries } from './history-reads.js'

/** Filters of a log query; every given one must match. */
export interface LogQuery {
  /** CID prefix. */
  cid?: string
  /** Author key (hex). */
  author?: string
  type?: string
  since?: number
  until?: number
  limit: number
}

/** Most ids a log query reads at once (its first read is its limit, more while its filters reject entries). */
const LOG_READ_MAX = 1024

/**
 * Entries matching a query, newest first, read from the index until `limit` match: a query for
 * one author walks only that author's chain (its chain records, bytes included: one range read
 * per batch). Other entries are read in batches, each once.
 *
 * @example
 * ```ts
 * const recent = await logEntries(node.dag, node.historyIndex, { type: 'exec.request', limit: 20 })
 * ```
 */
export async function logEntries (dag: Dag, index: HistoryIndex, q: LogQuery): Promise<EntryView[]> {
  const out: EntryView[] = []
  if (q.limit <= 0) return out
  const ids: AsyncIterable<string | { id: string, bytes: Uint8Array }> =
    q.author !== undefined ? index.authorChain(q.author) : index.newestFirst()
  let batch: string[] = []
  let read: Uint8Array[] = []
  let scanned = 0
  const readBatch = async (): Promise<void> => {
    const entries = read.length === batch.length
      ? batch.map((id, i) => decodeStored(id, read[i], 'the log'))
      : await readEntries(index, batch, 'the log')
    for (const signed of entries) {
      if (out.length < q.limit && matches(signed, q)) out.push(viewOfEntry(signed, isRevokedEntry(dag, signed)))
    }
    scanned += batch.length
    batch = []
    read = []
  }
  // What is still wanted, scaled by how many entries per match the filters let through so far.
  const wanted = (): number =>
    Math.min(LOG_READ_MAX, (q.limit - out.length) * (Math.ceil(scanned / Math.max(1, out.length)) || 1))
  for await (const item of ids) {
    const id = typeof item === 'string' ? item : item.id
    if (q.cid !== undefined && !id.startsWith(q.cid)) continue
    batch.push(id)
    if (typeof item !== 'string') read.push(item.bytes)
    if (batch.length < wanted()) continue
    await readBatch()
    if (out.length >= q.limit) return out
  }
  if (batch.length > 0) await readBatch()
  return out
}

function matches (signed: SignedEntry, q: LogQuery): boolean {
  const e = signed.entry
  return (q.author === undefined || toHex(e.author) === q.author) &&
    (q.type === undefined || e.type === q.type) &&
    (q.since === undefined || e.time >= q.since) &&
    (q.until === undefined || e.time <= q.until)
}

/**
 * Accepted entries of the authors' chains that a peer with the given frontier lacks, in
 * acceptance (causal) order, streamed from the order index: it starts at the oldest entry the
 * peer lacks, so a peer that is nearly in sync costs little however large the history is, and
 * memory stays bounded. The later entry of an equivocation is not in its author's chain and is
 * not sent (docs/PROTOCOL.md §20); only a cut author can have one.
 */
export async function * missingFor (
  dag: Dag, index: HistoryIndex, remote: Readonly<Record<string, number>>
): AsyncGenerator<string> {
  const frontier = dag.frontier()
  const end = dag.size
  let from = Infinity
  for (const [author, top] of Object.entries(frontier)) {
    const have = remote[author] ?? 0
    if (top <= have) continue
    const first = dag.entryAt(author, have + 1)
    if (first !== undefined) from = Math.min(from, first.index)
  }
  if (from === Infinity) return
  const cuts = dag.cuts()
  for await (const id of index.orderFrom(from)) {
    const m = dag.meta(id)
    if (m === undefined || m.index >= end) break
    if (m.seq <= (remote[m.author] ?? 0)) continue
    if (cuts.has(m.author) && dag.entryAt(m.author, m.seq)?.id !== id) continue
    yield id
  }
}

/**
 * Which of `candidates` are in the causal past of any of `roots` (a root counts as its own past).
 * Acceptance order is causal, so the walk never goes below the oldest candidate: its cost is
 * the history since then, not the whole DAG.
 */
export function inPastOf (dag: Dag, candidates: Iterable<string>, roots: Iterable<string>): Set<string> {
  const wanted = new Map<string, number>()
  for (const c of candidates) {
    const m = dag.meta(c)
    if (m !== undefined) wanted.set(c, m.index)
  }
  const found = new Set<string>()
  if (wanted.size === 0) return found
  const floor = Math.min(...wanted.values())
  const seen = new Set<string>()
  const stack = [...roots]
  while (stack.length > 0 && found.size < wanted.size) {
    const id = stack.pop()!
    if (seen.has(id)) continue
    seen.add(id)
    const m = dag.meta(id)
    if (m === undefined || m.index < floor) continue
    if (wanted.has(id)) found.add(id)
    if (m.prev !== null) stack.push(m.prev)
    stack.push(...m.parents)
  }
  return found
}
