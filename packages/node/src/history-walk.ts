import type { HistoryIndex } from './history-index.js'
import type { ChainEntry, EntryLocation } from './store.js'

/** What a walk needs of an entry it read: its links, and its own place in its author's chain. */
export interface Step extends EntryLocation {
  prev: string | null
  parents: readonly string[]
}

/** How a walk reads the entries it visits. */
export interface WalkReader<T> {
  /** From a chain record, or undefined when the record lacks what `T` needs (then {@link read} reads it). */
  fromChain: (e: ChainEntry) => T | undefined
  /** By id, one read each: entries that no chain read found (not written yet, or off their chain). */
  read: (ids: string[]) => Promise<T[]>
  /** Where the chain records of ids no child named as prev are (their metadata records say). */
  locate: (ids: string[]) => Promise<Array<EntryLocation | undefined>>
  step: (t: T) => Step
}

/**
 * Chain records read by the first range read of an author in a bounded walk; each next one reads
 * twice as many. A record read ahead costs some 2.5 µs (adjacent keys), so the API's default
 * ancestry (100 entries) of one chain is one range, and a walk across many chains reads at most
 * this many records too many of each.
 */
const FIRST_CHAIN_READ = 128

/**
 * The chain records a walk read ahead, by id. An author's chain is read in ranges from the
 * highest seq the walk needs downwards: a walk down a chain costs a few range reads instead of a
 * point read per entry. `covered` is the seq range of the author read so far.
 */
class ChainReads {
  private readonly records = new Map<string, ChainEntry>()
  private readonly covered = new Map<string, { lo: number, hi: number, size: number }>()

  constructor (private readonly index: HistoryIndex) {}

  has (id: string): boolean { return this.records.has(id) }

  take (id: string): ChainEntry | undefined {
    const r = this.records.get(id)
    this.records.delete(id)
    return r
  }

  /**
   * Reads `author`'s chain from `top` down, unless already read: all of it down to seq 1 when
   * `ahead` is unbounded (a proof needs a chain's whole past), else at most `ahead` records, and at
   * first fewer (a walk across many chains reads little of each).
   */
  async ensure (author: string, top: number, ahead: number): Promise<void> {
    const c = this.covered.get(author)
    if (c !== undefined && top >= c.lo && top <= c.hi) return
    const size = ahead === Infinity ? top : Math.min(ahead, Math.max(FIRST_CHAIN_READ, 2 * (c?.size ?? 0)))
    let from = Math.max(1, top - size + 1)
    let range = { lo: from, hi: top, size }
    if (c !== undefined && top > c.hi && from <= c.hi + 1) {
      from = c.hi + 1
      range = { lo: c.lo, hi: top, size }
    } else if (c !== undefined && top === c.lo - 1) {
      range = { lo: from, hi: c.hi, size }
    }
    this.covered.set(author, range)
    for (const r of await this.index.chain(author, from, top)) this.records.set(r.id, r)
  }
}

/** Reads the entries a walk visits into `got`: chains in ranges, the rest by id. */
class Resolver<T> {
  readonly got = new Map<string, T>()
  private readonly chains: ChainReads
  /** Where ids' chain records are: from the child that names one as prev, or from its metadata record. */
  private readonly located = new Map<string, EntryLocation>()

  constructor (index: HistoryIndex, private readonly reader: WalkReader<T>) {
    this.chains = new ChainReads(index)
  }

  /**
   * Reads the chains of the located ids in `open` (distinct authors at once, each from its highest
   * seq wanted) and removes them from `open`: found in a chain record, or left to a read by id.
   */
  private async readChainsOf (open: Set<string>, ahead: number): Promise<void> {
    const tops = new Map<string, number[]>()
    for (const id of open) {
      const at = this.located.get(id)
      if (at === undefined) continue
      const seqs = tops.get(at.author)
      if (seqs === undefined) tops.set(at.author, [at.seq])
      else seqs.push(at.seq)
      open.delete(id)
    }
    if (tops.size === 0) return
    await Promise.all([...tops].map(async ([author, seqs]) => {
      for (const seq of seqs.sort((a, b) => b - a)) await this.chains.ensure(author, seq, ahead)
    }))
    for (const id of open) if (this.chains.has(id)) open.delete(id)
  }

  /** The entry read ahead in a chain as `id`, without any read (undefined when it is not). */
  taken (id: string): T | undefined {
    const record = this.chains.take(id)
    const t = record === undefined ? undefined : this.reader.fromChain(record)
    if (t !== undefined) this.got.set(id, t)
    return t
  }

