import type { CID } from 'multiformats/cid'
import type { EntryType } from './bodies.js'
import type { EquivocationEvidence } from './evidence.js'
import { GovmeshError } from './errors.js'

/** The DAG was asked for something only a history held in memory can give (e.g. every id at once). */
export class HistoryNotInMemoryError extends GovmeshError {
  constructor (message: string) {
    super('dag.history-on-disk', message)
    this.name = 'HistoryNotInMemoryError'
  }
}

/** A checkpoint does not fit the genesis or the history it was offered with. */
export class CheckpointMismatchError extends GovmeshError {
  constructor (message: string) {
    super('dag.checkpoint-mismatch', message)
    this.name = 'CheckpointMismatchError'
  }
}

/** Index record of an accepted entry (the bytes are kept separately). */
export interface EntryMeta {
  id: string
  cid: CID
  /** Hex public key of the author. */
  author: string
  seq: number
  type: EntryType
  prev: string | null
  parents: string[]
  time: number
  /** Newest membership entries in this entry's causal past (excluding itself), sorted. */
  govHeads: readonly string[]
  /** Position in acceptance order. */
  index: number
}

/**
 * Where a {@link Dag} keeps the entries it accepted. The Dag holds only bounded working state
 * (heads, frontier, cuts, governance and trust entries, pending); every per-entry record lives
 * here. Reads are synchronous so that validation stays a pure, synchronous function: the node
 * backs this with its level store (point reads and a bounded cache), tests and the offline proof
 * verifier with {@link MemoryHistory}.
 */
export interface DagHistory {
  /** Metadata of an accepted entry. */
  meta: (id: string) => EntryMeta | undefined
  /** Bytes of an accepted entry, exactly as signed. */
  bytes: (id: string) => Uint8Array | undefined
  /** An accepted entry of the author at `seq` (after an equivocation there are two; either will do). */
  at: (author: string, seq: number) => string | undefined
  /** Records a newly accepted entry: it must be readable through this history at once. */
  add: (meta: EntryMeta, bytes: Uint8Array) => void
  /** Every accepted id in acceptance order, when the history holds them in memory. */
  ids?: () => readonly string[]
}

/**
 * Everything a Dag derives from its history that it does not read back per entry: enough to
 * resume without replaying (see {@link DagInit.resume}), and what `dag verify` compares with a
 * full re-derivation.
 */
export interface DagCheckpoint {
  /** Accepted entries, genesis included. */
  entries: number
  /** Author (hex) → highest accepted seq. */
  frontier: Record<string, number>
  /** Accepted entries with no accepted child, sorted. */
  heads: string[]
  /** Author (hex) → cut seq. */
  cuts: Record<string, number>
  /** Governance and `trust.fail` entries (what the governance, policy and trust reducers read), in acceptance order. */
  kept: string[]
  /** Equivocation evidence, in the order it was found. */
  evidence: EquivocationEvidence[]
}

/**
 * A history held in memory: the whole DAG in maps. For tests, tools and offline proof
 * verification, whose DAGs are small.
 *
 * @example
 * ```ts
 * const dag = createDag({ genesis, history: new MemoryHistory() })
 * ```
 */
export class MemoryHistory implements DagHistory {
  private readonly metas = new Map<string, EntryMeta>()
  private readonly entryBytes = new Map<string, Uint8Array>()
  private readonly order: string[] = []
  private readonly chains = new Map<string, Map<number, string>>()

  meta (id: string): EntryMeta | undefined { return this.metas.get(id) }
  bytes (id: string): Uint8Array | undefined { return this.entryBytes.get(id) }
  at (author: string, seq: number): string | undefined { return this.chains.get(author)?.get(seq) }
  ids (): readonly string[] { return this.order }

  add (meta: EntryMeta, bytes: Uint8Array): void {
    this.metas.set(meta.id, meta)
    this.entryBytes.set(meta.id, bytes)
    this.order.push(meta.id)
    let chain = this.chains.get(meta.author)
    if (chain === undefined) this.chains.set(meta.author, chain = new Map())
    if (!chain.has(meta.seq)) chain.set(meta.seq, meta.id)
  }
}
