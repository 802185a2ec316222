import { describe, expect, it } from 'vitest'
import {
  cidOfBytes, createDag, createGenesis, encodeEntry, execRequestBody, keyPairFromSecret, nextEntry,
  verifyProof, type Dag, type KeyPair, type SignedEntry
} from '../src/index.js'

const key = (n: number): KeyPair => keyPairFromSecret(new Uint8Array(32).fill(n))
const gov = key(1)
const [a, b, c] = [key(2), key(3), key(4)]
const outsider = key(9)
const genesis = createGenesis({
  governors: [gov.publicKey],
  members: [{ key: a.publicKey, zone: 'a' }, { key: b.publicKey, zone: 'b' }, { key: c.publicKey, zone: 'c' }],
  time: 1
}, gov)

/** request (a) → hop (b) → hop (c) → result (c), each citing the previous step. */
function execution (opts: { reportB?: boolean } = {}): { dag: Dag, entries: SignedEntry[], result: SignedEntry } {
  const dag = createDag({ genesis })
  const entries: SignedEntry[] = []
  const add = <T extends SignedEntry>(e: T): T => { dag.add(e); entries.push(e); return e }
  const request = add(
    nextEntry(
      dag, a,
      {
        type: 'exec.request', body: execRequestBody({ action: 'echo', resource: 'r', target: 'zone:c', nonce: 'n' }),
        time: 10
      }
    )
  )
  if (opts.reportB === true) add(
    nextEntry(
      dag, a,
      { type: 'trust.fail', body: { subject: b.publicKey, reason: 'x', detector: 'manual', evidence: null }, time: 11 }
    )
  )
  const hop1 = add(
    nextEntry(
      dag, b,
      {
        type: 'exec.hop', body: { request: request.cid, hop: 1, from: 'a', zone: 'b', next: 'c' },
        parents: [request.cid], time: 12
      }
    )
  )
  add(
    nextEntry(
      dag, c,
      {
        type: 'exec.hop', body: { request: request.cid, hop: 2, from: 'b', zone: 'c', next: null }, parents: [hop1.cid],
        time: 13
      }
    )
  )
  const result = add(
    nextEntry(
      dag, c,
      {
        type: 'exec.result', body: { request: request.cid, ok: true, executor: 'echo', output: null, durationMs: 1 },
        time: 14
      }
    )
  )
  return { dag, entries, result }
}

const blocksOf = (entries: SignedEntry[]): Array<{ cid: SignedEntry['cid'], bytes: Uint8Array }> =>
  [genesis, ...entries].map(e => ({ cid: e.cid, bytes: e.bytes }))

describe('lineage proofs', () => {
  it('a complete proof verifies and lists every hop with author, zone, type and time', () => {
    const { entries, result } = execution()
    const v = verifyProof({ root: result.cid, blocks: blocksOf(entries), genesis })
    expect(v.valid, v.message).toBe(true)
    expect(v.hops.map(h => [h.type, h.zone, h.trust])).toEqual([
      [
        'exec.request', 'a', 'trusted'
      ], ['exec.hop', 'b', 'trusted'], ['exec.hop', 'c', 'trusted'], ['exec.result', 'c', 'trusted']
    ])
    expect(v.hops.map(h => h.time)).toEqual([10, 12, 13, 14])
  })

  it('a single flipped byte in any block fails with the block named', () => {
    const { entries, result } = execution()
    for (let i = 0; i < entries.length; i++) {
      const blocks = blocksOf(entries)
      const victim = blocks[i + 1]!
      const bytes = Uint8Array.from(victim.bytes)
      const at = Math.floor(bytes.length / 2)
      bytes[at] = bytes[at]! ^ 1
      blocks[i + 1] = { cid: victim.cid, bytes }
      const v = verifyProof({ root: result.cid, blocks, genesis })
      expect(v.valid).toBe(false)
      expect(v.reason).toBe('proof.cid-mismatch')
      expect(v.message).toContain(victim.cid.toString())
    }
  })

  it('a dropped block makes the proof incomplete', () => {
    const { entries, result } = execution()
    const v = verifyProof({ root: result.cid, blocks: blocksOf(entries.filter((_, i) => i !== 1)), genesis })
    expect(v.valid).toBe(false)
    expect(v.reason).toBe('proof.incomplete')
  })

  it('a swapped signature (with the CID recomputed) is a bad signature', () => {
    const { entries, result } = execution()
    const swapped = encodeEntry({ ...result.entry, sig: entries[0]!.entry.sig })
    const cid = cidOfBytes(swapped)
    const v = verifyProof({ root: cid, blocks: [...blocksOf(entries.slice(0, -1)), { cid, bytes: swapped }], genesis })
    expect(v.valid).toBe(false)
    expect(v.reason).toBe('entry.bad-signature')
  })

  it('an entry from a non-member fails with its reason', () => {
    const { entries, dag } = execution()
    const forged = nextEntry(
      dag, outsider,
      {
        type: 'exec.result',
        body: { request: entries[0]!.cid, ok: true, executor: 'echo', output: null, durationMs: 1 }, time: 20
      }
    )
    const v = verifyProof(
      { root: forged.cid, blocks: [...blocksOf(entries), { cid: forged.cid, bytes: forged.bytes }], genesis }
    )
    expect(v.valid).toBe(false)
    expect(v.reason).toBe('entry.not-member')
  })

  it('a hop authored by a peer quarantined in its causal past makes the proof invalid', () => {
    const { entries, result } = execution({ reportB: true })
    const v = verifyProof({ root: result.cid, blocks: blocksOf(entries), genesis })
    expect(v.valid).toBe(false)
    expect(v.reason).toBe('proof.untrusted-hop')
    expect(v.hops.find(h => h.zone === 'b')!.trust).toBe('quarantined')
  })

  it('a proof for another genesis is refused', () => {
    const { entries, result } = execution()
    const other = createGenesis({ governors: [gov.publicKey], members: [], time: 2 }, gov)
    const v = verifyProof({ root: result.cid, blocks: blocksOf(entries), genesis: other })
    expect(v.valid).toBe(false)
    expect(v.reason).toBe('proof.genesis')
  })

})
