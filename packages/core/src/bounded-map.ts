/**
 * A Map that holds at most `capacity` keys and forgets the least recently written one first.
 * The per-peer structures below use it, so no number of identities grows a node's memory.
 */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>()

  constructor (readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer')
  }

  get size (): number { return this.map.size }

  get (key: K): V | undefined { return this.map.get(key) }

  /** Writes `key` as the most recent; returns the entry evicted to make room, if any. */
  set (key: K, value: V): [K, V] | undefined {
    this.map.delete(key)
    this.map.set(key, value)
    if (this.map.size <= this.capacity) return undefined
    const oldest = this.map.entries().next().value as [K, V]
    this.map.delete(oldest[0])
    return oldest
  }

  delete (key: K): boolean { return this.map.delete(key) }

  /** The oldest entry, without touching it. */
  oldest (): [K, V] | undefined {
    return this.map.entries().next().value
  }
}
