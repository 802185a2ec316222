import { isKeptType, type Dag, type EquivocationEvidence, type SignedEntry } from '@govmesh/core'
import { CHECKPOINT_KEY, encodeCheckpointState, encodeEvidence, evidenceKey, keptKey } from './checkpoint-record.js'
import type { LevelHistory } from './level-history.js'
import type { BatchPreparer } from './ledger.js'
import type { StoreOp } from './store.js'

const utf8 = new TextEncoder()

/**
 * Turns what one ingest accepted into checkpoint writes for the same level batch as the
 * entries: the new kept and evidence records (append-only) and the rewritten `k!state`.
 * Called synchronously right after the DAG accepted the batch, so the state it writes is the
 * DAG's after exactly the entries written so far.
 *
 * @example
 * ```ts
 * const extraOps = writer.opsFor(dag, accepted, equivocations)
 * await store.putAccepted(entries, { extraOps })
 * ```
 */
export class CheckpointWriter {
  private kept = 0
  private evidence = 0

  /** Continues after a stored checkpoint that counts this many kept and evidence records. */
  resumeAt (kept: number, evidence: number): void {
    this.kept = kept
    this.evidence = evidence
  }

  opsFor (dag: Dag, accepted: readonly SignedEntry[], equivocations: readonly EquivocationEvidence[]): StoreOp[] {
    const ops: StoreOp[] = []
    for (const e of accepted) {
      if (isKeptType(e.entry.type)) ops.push({ type: 'put', key: keptKey(this.kept++), value: utf8.encode(e.id) })
    }
    for (const ev of equivocations) {
      ops.push({ type: 'put', key: evidenceKey(this.evidence++), value: encodeEvidence(ev) })
    }
    const state = {
      entries: dag.size, heads: dag.heads(), cuts: Object.fromEntries(dag.cuts()),
      kept: this.kept, evidence: this.evidence
    }
    ops.push({ type: 'put', key: CHECKPOINT_KEY, value: encodeCheckpointState(state) })
    return ops
  }
}

/**
 * The daemon's {@link BatchPreparer}: entries with their metadata records from the level
 * history, and the checkpoint writes, for one batch.
 *
 * @example
 * ```ts
 * const batches = new StoreBatches(history, writer)
 * const ledger = new Ledger({ genesis, keys, history }, { store, metrics, events, logger, batches })
 * ```
 */
export class StoreBatches implements BatchPreparer {
  constructor (private readonly history: LevelHistory, private readonly checkpoints: CheckpointWriter) {}

  prepare (
    dag: Dag, accepted: SignedEntry[], equivocations: EquivocationEvidence[]
  ): ReturnType<BatchPreparer['prepare']> {
    return {
      entries: this.history.take(accepted.map(e => e.id)),
      extraOps: this.checkpoints.opsFor(dag, accepted, equivocations)
    }
  }

  written (ids: string[]): void { this.history.written(ids) }
}
