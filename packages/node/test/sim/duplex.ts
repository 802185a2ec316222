import type { Uint8ArrayList } from 'uint8arraylist'
import type { FramedDuplex } from '../../src/framing.js'

type Chunk = Uint8Array | Uint8ArrayList

/** An unbounded async queue of chunks that ends, or fails, once. */
class ChunkQueue implements AsyncIterable<Chunk> {
  private readonly items: Chunk[] = []
  private waiting: ((r: IteratorResult<Chunk>) => void) | undefined
  private failWaiting: ((err: Error) => void) | undefined
  private ended = false
  private error: Error | undefined

  push (c: Chunk): void {
    if (this.ended) return
    if (this.waiting !== undefined) {
      const w = this.waiting; this.clear(); w({ value: c, done: false })
    } else this.items.push(c)
  }

  end (err?: Error): void {
    if (this.ended) return
    this.ended = true
    this.error = err
    if (err !== undefined && this.failWaiting !== undefined) { const f = this.failWaiting; this.clear(); f(err) }
    if (this.waiting !== undefined) { const w = this.waiting; this.clear(); w({ value: undefined, done: true }) }
  }

  private clear (): void { this.waiting = undefined; this.failWaiting = undefined }

  async * [Symbol.asyncIterator] (): AsyncGenerator<Chunk> {
    for (;;) {
      const next = this.items.shift()
      if (next !== undefined) { yield next; continue }
      if (this.ended) {
        if (this.error !== undefined) throw this.error
        return
      }
      const r = await new Promise<IteratorResult<Chunk>>(
        (resolve, reject) => { this.waiting = resolve; this.failWaiting = reject }
      )
      if (r.done === true) return
      yield r.value
    }
  }
}

/**
 * Two connected in-memory stream ends (what one side's sink writes, the other's source reads);
 * aborting one end fails the other's reads, as a reset libp2p stream does.
 */
export function duplexPair (): [FramedDuplex, FramedDuplex] {
  const aToB = new ChunkQueue()
  const bToA = new ChunkQueue()
  const end = (incoming: ChunkQueue, outgoing: ChunkQueue): FramedDuplex => ({
    source: incoming as unknown as FramedDuplex['source'],
    sink: async (source: AsyncIterable<Chunk> | Iterable<Chunk>) => {
      for await (const chunk of source) outgoing.push(chunk)
      outgoing.end()
    },
    close: async () => {},
    abort: (err: Error) => {
      outgoing.end(err)
      incoming.end()
    }
  })
  return [end(bToA, aToB), end(aToB, bToA)]
}
