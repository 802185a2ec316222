import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { decodeEntry, type SignedEntry } from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'

/**
 * To a worker: entry bytes to decode and verify, packed into one transferred buffer (entry `k`
 * is `packed[ends[k - 1] ?? 0, ends[k])`): one copy and no per-entry clone on either side.
 */
export interface VerifyRequest { job: number, packed: Uint8Array, ends: Uint32Array }
/** From a worker: per entry, its id (CID string) when the signature verified, else null. */
export interface VerifyResponse { job: number, ids: Array<string | null> }
/** From a worker, once: its modules are loaded and it takes jobs. */
export interface VerifyWorkerReady { ready: true }

/** A batch after the pool: each item decoded, and the set of those whose signature a worker checked. */
export interface VerifiedBatch {
  items: Array<Uint8Array | SignedEntry>
  /** Items (by identity) whose signature was verified, for exactly these bytes. */
  verified: ReadonlySet<Uint8Array | SignedEntry>
}

interface PoolWorker {
  worker: Worker
  jobs: Map<number, (ids: Array<string | null>) => void>
  /** Its modules are loaded. Until then batches are not sent to it: a fresh node's first batch would wait. */
  ready: boolean
  started: Promise<void>
}

/** Below this many entries a batch is not worth a round trip to a worker. */
const MIN_WORKER_SLICE = 16

/**
 * Signature checks of entry batches on worker threads, so catch-up uses every core. A
 * worker decodes and verifies the bytes it is sent and answers with each entry's id; the
 * main thread decodes the same bytes (without the signature check) and marks an entry
 * verified only when its id (the sha2-256 of its bytes) equals the worker's answer, so
 * the mark holds for exactly the bytes that are ingested. Anything else (an entry a worker
 * refused, a worker that died) is ingested unmarked and verified on the main thread, with
 * the usual typed error. By default the workers check the whole batch: the main thread decodes,
 * checks and stores every entry meanwhile, which in catch-up costs it about as much as the signatures
 * cost a worker (`mainThreadShare` gives it a share as well).
 *
 * @example
 * ```ts
 * const pool = new VerifyPool({ threads: 2 })
 * const { items, verified } = await pool.verify(batch)
 * await ingest(items, 'sync', { preVerified: verified })
 * await pool.close()
 * ```
 */
export class VerifyPool {
  private readonly workers: PoolWorker[] = []
  private nextJob = 0
  private next = 0

  /**
   * `threads`: worker threads (default: one per core but one, at least one). 0 verifies on the calling thread.
   * `mainThreadShare`: the fraction of each batch this thread verifies itself (default 0: it decodes, checks
   * and stores every entry of the batch already, so during catch-up it is the busier thread).
   */
  constructor (init: { threads?: number, mainThreadShare?: number } = {}) {
    this.configured = init.threads ?? Math.max(1, availableParallelism() - 1)
    this.mainThreadShare = Math.min(1, Math.max(0, init.mainThreadShare ?? 0))
  }

  private readonly mainThreadShare: number
  private readonly configured: number
  private spawned = false

  /** Worker threads the pool runs (or will run once a batch needs them), less any that died. */
  get threads (): number { return this.spawned ? this.workers.length : this.configured }

  /** Worker threads started so far: none until the first batch worth a worker (or {@link ready}). */
  get startedWorkers (): number { return this.workers.length }

  /**
   * Workers start on first need, not with the node: each is an isolate with its own heap (5 to
   * 10 MB of RSS, measured here), and a node that never catches up on a large batch never needs one.
   */
  private spawnWorkers (): void {
    if (this.spawned) return
    this.spawned = true
    for (let i = 0; i < this.configured; i++) this.workers.push(this.spawn())
  }

