import {
  CheckpointMismatchError, cidOfBytes, decodeEntry, type CryptoProvider, type Dag, type SignedEntry
} from '@govmesh/core'
import { toDagCheckpoint } from './checkpoint-record.js'
import type { CheckpointWriter } from './checkpoint-writer.js'
import type { LevelHistory } from './level-history.js'
import type { Ledger } from './ledger.js'
import { StoreDamagedError, type Store, type StoredCheckpoint } from './store.js'

/** Entries per level batch while an older store is migrated (metadata records written as it replays). */
const MIGRATION_BATCH = 5000

export interface OpenLedgerInit {
  ledger: Ledger
  store: Store
  /** The ledger DAG's history (over `store`). */
  history: LevelHistory
  checkpoints: CheckpointWriter
  crypto: CryptoProvider
}

/**
 * Loads the ledger from the store: from the stored checkpoint when there is one (reading only
 * the governance and trust entries it names, whatever the history's length), or by replaying
 * the store once and writing its metadata records and checkpoint (a new store, or one older
 * than schema 3). A checkpoint that disagrees with the store is damage: refused, never repaired.
 * Resolves with the number of entries replayed (0 when it resumed).
 *
 * @example
 * ```ts
 * const replayed = await openLedger({ ledger, store, history, checkpoints, crypto: nodeCrypto })
 * ```
 */
export async function openLedger (init: OpenLedgerInit): Promise<number> {
  let replayed = 0
  try {
    const stored = await init.store.readCheckpoint()
    if (stored !== undefined) {
      await checkHeads(init, stored)
      resume(init, stored)
    }
  } catch (err) {
    // Loss found by the store's index check explains a disagreeing checkpoint: report the loss.
    await init.store.indexesChecked
    throw err
  }
  // Nothing is written (the replay's migration, pending entries) before the store is known whole.
  await init.store.indexesChecked
  if (init.store.needsCheckpoint) replayed = await replay(init)
  // Schema 1 and 2 had no metadata records for the chain records to hold: the replay wrote them.
  if (init.store.needsChainRecords) await init.store.migrateToChains()
  const pending: Uint8Array[] = []
  for await (const bytes of init.store.pending()) pending.push(bytes)
  await init.ledger.loadPending(pending)
  init.ledger.loaded()
  return replayed
}

function damaged (store: Store, what: string): StoreDamagedError {
  return new StoreDamagedError(store.path, `the checkpoint disagrees with the store: ${what}`)
}

/**
 * The heads the checkpoint names are the entries without children: only an author's latest entry
 * (or an equivocation twin) can be one, so this reads a few keys per author, not the history.
 */
async function checkHeads (init: OpenLedgerInit, stored: StoredCheckpoint): Promise<void> {
  const { store } = init
  const candidates = new Set<string>()
  for (const [author, seq] of stored.frontier) {
    const id = store.atSync(author, seq)
    if (id === undefined) throw damaged(store, `the latest entry of ${author.slice(0, 16)}… is not indexed`)
    candidates.add(id)
  }
  for (const ev of stored.evidence) {
    for (const bytes of [ev.a, ev.b]) candidates.add(cidOfBytes(bytes, init.crypto).toString())
  }
  // One children-index read per candidate, all at once: LevelDB serves them on its threads.
  const childless = await Promise.all([...candidates].map(async (id) =>
    store.entrySync(id) !== undefined && !await store.hasChildren(id) ? id : undefined))
  const heads = childless.filter((id): id is string => id !== undefined).sort()
  const named = [...stored.state.heads].sort()
  if (heads.join(',') !== named.join(',')) {
    const unnamed = heads.filter(h => !named.includes(h)).length
    throw damaged(
      store, `it names ${named.length} heads, the store's children index gives ${heads.length} (${unnamed} not named)`
    )
  }
}

/** Cheap checks (counts, the kept entries it names), then the DAG's working state from the checkpoint. */
function resume (init: OpenLedgerInit, stored: StoredCheckpoint): void {
  const { store, history, ledger } = init
  const { state } = stored
  if (state.entries !== store.integrityEntries) {
    throw damaged(store, `it counts ${state.entries} entries, the integrity record ${store.integrityEntries}`)
  }
  if (state.kept !== stored.kept.length) {
    throw damaged(store, `it names ${state.kept} kept entries, ${stored.kept.length} are stored`)
  }
  if (state.evidence !== stored.evidence.length) {
    throw damaged(store, `it names ${state.evidence} equivocation records, ${stored.evidence.length} are stored`)
  }
  // The genesis the DAG was built with is the store's own.
  history.written([ledger.dag.meshIdString])
  for (const h of state.heads) if (history.meta(h) === undefined) throw damaged(store, `head ${h} is not stored`)
  const kept = stored.kept.map(id => {
    const bytes = history.bytes(id)
    if (bytes === undefined) throw damaged(store, `kept entry ${id} is not stored`)
    return decodeEntry(bytes, { crypto: init.crypto, verify: false })
  })
  try {
    ledger.dag.resume(toDagCheckpoint(state, stored.frontier, stored.kept, stored.evidence), kept)
  } catch (err) {
    if (err instanceof CheckpointMismatchError) throw damaged(store, err.message)
    throw err
  }
  init.checkpoints.resumeAt(state.kept, state.evidence)
  ledger.applyLoaded(kept)
}

/** One replay of the whole store (a new store, or schema 1 or 2), writing what schema 3 adds as it goes. */
async function replay (init: OpenLedgerInit): Promise<number> {
  const { store, history, ledger } = init
  const dag = ledger.dag
  let replayed = 0
  // The genesis was accepted when the DAG was built; its metadata record goes in the first batch.
  let batch: string[] = [dag.meshIdString]
  const flush = async (done: boolean): Promise<void> => {
    const metas = history.take(batch).map(e => ({ id: e.id, meta: e.meta }))
    const checkpoint = done ? init.checkpoints.opsFor(dag, keptInOrder(dag), dag.equivocations()) : undefined
    await store.putMigration(metas, checkpoint)
    history.written(batch)
    batch = []
  }
  for await (const bytes of store.replay()) {
    // Stored entries were validated before they were written: skip signature checks.
    const r = dag.add(bytes, { verified: true })
    ledger.applyLoaded(r.accepted)
    batch.push(...r.accepted.map(e => e.id))
    replayed++
    if (batch.length >= MIGRATION_BATCH) await flush(false)
  }
  if (replayed === 0) {
    // A new store: the genesis is its first entry, written with the first checkpoint.
    await ledger.writeGenesis()
    await store.putMigration([], [])
    return 0
  }
  await flush(true)
  return replayed
}

/** The kept entries in acceptance order (the DAG lists them so). */
function keptInOrder (dag: Dag): SignedEntry[] {
  return dag.checkpoint().kept.map(id => dag.getEntry(id)!)
}
