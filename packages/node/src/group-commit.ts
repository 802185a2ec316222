/** One caller's write: applied in submission order; `sync` asks for it to be on disk before it resolves. */
export interface CommitRequest {
  sync: boolean
}

/** What the group commit has done, for metrics and tests. */
export interface GroupCommitStats {
  /** Batches written. */
  batches: number
  /** Requests those batches carried (requests ÷ batches = how much was shared). */
  requests: number
  /** Most requests in one batch. */
  largest: number
}

interface Queued<R> {
  request: R
  resolve: () => void
  reject: (err: unknown) => void
}

/**
 * Group commit: requests that arrive while a batch is being written wait and then go
 * together in the next one, so concurrent writers share one batch and one fsync. A lone
 * writer waits for nothing (its batch starts at once). Requests are written in the order
 * they were submitted; each promise resolves only after the batch holding it was written
 * (and synced, when any request of that batch asked for it), so "acknowledged means
 * durable" holds per request. A failed batch rejects exactly its own requests.
 *
 * @example
 * ```ts
 * const commits = new GroupCommit<{ ops: Op[], sync: boolean }>(async (batch, sync) => {
 *   await db.batch(batch.flatMap(r => r.ops), { sync })
 * })
 * await commits.submit({ ops, sync: true })
 * ```
 */
export class GroupCommit<R extends CommitRequest> {
  readonly stats: GroupCommitStats = { batches: 0, requests: 0, largest: 0 }
  private queue: Array<Queued<R>> = []
  private draining: Promise<void> | undefined

  /** `write` gets every request of one batch, in order, and whether the batch must be synced. */
  constructor (private readonly write: (requests: R[], sync: boolean) => Promise<void>) {}

  submit (request: R): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ request, resolve, reject })
      // A microtask, not at once: what one caller submits in the same turn goes in the same batch.
      this.draining ??= Promise.resolve().then(async () => { await this.drain() })
    })
  }

  /** Resolves once everything submitted so far has been written (or has failed). */
  async idle (): Promise<void> {
    while (this.draining !== undefined) await this.draining
  }

  private async drain (): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue
      this.queue = []
      const requests = batch.map(q => q.request)
      try {
        await this.write(requests, requests.some(r => r.sync))
      } catch (err) {
        for (const q of batch) q.reject(err)
        continue
      }
      this.stats.batches++
      this.stats.requests += batch.length
      this.stats.largest = Math.max(this.stats.largest, batch.length)
      for (const q of batch) q.resolve()
    }
    this.draining = undefined
  }
}