  private spawn (): PoolWorker {
    const worker = new Worker(new URL('./verify-worker.js', import.meta.url))
    let started = (): void => {}
    const w: PoolWorker = {
      worker, jobs: new Map(), ready: false, started: new Promise(resolve => { started = resolve })
    }
    worker.on('message', (res: VerifyResponse | VerifyWorkerReady) => {
      if ('ready' in res) {
        w.ready = true
        started()
        return
      }
      const done = w.jobs.get(res.job)
      w.jobs.delete(res.job)
      if (w.jobs.size === 0) worker.unref()
      done?.(res.ids)
    })
    const fail = (): void => {
      started()
      // Its jobs fall back to the main thread; the pool goes on with the others.
      for (const done of w.jobs.values()) done([])
      w.jobs.clear()
      const at = this.workers.indexOf(w)
      if (at >= 0) this.workers.splice(at, 1)
    }
    worker.on('error', fail)
    worker.on('exit', fail)
    worker.unref()
    return w
  }

  /**
   * Starts the workers if they are not yet, and resolves once every one has loaded (or failed):
   * until then the ones still loading get no batch.
   */
  async ready (): Promise<void> {
    this.spawnWorkers()
    await Promise.all(this.workers.map(async w => await w.started))
  }

  private async onWorker (workers: PoolWorker[], entries: Uint8Array[]): Promise<Array<string | null>> {
    const w = workers[this.next++ % workers.length]
    if (w === undefined) return []
    const job = this.nextJob++
    return await new Promise((resolve) => {
      // Referenced only while it has work: an idle pool never keeps the process alive.
      if (w.jobs.size === 0) w.worker.ref()
      w.jobs.set(job, resolve)
      const ends = new Uint32Array(entries.length)
      let size = 0
      for (let k = 0; k < entries.length; k++) ends[k] = size += entries[k]!.length
      const packed = new Uint8Array(size)
      for (let k = 0; k < entries.length; k++) packed.set(entries[k]!, ends[k]! - entries[k]!.length)
      w.worker.postMessage({ job, packed, ends } satisfies VerifyRequest, [packed.buffer, ends.buffer])
    })
  }

  /**
   * Decodes a batch and checks signatures, spread over the workers and this thread. Never
   * throws for a bad entry: that one is returned unmarked, for the ingest path to refuse.
   */
  async verify (entries: Uint8Array[]): Promise<VerifiedBatch> {
    const verified = new Set<Uint8Array | SignedEntry>()
    const items: Array<Uint8Array | SignedEntry> = entries.slice()
    if (entries.length < MIN_WORKER_SLICE * 2) return { items, verified }
    this.spawnWorkers()
    const ready = this.workers.filter(w => w.ready)
    const workers = ready.length
    if (workers === 0) return { items, verified }
    const own = Math.floor(entries.length * this.mainThreadShare)
    const size = Math.ceil((entries.length - own) / workers)
    const slices: Array<{ from: number, answer: Promise<Array<string | null>> }> = []
    for (let from = own; from < entries.length; from += size) {
      slices.push({ from, answer: this.onWorker(ready, entries.slice(from, from + size)) })
    }
    for (let i = 0; i < own; i++) {
      try {
        const signed = decodeEntry(entries[i]!, { crypto: nodeCrypto })
        items[i] = signed
        verified.add(signed)
      } catch { /* left as bytes: ingest refuses it with the typed error */ }
    }
    for (const { from, answer } of slices) {
      const ids = await answer
      for (let k = 0; k < ids.length; k++) {
        const id = ids[k]
        if (id === null || id === undefined) continue
        const i = from + k
        let signed: SignedEntry
        try {
          signed = decodeEntry(entries[i]!, { crypto: nodeCrypto, verify: false })
        } catch {
          continue
        }
        // The worker verified bytes whose CID is this one: the same bytes.
        if (signed.id !== id) continue
        items[i] = signed
        verified.add(signed)
      }
    }
    return { items, verified }
  }

  async close (): Promise<void> {
    // A closed pool starts none later.
    this.spawned = true
    const all = this.workers.splice(0)
    await Promise.all(all.map(async w => await w.worker.terminate()))
  }
}
