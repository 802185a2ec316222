import { MAX_SEAL_BATCH, type SealedRecord, type SignedEntry } from '@govmesh/core'

/** Seals one batch: signs it, has it accepted and stored; per record, its entry or why it was not accepted. */
export type SealBatch = (records: SealedRecord[]) => Promise<Array<SignedEntry | Error>>

interface Waiting {
  record: SealedRecord
  resolve: (entry: SignedEntry) => void
  reject: (err: Error) => void
}

/**
 * Group commit for execution records (docs/LINEAGE-BATCHES.md): a record appended while no
 * seal is in flight is sealed at once (with whatever else arrives in the same tick); records
 * appended while a seal is being signed and written wait and go, all together, into the next
 * one. No timer: batches grow with load. Each caller is answered with its own entry once its
 * batch is accepted and on disk, or with its own error.
 *
 * @example
 * ```ts
 * const sealer = new LineageSealer(async (records) => ledger.sealAndIngest(records))
 * const entry = await sealer.append({ type: 'exec.request', body, time: Date.now() })
 * ```
 */
export class LineageSealer {
  private readonly queue: Waiting[] = []
  private draining = false

  constructor (private readonly seal: SealBatch) {}

  /** Queues a record; resolves with its sealed entry once accepted and stored. */
  async append (record: SealedRecord): Promise<SignedEntry> {
    return await new Promise<SignedEntry>((resolve, reject) => {
      this.queue.push({ record, resolve, reject })
      if (!this.draining) {
        this.draining = true
        queueMicrotask(() => { void this.drain() })
      }
    })
  }

  /** Records waiting for the next seal. */
  get queued (): number { return this.queue.length }

  private async drain (): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_SEAL_BATCH)
        await this.sealOrSplit(batch)
      }
    } finally {
      this.draining = false
    }
  }

  /** One caller's bad record must not fail the others: a batch that cannot be sealed is sealed one by one. */
  private async sealOrSplit (batch: Waiting[]): Promise<void> {
    let results: Array<SignedEntry | Error>
    try {
      results = await this.seal(batch.map(w => w.record))
    } catch (err) {
      if (batch.length === 1) { batch[0]!.reject(err as Error); return }
      for (const w of batch) await this.sealOrSplit([w])
      return
    }
    // A record after a refused one was never accepted (its prev was refused): it goes into the next seal.
    const firstRefused = results.findIndex(r => r instanceof Error)
    batch.forEach((w, i) => {
      const r = results[i]
      if (firstRefused !== -1 && i > firstRefused) return
      if (r instanceof Error || r === undefined) w.reject(r ?? new Error('no result for a sealed record'))
      else w.resolve(r)
    })
    if (firstRefused !== -1) this.queue.unshift(...batch.slice(firstRefused + 1))
  }
}
