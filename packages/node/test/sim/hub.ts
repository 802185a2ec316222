import type { ConnectionInfo, GossipResult, MeshNetwork, StreamHandler } from '../../src/network.js'
import { duplexPair } from './duplex.js'

/** A seeded PRNG (mulberry32): the same seed gives the same schedule. */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface InFlight { to: number, from: string, topic: string, data: Uint8Array, due: number }

export interface SimHubInit {
  seed: number
  /** Probability that a gossip copy is lost. */
  dropRate?: number
  /** Most ticks a gossip copy is delayed (delays reorder). */
  maxDelay?: number
}

/**
 * A seeded in-memory network for real services, in the manner of Yjs' test connector: gossip copies
 * are delayed (so reordered), dropped at a rate and never cross a partition; protocol streams open
 * only within a partition and run over in-memory duplexes. Each node sees it as a {@link MeshNetwork}.
 */
export class SimHub {
  readonly rnd: () => number
  readonly stats = { sent: 0, dropped: 0, delivered: 0, streams: 0, refusedStreams: 0 }
  /** Streams opened, by protocol id. */
  readonly streamsByProtocol = new Map<string, number>()
  private readonly peers: string[] = []
  private readonly side: number[] = []
  private readonly validators: Array<Map<string, (from: string, data: Uint8Array) => Promise<GossipResult>>> = []
  private readonly handlers: Array<Map<string, StreamHandler>> = []
  private queue: InFlight[] = []
  private tick = 0

  constructor (private readonly init: SimHubInit) {
    this.rnd = prng(init.seed)
  }

  pick (n: number): number { return Math.floor(this.rnd() * n) }

  /** Adds a node; returns its view of the network. */
  join (peerId: string): MeshNetwork {
    const index = this.peers.length
    this.peers.push(peerId)
    this.side.push(0)
    this.validators.push(new Map())
    this.handlers.push(new Map())
    return this.networkOf(index)
  }

  partition (): void { for (let i = 0; i < this.side.length; i++) this.side[i] = this.rnd() < 0.5 ? 0 : 1 }
  heal (): void { this.side.fill(0) }
  connected (a: number, b: number): boolean { return a !== b && this.side[a] === this.side[b] }

  /** Advances one tick: delivers every due gossip copy, in a shuffled order, one after another. */
  async step (): Promise<void> {
    this.tick++
    const due = this.queue.filter(m => m.due <= this.tick)
    this.queue = this.queue.filter(m => m.due > this.tick)
    for (let i = due.length - 1; i > 0; i--) {
      const j = this.pick(i + 1)
      ;[due[i], due[j]] = [due[j]!, due[i]!]
    }
    for (const m of due) {
      const validate = this.validators[m.to]!.get(m.topic)
      if (validate === undefined) continue
      this.stats.delivered++
      await validate(m.from, m.data)
    }
  }

  /** Delivers everything in flight. */
  async drain (): Promise<void> {
    while (this.queue.length > 0) await this.step()
  }

  private networkOf (self: number): MeshNetwork {
    const others = (): number[] => this.peers.map((_, i) => i).filter(i => this.connected(self, i))
    const indexOf = (peerId: string): number => this.peers.indexOf(peerId)
    return {
      addrs: () => [],
      connectedPeers: () => others().map(i => this.peers[i]!),
      isConnected: (peerId) => { const i = indexOf(peerId); return i >= 0 && this.connected(self, i) },
      connectionCount: () => others().length,
      connections: (): ConnectionInfo[] => others().map(
        i => ({ peerId: this.peers[i]!, direction: 'outbound', remoteAddr: `sim/${i}` })
      ),
      openStream: async (peerId, protocol) => {
        const to = indexOf(peerId)
        const handler = to >= 0 && this.connected(self, to) ? this.handlers[to]!.get(protocol) : undefined
        if (handler === undefined) { this.stats.refusedStreams++; throw new Error(`sim: ${peerId} unreachable`) }
        this.stats.streams++
        this.streamsByProtocol.set(protocol, (this.streamsByProtocol.get(protocol) ?? 0) + 1)
        const [mine, theirs] = duplexPair()
        handler(theirs, this.peers[self]!)
        return mine
      },
      handle: async (protocol, handler) => { this.handlers[self]!.set(protocol, handler) },
      publish: async (topic, data) => {
        for (const to of this.peers.keys()) {
          if (to === self) continue
          this.stats.sent++
          if (!this.connected(self, to) || this.rnd() < (this.init.dropRate ?? 0.2)) { this.stats.dropped++; continue }
          const due = this.tick + 1 + this.pick((this.init.maxDelay ?? 4) + 1)
          this.queue.push({ to, from: this.peers[self]!, topic, data, due })
        }
      },
      subscribe: (topic, validate) => { this.validators[self]!.set(topic, validate) },
      dial: async () => { throw new Error('sim: no dialing (every node is connected within its partition)') },
      hangUp: async () => {},
      onPeerConnect: () => {},
      onPeerDisconnect: () => {}
    }
  }
}
