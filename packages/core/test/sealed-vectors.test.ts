/** The sealed-entry vectors (docs/PROTOCOL.md §24, vectors/sealed.json), checked independently of the sealing code. */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  createDag, decodeEntry, encodeCanonical, fromHex, nobleCrypto, toHex, type CryptoProvider
} from '../src/index.js'
import { nodeCrypto } from '../src/node-crypto.js'

interface Sealed {
  meshId: string, root: string, count: number, sealSigningBytes: string, sig: string
  entries: Array<{ seq: number, index: number, leaf: string, path: string[], cid: string, bytes: string }>
}
const sealed = JSON.parse(readFileSync(new URL('./vectors/sealed.json', import.meta.url), 'utf8')) as Sealed
const { entries } = JSON.parse(readFileSync(new URL('./vectors/entries.json', import.meta.url), 'utf8')) as {
  entries: Array<{ name: string, bytes: string }>
}
const genesisBytes = fromHex(entries.find(e => e.name === 'genesis')!.bytes)

/** SHA-256(0x01 || l || r), written out here rather than taken from the implementation. */
function interior (crypto: CryptoProvider, l: Uint8Array, r: Uint8Array): Uint8Array {
  return crypto.sha256(Uint8Array.from([0x01, ...l, ...r]))
}

describe('sealed-entry vectors', () => {
  for (const crypto of [nobleCrypto, nodeCrypto]) {
    it(`leaves, tree, batch signature and CIDs are as specified (${crypto.name})`, () => {
      expect(sealed.count).toBe(3)
      const leaves = sealed.entries.map(v => {
        const e = decodeEntry(fromHex(v.bytes), { crypto }).entry
        expect(e.v).toBe(2)
        expect(toHex(e.sig)).toBe(sealed.sig)
        // The leaf: 0x00 then the nine unsigned fields, prev null past index 0.
        const unsigned = encodeCanonical({
          v: e.v, mesh: e.mesh, author: e.author, seq: e.seq, prev: v.index === 0 ? e.prev : null,
          parents: e.parents, type: e.type, body: e.body, time: e.time
        })
        const leaf = crypto.sha256(Uint8Array.from([0x00, ...unsigned]))
        expect(toHex(leaf)).toBe(v.leaf)
        expect(e.seal!.path.map(toHex)).toEqual(v.path)
        expect(toHex(crypto.sha256(fromHex(v.bytes)))).toBe(toHex(decodeEntry(fromHex(v.bytes)).cid.multihash.digest))
        return leaf
      })
      // Three leaves: root = node(node(l0, l1), l2).
      const root = interior(crypto, interior(crypto, leaves[0]!, leaves[1]!), leaves[2]!)
      expect(toHex(root)).toBe(sealed.root)
      expect(sealed.entries[2]!.path).toEqual([toHex(interior(crypto, leaves[0]!, leaves[1]!))])
      expect(sealed.entries[0]!.path).toEqual([toHex(leaves[1]!), toHex(leaves[2]!)])
      const signing = fromHex(sealed.sealSigningBytes)
      expect(new TextDecoder().decode(signing.subarray(0, 15))).toBe('govmesh/seal/v2')
      expect(signing[15]).toBe(0)
      const author = decodeEntry(fromHex(sealed.entries[0]!.bytes)).entry.author
      expect(crypto.verify(fromHex(sealed.sig), signing, author)).toBe(true)
    })
  }

  it('a verifier holding only the genesis accepts the batch in order, and the CIDs match', () => {
    const dag = createDag({ genesis: genesisBytes })
    expect(dag.meshIdString).toBe(sealed.meshId)
    for (const v of sealed.entries) {
      const r = dag.add(fromHex(v.bytes))
      expect(r.status).toBe('accepted')
      expect(r.id).toBe(v.cid)
    }
  })
})
