import type { Dag } from '../../src/index.js'
import { prng } from '../helpers.js'

/** One message in flight: entry bytes from one replica to another, due at a simulated tick. */
interface InFlight { to: number, bytes: Uint8Array, due: number, order: number }

export interface SimNetworkInit {
  seed: number
  replicas: Dag[]
  /** Probability that a gossip copy is lost. */
  dropRate?: number
  /** Most ticks a copy is delayed (delays reorder messages). */
  maxDelay?: number
}

/**
 * A seeded in-memory network between DAG replicas, in the manner of Yjs' test
 * connector: gossip copies are delivered after random delays (so out of order),
 * dropped at a rate, and never cross a partition; anti-entropy sync between two
 * replicas in the same partition streams what one lacks in causal order, as the
 * sync protocol does (frontier exchange, then `missingFor`).
 */
export class SimNetwork {
  readonly rnd: () => number
  private readonly queue: InFlight[] = []
  private tick = 0
  private counter = 0
  private side: number[]
  readonly stats = { sent: 0, dropped: 0, delivered: 0, synced: 0, rejected: 0 }

  constructor (private readonly init: SimNetworkInit) {
    this.rnd = prng(init.seed)
    this.side = init.replicas.map(() => 0)
  }

  get size (): number { return this.init.replicas.length }
  pick (n = this.size): number { return Math.floor(this.rnd() * n) }

  /** Splits replicas into two random sides. */
  partition (): void { this.side = this.side.map(() => this.rnd() < 0.5 ? 0 : 1) }
  heal (): void { this.side = this.side.map(() => 0) }
  connected (a: number, b: number): boolean { return this.side[a] === this.side[b] }

  /** Gossips an entry that replica `from` accepted to every other replica. */
  publish (from: number, bytes: Uint8Array): void {
    for (let to = 0; to < this.size; to++) {
      if (to === from) continue
      this.stats.sent++
      if (!this.connected(from, to) || this.rnd() < (this.init.dropRate ?? 0.2)) { this.stats.dropped++; continue }
      this.queue.push(
        { to, bytes, due: this.tick + 1 + this.pick((this.init.maxDelay ?? 5) + 1), order: this.counter++ }
      )
    }
  }

  /** Advances one tick, delivering what is due (in a shuffled order). */
  step (): void {
    this.tick++
    const due = this.queue.filter(m => m.due <= this.tick)
    for (let i = due.length - 1; i > 0; i--) {
      const j = this.pick(i + 1)
      ;[due[i], due[j]] = [due[j]!, due[i]!]
    }
    for (const m of due) {
      this.queue.splice(this.queue.indexOf(m), 1)
      this.offer(m.to, m.bytes)
      this.stats.delivered++
    }
  }

  /** Anti-entropy: `to` pulls from `from` what its frontier lacks, if they can reach each other. */
  sync (from: number, to: number): void {
    if (!this.connected(from, to)) return
    const source = this.init.replicas[from]!
    const target = this.init.replicas[to]!
    for (const id of [...source.missingFor(target.frontier())]) {
      if (target.has(id)) continue
      this.offer(to, source.getBytes(id)!)
      this.stats.synced++
    }
  }

  private offer (to: number, bytes: Uint8Array): void {
    try {
      this.init.replicas[to]!.add(bytes)
    } catch {
      this.stats.rejected++
    }
  }

  /** Heals, drains the queue, then anti-entropy through replica 0: it pulls from everyone, everyone pulls from it. */
  settle (): void {
    this.heal()
    while (this.queue.length > 0) this.step()
    for (let b = 1; b < this.size; b++) this.sync(b, 0)
    for (let b = 1; b < this.size; b++) this.sync(0, b)
  }
}
