import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { CID, verifyProof, type Dag, type ProofVerdict, type SignedEntry } from '../src/index.js'
import { nodeCrypto } from '../src/node-crypto.js'
import { buildMesh, failBody, restoreBody, syncInto, type Mesh } from './helpers.js'

type Block = { cid: CID, bytes: Uint8Array }

/** The root's whole ancestry (genesis included), as `govmesh dag export` writes it. */
function proofBlocks (dag: Dag, root: string): Block[] {
  return dag.ancestry(root).map(id => ({ cid: dag.meta(id)!.cid, bytes: dag.getBytes(id)! }))
}

function verifyBothOrders (mesh: Mesh, dag: Dag, root: SignedEntry): [ProofVerdict, ProofVerdict] {
  const blocks = proofBlocks(dag, root.id)
  const forward = verifyProof({ root: root.cid, blocks, genesis: mesh.genesis, crypto: nodeCrypto })
  const backward = verifyProof(
    { root: root.cid, blocks: [...blocks].reverse(), genesis: mesh.genesis, crypto: nodeCrypto }
  )
  return [forward, backward]
}

/** One replica holding an entry of every type; governor 0 is not a member (as in every real mesh). */
function everyType (): { mesh: Mesh, dag: Dag, roots: Record<string, SignedEntry> } {
  const mesh = buildMesh({ label: 'proof-types', members: 3, zones: ['a', 'b', 'c'] })
  const dag = mesh.dag()
  const gov = mesh.author(mesh.governors[0]!, dag)
  const [a, b, c] = mesh.members.map(k => mesh.author(k, dag)) as [
    ReturnType<Mesh['author']>, ReturnType<Mesh['author']>, ReturnType<Mesh['author']>
  ]
  const doc = new Y.Doc()
  doc.getMap('rules').set('r1', { effect: 'allow', principals: ['*'], actions: ['echo'] })
  const roots: Record<string, SignedEntry> = { 'mesh.genesis': mesh.genesis }
  roots['policy.update'] = gov.write('policy.update', { update: Y.encodeStateAsUpdate(doc) })
  const newcomer = mesh.outsider(0)
  roots['member.admit'] = gov.write('member.admit', { member: newcomer.publicKey, zone: 'c' })
  const fail = a.write('trust.fail', failBody(b.keys, 'tampered'))
  roots['trust.fail'] = fail
  roots['trust.restore'] = gov.write('trust.restore', restoreBody(mesh, b.keys, [fail], mesh.governors), [fail.cid])
  const request = a.exec(1)
  roots['exec.request'] = request
  const hop = b.write('exec.hop', { request: request.cid, hop: 1, from: 'a', zone: 'b', next: null }, [request.cid])
  roots['exec.hop'] = hop
  roots['exec.result'] = b.write('exec.result',
    { request: request.cid, ok: true, executor: 'echo', output: { hi: 1 }, durationMs: 1 }, [hop.cid])
  const other = a.exec(2)
  roots['exec.refuse'] = c.write('exec.refuse',
    { request: other.cid, hop: 1, reason: 'policy.denied', detail: 'no rule' }, [other.cid])
  roots['member.remove'] = gov.write(
    'member.remove', { member: c.keys.publicKey, cut: dag.latest(c.hex)!.seq, reason: 'x' }
  )
  return { mesh, dag, roots }
}

describe('proofs agree with the node for every entry type and any block order', () => {
  const { mesh, dag, roots } = everyType()
  for (const [type, root] of Object.entries(roots)) {
    it(`a proof of ${type} verifies in both block orders, with the same verdict`, () => {
      const [forward, backward] = verifyBothOrders(mesh, dag, root)
      expect(forward.valid, `${forward.reason ?? ''} ${forward.message ?? ''}`).toBe(true)
      expect(backward).toEqual(forward)
      expect(forward.hops.at(-1)?.cid).toBe(root.id)
    })
  }

  it('governance entries by a governor who is not a member name the governor', () => {
    const [v] = verifyBothOrders(mesh, dag, roots['policy.update']!)
    expect(v.hops.map(h => h.trust)).toEqual(['governor'])
  })

  it('the genesis may come from the genesis file alone', () => {
    const root = roots['exec.result']!
    const blocks = proofBlocks(dag, root.id).filter(b => b.cid.toString() !== mesh.genesis.id)
    const v = verifyProof({ root: root.cid, blocks, genesis: mesh.genesis, crypto: nodeCrypto })
    expect(v.valid, v.message).toBe(true)
  })

  it('--expect: the root must be the expected entry', () => {
    const root = roots['exec.result']!
    const blocks = proofBlocks(dag, root.id)
    expect(verifyProof({ root: root.cid, blocks, genesis: mesh.genesis, expect: root.cid }).valid).toBe(true)
    const v = verifyProof({ root: root.cid, blocks, genesis: mesh.genesis, expect: roots['exec.request']!.cid })
    expect(v.reason).toBe('proof.unexpected-root')
  })

})

describe('cuts judged offline do not depend on block order', () => {
  /** A member removed while it writes concurrently; an honest member saw its entry first and cites it. */
  function removalRace (): { mesh: Mesh, honest: Dag, late: SignedEntry, witness: SignedEntry } {
    const mesh = buildMesh({ label: 'proof-cut', members: 3 })
    const base = mesh.dag()
    const victim = mesh.author(mesh.members[2]!, base)
    victim.exec(1)
    const govDag = mesh.dag()
    syncInto(govDag, base)
    const removal = mesh.author(mesh.governors[0]!, govDag)
      .write('member.remove', { member: victim.keys.publicKey, cut: 1, reason: 'rotated out' })
    const late = victim.exec(2)
    const honest = mesh.dag()
    syncInto(honest, base)
    expect(honest.add(removal.bytes).status).toBe('accepted')
    const witness = mesh.author(mesh.members[0]!, honest).exec(3)
    expect(honest.ancestry(witness.id)).toContain(late.id)
    expect(honest.ancestry(witness.id)).toContain(removal.id)
    return { mesh, honest, late, witness }
  }

  it('an entry citing a revoked entry and the removal verifies alike in both orders', () => {
    const { mesh, honest, witness } = removalRace()
    const [forward, backward] = verifyBothOrders(mesh, honest, witness)
    expect(forward.valid, forward.message).toBe(true)
    expect(backward).toEqual(forward)
  })

  it('the revoked entry itself, with the removal beside it, is refused in both orders', () => {
    const { mesh, honest, late, witness } = removalRace()
    // Extra blocks are judged too: the removal next to the entry it revokes.
    const blocks = proofBlocks(honest, witness.id).filter(b => b.cid.toString() !== witness.id)
    for (const order of [blocks, [...blocks].reverse()]) {
      const v = verifyProof({ root: late.cid, blocks: order, genesis: mesh.genesis, crypto: nodeCrypto })
      expect(v.valid).toBe(false)
      expect(v.reason).toBe('entry.cut-exceeded')
    }
  })
})
