/**
 * Sealed execution records (protocol v2, docs/PROTOCOL.md §24): a batch shares one batch
 * signature through a Merkle root; every entry carries its own path, so each one verifies
 * alone, offline, and fails on any flipped byte.
 */
import { describe, expect, it } from 'vitest'
import {
  createDag, createEntry, createGenesis, decodeEntry, encodeEntry, execRequestBody,
  foldPath, keyPairFromSecret, merklePath, merkleRoot, merkleTree, nextEntry, nextSealedEntries, nobleCrypto,
  pathLength, sealEntries, sealLeaf, sealLeafOfBytes, verifyEquivocationEvidence, verifyProof,
  type Dag, type KeyPair, type SealedRecord, type SignedEntry
} from '../src/index.js'
import { nodeCrypto } from '../src/node-crypto.js'
import { expectThrows } from './helpers.js'

const key = (n: number): KeyPair => keyPairFromSecret(new Uint8Array(32).fill(n))
const gov = key(1)
const [a, b, c] = [key(2), key(3), key(4)]
const genesis = createGenesis({
  governors: [gov.publicKey],
  members: [{ key: a.publicKey, zone: 'a' }, { key: b.publicKey, zone: 'b' }, { key: c.publicKey, zone: 'c' }],
  time: 1
}, gov)

const request = (n: number): SealedRecord<'exec.request'> => ({
  type: 'exec.request', time: 10 + n,
  body: execRequestBody({ action: 'echo', resource: `r/${n}`, target: 'zone:c', nonce: `n${n}`, payload: { n } })
})

/**
 * request (a, index 1 of a batch of 3) → hop (b, index 0 of 2) → result (c, index 2 of 4),
 * each citing the previous step, batch-mates carrying other executions.
 */
function sealedExecution (): { dag: Dag, written: SignedEntry[], result: SignedEntry, request: SignedEntry } {
  const dag = createDag({ genesis })
  const written: SignedEntry[] = []
  const seal = (keys: KeyPair, records: SealedRecord[]): SignedEntry[] => {
    const batch = nextSealedEntries(dag, keys, records, nodeCrypto)
    for (const e of batch) {
      expect(dag.add(e.bytes).status).toBe('accepted')
      written.push(e)
    }
    return batch
  }
  const req = seal(a, [request(0), request(1), request(2)])[1]!
  const hop = seal(b, [
    {
      type: 'exec.hop', time: 20, parents: [req.cid],
      body: { request: req.cid, hop: 1, from: 'a', zone: 'b', next: 'c' }
    },
    { type: 'exec.request', time: 21, body: request(7).body }
  ])[0]!
  const result = seal(c, [
    request(8), request(9),
    {
      type: 'exec.result', time: 30, parents: [hop.cid],
      body: { request: req.cid, ok: true, executor: 'echo', output: { n: 1 }, durationMs: 1 }
    },
    request(10)
  ])[2]!
  return { dag, written, result, request: req }
}

function proofBlocks (dag: Dag, root: string): Array<{ cid: SignedEntry['cid'], bytes: Uint8Array }> {
  return dag.ancestry(root).map(id => ({ cid: dag.meta(id)!.cid, bytes: dag.getBytes(id)! }))
}

describe('Merkle tree (RFC 6962 shape)', () => {
  // The count is not bound by the fold alone (it is signed in the batch header, §24.3).
  it('every leaf of every tree up to 40 leaves folds back to the root, with the path length the shape fixes', () => {
    for (let n = 1; n <= 40; n++) {
      const leaves = Array.from({ length: n }, (_, i) => nobleCrypto.sha256(Uint8Array.of(n, i)))
      const root = merkleRoot(leaves, nobleCrypto.sha256)
      const tree = merkleTree(leaves, nobleCrypto.sha256)
      expect(tree.root).toEqual(root)
      for (let i = 0; i < n; i++) {
        const path = merklePath(leaves, i, nobleCrypto.sha256)
        expect(path.length).toBe(pathLength(i, n))
        expect(foldPath(leaves[i]!, i, n, path, nobleCrypto.sha256)).toEqual(root)
        expect(tree.paths[i]).toEqual(path)
        // Another index, a shorter or longer path, or another count never folds to the root.
        if (n > 1) expect(foldPath(leaves[i]!, (i + 1) % n, n, path, nobleCrypto.sha256)).not.toEqual(root)
        expect(foldPath(leaves[i]!, i, n, [...path, root], nobleCrypto.sha256)).toBeUndefined()
      }
    }
  })

  it('a tree of one leaf is the leaf; an empty tree is refused', () => {
    const leaf = nobleCrypto.sha256(Uint8Array.of(1))
    expect(merkleRoot([leaf], nobleCrypto.sha256)).toEqual(leaf)
    expect(() => merkleRoot([], nobleCrypto.sha256)).toThrow(RangeError)
  })
})

