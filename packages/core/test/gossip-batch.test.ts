/**
 * Gossip batch messages (docs/PROTOCOL.md §18.2): a sealed batch travels as one message, a CBOR
 * array of the entries' bytes; anything else is refused at the boundary with a labelled reason.
 */
import { describe, expect, it } from 'vitest'
import {
  createDag, createGenesis, decodeGossipBatch, encodeCanonical, execRequestBody, gossipBatches, gossipBatchVerdict,
  isGossipBatch, keyPairFromSecret, MAX_ENTRY_BYTES, MAX_GOSSIP_BATCH_BYTES, MAX_GOSSIP_BATCH_ENTRIES,
  nextSealedEntries, type SealedRecord
} from '../src/index.js'
import { nodeCrypto } from '../src/node-crypto.js'
import { expectThrows } from './helpers.js'

const key = (n: number): ReturnType<typeof keyPairFromSecret> => keyPairFromSecret(new Uint8Array(32).fill(n))
const gov = key(1)
const a = key(2)
const genesis = createGenesis({ governors: [gov.publicKey], members: [{ key: a.publicKey, zone: 'a' }], time: 1 }, gov)

const request = (n: number): SealedRecord<'exec.request'> => ({
  type: 'exec.request', time: 10 + n,
  body: execRequestBody({ action: 'echo', resource: `r/${n}`, target: 'zone:a', nonce: `n${n}`, payload: { n } })
})

function sealedBatch (count: number): Uint8Array[] {
  const dag = createDag({ genesis })
  return nextSealedEntries(dag, a, Array.from({ length: count }, (_, i) => request(i)), nodeCrypto).map(e => e.bytes)
}

const blob = (size: number, fill: number): Uint8Array => new Uint8Array(size).fill(fill)

describe('gossip batches: encoding', () => {
  it('a sealed batch is one message that decodes to the same entry bytes, in order', () => {
    const entries = sealedBatch(16)
    const messages = gossipBatches(entries)
    expect(messages).toHaveLength(1)
    expect(isGossipBatch(messages[0]!)).toBe(true)
    expect(decodeGossipBatch(messages[0]!)).toEqual(entries)
  })

  it('one entry goes alone as its own bytes, the version-1 message', () => {
    const [only] = sealedBatch(1)
    const messages = gossipBatches([only!])
    expect(messages).toEqual([only])
    expect(isGossipBatch(messages[0]!)).toBe(false)
    expect(gossipBatches([])).toEqual([])
  })

  it('splits by size: no message over the byte limit, nothing lost or reordered', () => {
    const entries = Array.from({ length: 9 }, (_, i) => blob(MAX_ENTRY_BYTES, i + 1))
    const messages = gossipBatches(entries)
    for (const m of messages) expect(m.length).toBeLessThanOrEqual(MAX_GOSSIP_BATCH_BYTES)
    const back = messages.flatMap(m => isGossipBatch(m) ? decodeGossipBatch(m) : [m])
    expect(back).toEqual(entries)
    expect(messages.length).toBeGreaterThan(2)
  })

  it('splits by count: at most one sealed batch of entries per message', () => {
    const entries = Array.from({ length: MAX_GOSSIP_BATCH_ENTRIES + 3 }, (_, i) => blob(10, i % 250))
    const messages = gossipBatches(entries)
    expect(messages.map(m => isGossipBatch(m) ? decodeGossipBatch(m).length : 1)).toEqual([MAX_GOSSIP_BATCH_ENTRIES, 3])
  })

  it('refuses empty entry bytes when encoding', () => {
    expectThrows(() => gossipBatches([blob(0, 0)]), 'InvalidArgumentError', 'argument.invalid', /non-empty/)
  })
})

describe('gossip batches: decoding refuses, with a reason', () => {
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['not CBOR', Uint8Array.of(0x9f, 0x41), /gossip batch: malformed/],
    ['indefinite length (non-canonical)', Uint8Array.of(0x9f, 0x41, 1, 0x41, 2, 0xff), /gossip batch/],
    ['trailing bytes', Uint8Array.of(0x82, 0x41, 1, 0x41, 2, 0), /gossip batch: malformed/],
    ['one entry', encodeCanonical([blob(3, 1)]), /1 entries, expected 2/],
    ['no entries', encodeCanonical([]), /0 entries, expected 2/],
    ['too many entries', encodeCanonical(Array.from({ length: MAX_GOSSIP_BATCH_ENTRIES + 1 }, () => blob(1, 1))), /257 entries/],
    ['an item that is not bytes', encodeCanonical([blob(3, 1), 'text']), /item 1 is not a byte string/],
    ['an empty item', encodeCanonical([blob(3, 1), blob(0, 0)]), /item 1: 0 bytes/],
    ['an item over the entry limit', encodeCanonical([blob(3, 1), blob(MAX_ENTRY_BYTES + 1, 1)]), /item 1: 262145 bytes/],
    ['a message over the batch limit', encodeCanonical(Array.from({ length: 5 }, () => blob(MAX_ENTRY_BYTES, 1))), /bytes, at most 1048576/]
  ]
  for (const [name, data, reason] of cases) {
    it(name, () => {
      expect(isGossipBatch(data)).toBe(true)
      expectThrows(() => decodeGossipBatch(data), 'MalformedEntryError', 'entry.malformed', reason)
    })
  }

  it('an entry (a CBOR map) is not a batch', () => {
    const [entry] = sealedBatch(1)
    expect(isGossipBatch(entry!)).toBe(false)
    expect(isGossipBatch(new Uint8Array(0))).toBe(false)
  })
})

describe('gossip batches: the verdict', () => {
  it('reject if any entry is rejected, accept if any is new, else ignore', () => {
    expect(gossipBatchVerdict(['accepted', 'rejected'])).toBe('reject')
    expect(gossipBatchVerdict(['duplicate', 'rejected', 'pending'])).toBe('reject')
    expect(gossipBatchVerdict(['accepted', 'duplicate'])).toBe('accept')
    expect(gossipBatchVerdict(['pending', 'accepted'])).toBe('accept')
    expect(gossipBatchVerdict(['duplicate', 'duplicate'])).toBe('ignore')
    expect(gossipBatchVerdict(['pending', 'duplicate'])).toBe('ignore')
    expect(gossipBatchVerdict([])).toBe('reject')
    expect(gossipBatchVerdict(['accepted', undefined])).toBe('reject')
  })
})