  /** Notes where `s`'s prev is (its author, one seq lower), so that no metadata read locates it. */
  noteStep (s: Step): void {
    if (s.prev !== null && s.seq > 1 && !this.located.has(s.prev)) {
      this.located.set(s.prev, { author: s.author, seq: s.seq - 1 })
    }
  }

  /**
   * Reads `ids` (reading up to `ahead` entries of each one's chain below it), and notes their prevs.
   * Ids no child placed are located one at a time, each chain read before the next is located: the
   * parents a walk meets from another chain are mostly in the first read of that chain.
   */
  async resolve (ids: string[], ahead: number): Promise<void> {
    const open = new Set(ids.filter(id => !this.chains.has(id)))
    const unlocated = new Set<string>()
    for (;;) {
      await this.readChainsOf(open, ahead)
      const next = [...open].find(id => !this.located.has(id) && !unlocated.has(id))
      if (next === undefined) break
      const [at] = await this.reader.locate([next])
      if (at === undefined) unlocated.add(next)
      else this.located.set(next, at)
    }
    const rest = ids.filter(id => this.taken(id) === undefined)
    if (rest.length > 0) {
      const read = await this.reader.read(rest)
      rest.forEach((id, i) => this.got.set(id, read[i]!))
    }
    for (const id of ids) this.noteStep(this.reader.step(this.got.get(id)!))
  }
}

/**
 * Breadth-first ancestry from `root` over prev and parents, in the order of {@link Dag.ancestry}
 * (discovery order, the root first, up to `depth` edges and `limit` entries), reading each entry
 * once, a walk level at a time. A prev is found at its child's author and seq less one, so chains
 * are read in ranges ahead ({@link ChainReads}); only entries that start a chain in the walk (the
 * root, parents from other authors) are located through their metadata records first.
 * Resolves with the entries in discovery order.
 */
export async function walkAncestry<T> (
  index: HistoryIndex, reader: WalkReader<T>, root: string, opts: { depth?: number, limit?: number }
): Promise<Map<string, T>> {
  const maxDepth = opts.depth ?? Infinity
  const limit = opts.limit ?? Infinity
  const r = new Resolver(index, reader)
  const out: string[] = [root]
  const seen = new Set(out)
  // At most this many entries of a chain below one at `depth` can still be visited.
  const ahead = (depth: number): number => 1 + Math.min(limit - out.length, maxDepth - depth)
  await r.resolve(out, ahead(0))
  let frontier = out.slice()
  for (let d = 0; d < maxDepth && frontier.length > 0 && out.length < limit; d++) {
    const next: string[] = []
    visit: for (const cur of frontier) {
      const s = reader.step(r.got.get(cur)!)
      for (const p of s.prev === null ? s.parents : [s.prev, ...s.parents]) {
        if (seen.has(p)) continue
        seen.add(p)
        out.push(p)
        next.push(p)
        if (out.length >= limit) break visit
      }
    }
    await r.resolve(next, ahead(d + 1))
    frontier = next
  }
  // In discovery order (chain reads fill `got` out of it).
  return new Map(out.map(id => [id, r.got.get(id)!]))
}

/**
 * The whole ancestry closure of `root` (itself included), in no particular order: what a proof
 * holds. Every chain it meets is in it down to seq 1, so each is read whole, once, and walked
 * without waiting; only entries no chain read holds (the root, parents from other chains) wait
 * for a read, all of a round together.
 */
export async function walkClosure<T> (
  index: HistoryIndex, reader: WalkReader<T>, root: string
): Promise<Map<string, T>> {
  const r = new Resolver(index, reader)
  const seen = new Set([root])
  let wanted = [root]
  while (wanted.length > 0) {
    await r.resolve(wanted, Infinity)
    // Depth first from the first found (a chain's newest first): the parents it meets in another
    // chain are then found newest first too, and the first of them located reads that chain whole.
    const stack = wanted.reverse()
    wanted = []
    const follow = (s: Step, p: string): void => {
      if (seen.has(p)) return
      seen.add(p)
      if (r.taken(p) !== undefined) {
        stack.push(p)
      } else {
        // Only what no chain read holds needs its place noted, to be read in the next round.
        if (p === s.prev) r.noteStep(s)
        wanted.push(p)
      }
    }
    while (stack.length > 0) {
      const s = reader.step(r.got.get(stack.pop()!)!)
      if (s.prev !== null) follow(s, s.prev)
      for (const p of s.parents) follow(s, p)
    }
  }
  return r.got
}
