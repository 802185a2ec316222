import { CborError, decodeCanonical } from './cbor.js'
import { encodeCanonical } from './cbor-encode.js'
import { InvalidArgumentError, MalformedEntryError } from './errors.js'
import { MAX_ENTRY_BYTES } from './limits.js'
import { MAX_SEAL_BATCH } from './seal.js'

/**
 * Largest gossip batch message (docs/PROTOCOL.md §18.2): a quarter of gossipsub's 4 MiB
 * inbound limit, so a batch always fits with room for the RPC around it. A sealed batch
 * whose entries are larger goes out as several messages.
 */
export const MAX_GOSSIP_BATCH_BYTES = 1024 * 1024

/** Most entries one gossip batch message carries: one sealed batch. */
export const MAX_GOSSIP_BATCH_ENTRIES = MAX_SEAL_BATCH

/**
 * Whether gossip data on the entries topic is a batch (a CBOR array, major type 4) rather than
 * one entry (a CBOR map, major type 5): the first byte tells them apart without decoding.
 */
export function isGossipBatch (data: Uint8Array): boolean {
  return data.length > 0 && (data[0]! >> 5) === 4
}

/**
 * The gossip messages that carry `entries` (complete signed entry bytes, in the order given):
 * canonical CBOR arrays of byte strings, each at most {@link MAX_GOSSIP_BATCH_BYTES} and
 * {@link MAX_GOSSIP_BATCH_ENTRIES} entries. An entry that fits no batch with another goes
 * alone as its own bytes, exactly the version-1 message.
 *
 * @example
 * ```ts
 * for (const data of gossipBatches(sealed.map(e => e.bytes))) await network.publish(topic, data)
 * ```
 */
export function gossipBatches (entries: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = []
  let group: Uint8Array[] = []
  let size = 0
  const flush = (): void => {
    if (group.length === 1) out.push(group[0]!)
    else if (group.length > 1) out.push(encodeCanonical(group))
    group = []
    size = 0
  }
  for (const e of entries) {
    if (!(e instanceof Uint8Array) || e.length === 0) {
      throw new InvalidArgumentError('entries: expected non-empty bytes')
    }
    // Array header (at most 3 bytes at 256 items) plus each byte-string header (at most 5 bytes).
    const cost = e.length + 5
    const full = size + cost + 3 > MAX_GOSSIP_BATCH_BYTES || group.length === MAX_GOSSIP_BATCH_ENTRIES
    if (group.length > 0 && full) flush()
    group.push(e)
    size += cost
  }
  flush()
  return out
}

/**
 * The entry bytes of a gossip batch message, checked at the boundary: a canonical CBOR array of
 * 2 to {@link MAX_GOSSIP_BATCH_ENTRIES} non-empty byte strings, each at most
 * {@link MAX_ENTRY_BYTES}, the whole at most {@link MAX_GOSSIP_BATCH_BYTES}. A one-entry batch is
 * refused: that entry has exactly one message form, its own bytes. Throws
 * `MalformedEntryError` (`entry.malformed`) with the reason; the entries themselves are judged
 * afterwards, one by one, by the ingest path.
 *
 * @example
 * ```ts
 * const entries = decodeGossipBatch(data) // then ingest(entries, 'gossip')
 * ```
 */
export function decodeGossipBatch (data: Uint8Array): Uint8Array[] {
  const fail = (msg: string): never => { throw new MalformedEntryError(`gossip batch: ${msg}`) }
  if (data.length > MAX_GOSSIP_BATCH_BYTES) fail(`${data.length} bytes, at most ${MAX_GOSSIP_BATCH_BYTES}`)
  let value: unknown
  try {
    value = decodeCanonical(data)
  } catch (err) {
    fail(err instanceof CborError ? `${err.kind}: ${err.message}` : (err as Error).message)
  }
  if (!Array.isArray(value)) return fail('not an array')
  if (value.length < 2 || value.length > MAX_GOSSIP_BATCH_ENTRIES) {
    fail(`${value.length} entries, expected 2 to ${MAX_GOSSIP_BATCH_ENTRIES}`)
  }
  value.forEach((item: unknown, i) => {
    if (!(item instanceof Uint8Array)) fail(`item ${i} is not a byte string`)
    const bytes = item as Uint8Array
    if (bytes.length === 0 || bytes.length > MAX_ENTRY_BYTES) {
      fail(`item ${i}: ${bytes.length} bytes, expected 1 to ${MAX_ENTRY_BYTES}`)
    }
  })
  return value as Uint8Array[]
}

/**
 * The validator's result for a gossip batch from the outcomes of its entries (docs/PROTOCOL.md
 * §18.3): reject if any entry is rejected (a relay forwards only what it accepted whole, so the
 * sender made the bad entry), accept if any is newly accepted, else ignore (all duplicate or
 * pending: nothing to forward).
 *
 * @example
 * ```ts
 * gossipBatchVerdict(['accepted', 'duplicate']) // 'accept'
 * ```
 */
export function gossipBatchVerdict (statuses: ReadonlyArray<string | undefined>): 'accept' | 'reject' | 'ignore' {
  if (statuses.length === 0 || statuses.some(s => s === 'rejected' || s === undefined)) return 'reject'
  return statuses.includes('accepted') ? 'accept' : 'ignore'
}