describe('sealed entries', () => {
  it('one signature for the batch: every entry carries it, decodes and verifies alone, with both providers', () => {
    const dag = createDag({ genesis })
    const batch = nextSealedEntries(dag, a, [request(0), request(1), request(2)], nodeCrypto)
    expect(new Set(batch.map(e => Buffer.from(e.entry.sig).toString('hex'))).size).toBe(1)
    batch.forEach((e, i) => {
      expect(e.entry.v).toBe(2)
      expect(e.entry.seq).toBe(i + 1)
      expect(e.entry.prev === null ? null : e.entry.prev.toString()).toBe(i === 0 ? null : batch[i - 1]!.id)
      expect(e.entry.seal).toMatchObject({ count: 3, index: i })
      for (const crypto of [nobleCrypto, nodeCrypto]) expect(decodeEntry(e.bytes, { crypto }).id).toBe(e.id)
    })
    // Sealing is deterministic (Ed25519 signatures are): noble and node:crypto give the same bytes.
    const again = nextSealedEntries(dag, a, [request(0), request(1), request(2)], nobleCrypto)
    expect(again.map(e => e.id)).toEqual(batch.map(e => e.id))
  })

  it('the leaf cut out of the canonical bytes equals the leaf encoded from the fields; sealed bytes are canonical', () => {
    const dag = createDag({ genesis })
    let cut = 0
    // Seqs past 23 and 255 change the width of the seq field; payloads of every size, prev null and not.
    for (let round = 0; round < 100; round++) {
      const records = Array.from({ length: 1 + (round % 5) }, (_, i) => request(round * 10 + i))
      for (const e of nextSealedEntries(dag, a, records, nodeCrypto)) {
        dag.add(e, { verified: true })
        const fromBytes = sealLeafOfBytes(e.bytes, { ...e.entry, seal: e.entry.seal! }, nodeCrypto)
        expect(fromBytes).toEqual(sealLeaf(e.entry, e.entry.seal!.index, nodeCrypto))
        // The bytes sealing patched in place are exactly the canonical encoding of the entry.
        expect(e.bytes).toEqual(encodeEntry(e.entry))
        cut++
      }
    }
    expect(dag.latest(Buffer.from(a.publicKey).toString('hex'))!.seq).toBeGreaterThan(256)
    expect(cut).toBeGreaterThan(200)
  })

  it('the DAG accepts a batch in any order once the batch-mates arrive', () => {
    const dag = createDag({ genesis })
    const batch = nextSealedEntries(dag, a, [request(0), request(1), request(2), request(3)], nodeCrypto)
    const replica = createDag({ genesis })
    expect(replica.add(batch[3]!.bytes).status).toBe('pending')
    expect(replica.add(batch[1]!.bytes).status).toBe('pending')
    expect(replica.add(batch[2]!.bytes).status).toBe('pending')
    const r = replica.add(batch[0]!.bytes)
    expect(r.accepted.map(e => e.id)).toEqual(batch.map(e => e.id))
    expect(replica.frontier()[Buffer.from(a.publicKey).toString('hex')]).toBe(4)
  })

  it('any flipped byte of any sealed entry is refused at stage 1, or by the DAG (never accepted)', () => {
    const { dag, written } = sealedExecution()
    let stage1 = 0
    let stage2 = 0
    for (const target of written) {
      const before = createDag({ genesis })
      for (const id of dag.ids()) {
        if (id === target.id) break
        before.add(dag.getBytes(id)!, { verified: true })
      }
      for (let i = 0; i < target.bytes.length; i++) {
        const bytes = Uint8Array.from(target.bytes)
        bytes[i]! ^= 0x01
        try {
          decodeEntry(bytes, { crypto: nodeCrypto })
        } catch {
          stage1++
          continue
        }
        // Only `prev` of an entry past index 0 is outside its leaf; the DAG pins it to the batch-mate.
        let status: string
        try { status = before.add(bytes).status } catch { status = 'rejected' }
        expect(status, `byte ${i} of ${target.id}`).not.toBe('accepted')
        expect(status, `byte ${i} of ${target.id}`).not.toBe('duplicate')
        stage2++
      }
    }
    expect(stage1).toBeGreaterThan(2000)
    expect(stage2).toBeGreaterThan(0)
  })

  it('a proof of a sealed execution verifies offline, and fails on any flipped byte of any block', () => {
    const { dag, result, request: req } = sealedExecution()
    const blocks = proofBlocks(dag, result.id)
    const verdict = verifyProof({ root: result.cid, blocks, genesis })
    expect(verdict.valid, verdict.message).toBe(true)
    expect(verdict.hops.map(h => h.type)).toEqual(['exec.request', 'exec.hop', 'exec.result'])
    expect(verdict.hops[0]!.cid).toBe(req.id)
    // Only the ancestry: the batch-mates after each record are not needed (their paths stand for them).
    expect(blocks.length).toBe(dag.ancestry(result.id).length)
    expect(blocks.some(x => x.cid.equals(dag.ids().at(-1)))).toBe(false)
    for (const [k, block] of blocks.entries()) {
      for (const i of [0, 5, Math.floor(block.bytes.length / 2), block.bytes.length - 40, block.bytes.length - 1]) {
        const bytes = Uint8Array.from(block.bytes)
        bytes[i]! ^= 0x80
        const tampered = blocks.map((x, j) => j === k ? { cid: x.cid, bytes } : x)
        expect(verifyProof({ root: result.cid, blocks: tampered, genesis }).valid).toBe(false)
      }
    }
  })

  it('refuses a wrong root, a wrong signature, a wrong path length and a sealed governance type', () => {
    const dag = createDag({ genesis })
    const [e] = nextSealedEntries(dag, a, [request(0), request(1)], nodeCrypto) as [SignedEntry]
    const seal = e.entry.seal!
    const reencode = (patch: object): Uint8Array => encodeEntry({ ...e.entry, ...patch })
    const bad = (patch: object, name: string, code: string, message?: RegExp): void => {
      expectThrows(() => decodeEntry(reencode(patch), { crypto: nodeCrypto }), name, code, message)
    }
    bad({ seal: { ...seal, root: new Uint8Array(32) } }, 'BadSealError', 'entry.bad-seal')
    bad({ seal: { ...seal, path: [new Uint8Array(32)] } }, 'BadSealError', 'entry.bad-seal')
    bad({ sig: new Uint8Array(64).fill(7) }, 'BadSignatureError', 'entry.bad-signature')
    bad({ seal: { ...seal, path: [] } }, 'MalformedEntryError', 'entry.malformed', /seal.path/)
    bad({ seal: { ...seal, index: 2 } }, 'MalformedEntryError', 'entry.malformed', /seal.index/)
    bad({ seal: { ...seal, extra: 1 } }, 'MalformedEntryError', 'entry.malformed', /unknown field/)
    bad({ v: 1 }, 'MalformedEntryError', 'entry.malformed', /only in version 2/)
    bad({ v: 3 }, 'MalformedEntryError', 'entry.malformed', /v: expected/)
    bad({ seal: undefined }, 'MalformedEntryError', 'entry.malformed', /seal: expected a map/)
    expect(() => sealEntries({ mesh: genesis.cid, seq: 1, prev: null }, [{
      type: 'trust.fail', time: 1, body: { subject: b.publicKey, reason: 'x', detector: 'manual', evidence: null }
    }], a)).toThrow(/cannot be sealed/)
  })

  it('pins prev past index 0 to the batch-mate: another entry at that seq is refused with entry.seal-chain', () => {
    const dag = createDag({ genesis })
    const batch = nextSealedEntries(dag, a, [request(0), request(1)], nodeCrypto)
    // An equivocating signed entry at seq 1 of the same author, and batch[1] re-pointed at it.
    const other = createEntry({
      mesh: genesis.cid, seq: 1, prev: null, parents: [], type: 'exec.request', body: request(5).body, time: 5
    }, a, nodeCrypto)
    const repointed = encodeEntry({ ...batch[1]!.entry, prev: other.cid })
    decodeEntry(repointed, { crypto: nodeCrypto }) // stage 1 holds: prev is outside the leaf
    const replica = createDag({ genesis })
    expect(replica.add(other.bytes).status).toBe('accepted')
    expectThrows(() => replica.add(repointed), 'SealChainError', 'entry.seal-chain')
  })

  it('equivocation evidence from two sealed entries at one seq verifies offline', () => {
    const dag = createDag({ genesis })
    const [x] = nextSealedEntries(dag, a, [request(0)], nodeCrypto)
    const [y] = nextSealedEntries(dag, a, [request(1), request(2)], nodeCrypto)
    const replica = createDag({ genesis })
    replica.add(x!.bytes)
    const r = replica.add(y!.bytes)
    expect(r.equivocations.length).toBe(1)
    expect(verifyEquivocationEvidence(r.equivocations[0]!).seq).toBe(1)
  })

  it('signed (v1) and sealed (v2) entries interleave in one author chain', () => {
    const dag = createDag({ genesis })
    const first = nextEntry(dag, a, { type: 'exec.request', body: request(0).body, time: 1 }, nodeCrypto)
    dag.add(first)
    const batch = nextSealedEntries(dag, a, [request(1), request(2)], nodeCrypto)
    for (const e of batch) expect(dag.add(e.bytes).status).toBe('accepted')
    const after = nextEntry(dag, a, { type: 'exec.request', body: request(3).body, time: 4 }, nodeCrypto)
    expect(dag.add(after).status).toBe('accepted')
    expect(batch[0]!.entry.prev?.toString()).toBe(first.id)
    expect(after.entry.prev?.toString()).toBe(batch[1]!.id)
  })
})
