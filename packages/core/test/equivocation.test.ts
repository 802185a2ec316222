/**
 * Equivocation: two different signed entries by one author at one seq. The DAG keeps
 * both, reports canonical evidence, and cuts the author at its last honest seq;
 * the evidence verifies offline with either crypto provider, and forgeries fail.
 */
import { describe, expect, it } from 'vitest'
import {
  createEntry, encodeEntry, equivocationEvidence, nobleCrypto, verifyEquivocationEvidence,
  type EquivocationEvidence, type SignedEntry
} from '../src/index.js'
import {
  buildMesh, cborMap, cborPair, execBody, expectThrows, failBody, hex, nodeCrypto, syncInto, type Mesh
} from './helpers.js'

interface Scene {
  mesh: Mesh
  dag: ReturnType<Mesh['dag']>
  a1: SignedEntry
  a1x: SignedEntry
  b1: SignedEntry
  ev: EquivocationEvidence
}

/** Member 0 signs two different seq-1 entries; the main replica sees both. */
function scene (): Scene {
  const mesh = buildMesh({ label: 'eq', members: 3 })
  const dag = mesh.dag()
  const a = mesh.author(mesh.members[0]!, dag)
  const b = mesh.author(mesh.members[1]!, dag)
  const a1 = a.exec(1)
  const b1 = b.exec(1)
  // The same key, on a replica that knows nothing: another seq 1.
  const a1x = mesh.author(mesh.members[0]!, mesh.dag()).next('exec.request', execBody(99))
  expect(a1x.entry.seq).toBe(1)
  expect(a1x.id).not.toBe(a1.id)
  const r = dag.add(a1x.bytes)
  expect(r.status).toBe('accepted')
  expect(r.equivocations).toHaveLength(1)
  return { mesh, dag, a1, a1x, b1, ev: r.equivocations[0]! }
}

describe('detection', () => {
  it('Dag.add reports canonical evidence holding both entries, and keeps both', () => {
    const { mesh, dag, a1, a1x, ev } = scene()
    expect([ev.a, ev.b]).toEqual(expect.arrayContaining([a1.bytes, a1x.bytes]))
    expect(ev).toEqual(equivocationEvidence(a1x.bytes, a1.bytes))
    expect(ev).toEqual(equivocationEvidence(a1.bytes, a1x.bytes))
    expect(dag.equivocations()).toEqual([ev])
    expect(dag.has(a1.id) && dag.has(a1x.id)).toBe(true)
    // The opposite arrival order on another replica gives byte-identical evidence.
    const other = mesh.dag()
    expect(other.add(a1x.bytes).equivocations).toEqual([])
    expect(other.add(a1.bytes).equivocations).toEqual([ev])
  })

  it('an equivocating entry released from the pending area is reported by the releasing call', () => {
    const { mesh, a1, b1 } = scene()
    // a1y cites b1, which the replica does not have yet.
    const a1y = createEntry(
      { mesh: mesh.meshId, seq: 1, prev: null, parents: [b1.cid], type: 'exec.request', body: execBody(7), time: 5 },
      mesh.members[0]!
    )
    const fresh = mesh.dag()
    fresh.add(a1.bytes)
    expect(fresh.add(a1y.bytes).status).toBe('pending')
    const r = fresh.add(b1.bytes)
    expect(r.accepted.map(s => s.id)).toEqual([b1.id, a1y.id])
    expect(r.equivocations).toEqual([equivocationEvidence(a1.bytes, a1y.bytes)])
  })

  it('the same entry offered twice is a duplicate, not an equivocation', () => {
    const { dag, a1 } = scene()
    const r = dag.add(a1.bytes)
    expect(r.status).toBe('duplicate')
    expect(r.equivocations).toEqual([])
    expect(dag.equivocations()).toHaveLength(1)
  })
})

describe('verification', () => {
  for (const crypto of [nobleCrypto, nodeCrypto]) {
    it(`verifyEquivocationEvidence proves author and seq (${crypto.name})`, () => {
      const { mesh, a1, a1x, ev } = scene()
      const proof = verifyEquivocationEvidence(ev, crypto)
      expect(proof.author).toBe(hex(mesh.members[0]!.publicKey))
      expect(proof.seq).toBe(1)
      expect(proof.mesh!.equals(mesh.meshId)).toBe(true)
      expect([...proof.cids].sort()).toEqual([a1.id, a1x.id].sort())
      // Order of a and b does not matter to the verifier.
      expect(verifyEquivocationEvidence({ a: ev.b, b: ev.a }, crypto).author).toBe(proof.author)
    })
  }

  it('forged evidence is InvalidEvidenceError naming what is wrong', () => {
    const { mesh, dag, a1, a1x, b1 } = scene()
    const bad = (ev: unknown, msg: RegExp): void => {
      for (const crypto of [nobleCrypto, nodeCrypto]) {
        expectThrows(
          () => verifyEquivocationEvidence(ev as EquivocationEvidence, crypto), 'InvalidEvidenceError',
          'evidence.invalid', msg
        )
      }
    }
    bad({ a: a1.bytes, b: a1.bytes }, /same entry/)
    bad({ a: a1.bytes, b: b1.bytes }, /different authors/)
    const a2 = mesh.author(
      mesh.members[0]!, (() => { const d = mesh.dag(); d.add(a1.bytes); return d })()
    ).next('exec.request', execBody(2))
    bad({ a: a1.bytes, b: a2.bytes }, /different seq/)
    const sig = a1x.entry.sig.slice()
    sig[10]! ^= 0x80
    bad({ a: a1.bytes, b: encodeEntry({ ...a1x.entry, sig }) }, /evidence\.b: entry\.bad-signature/)
    bad({ a: encodeEntry({ ...a1x.entry, sig }), b: a1.bytes }, /evidence\.a: entry\.bad-signature/)
    // A second "entry" signed by someone else in the victim's name.
    const framed = createEntry(
      {
        mesh: mesh.meshId, seq: 1, prev: null, parents: [mesh.meshId], type: 'exec.request', body: execBody(5), time: 1
      },
      mesh.members[2]!
    )
    bad({ a: a1.bytes, b: encodeEntry({ ...framed.entry, author: a1.entry.author }) }, /bad-signature/)
    // The same entry, re-encoded non-canonically, is not a second entry.
    const fields = a1.entry as unknown as Record<string, unknown>
    const reordered = cborMap(
      Object.keys(fields).sort((x, y) => y.length - x.length || (x < y ? 1 : -1)).map(k => cborPair(k, fields[k]))
    )
    bad({ a: a1.bytes, b: reordered }, /entry\.non-canonical/)
    // Entries by the same key in two different meshes.
    const elsewhere = buildMesh({ label: 'eq', name: 'elsewhere', members: 3 })
    expect(elsewhere.members[0]!.publicKey).toEqual(mesh.members[0]!.publicKey)
    const e2 = elsewhere.author(elsewhere.members[0]!, elsewhere.dag()).next('exec.request', execBody(1))
    bad({ a: a1.bytes, b: e2.bytes }, /different meshes/)
    // Not evidence at all.
    bad(null, /expected/)
    bad({ a: 'x', b: a1.bytes }, /expected/)
    bad({ a: a1.bytes, b: Uint8Array.from([1, 2, 3]) }, /evidence\.b: entry\.malformed/)
    // None of the forgeries above changed what the DAG knows.
    expect(dag.equivocations()).toHaveLength(1)
  })
})

describe('consequences', () => {
  it('the equivocator is cut at its last honest seq: later entries are CutExceededError, both conflicting entries revoked', () => {
    const { mesh, dag, a1, a1x, b1 } = scene()
    const author = hex(mesh.members[0]!.publicKey)
    expect(dag.cuts().get(author)).toBe(0)
    expect(dag.isRevoked(a1.id)).toBe(true)
    expect(dag.isRevoked(a1x.id)).toBe(true)
    expect(dag.isRevoked(b1.id)).toBe(false)
    expect(dag.isRevoked(mesh.meshId.toString())).toBe(false)
    // Built on either branch, the next entry is past the cut.
    const onA = mesh.author(mesh.members[0]!, dag).next('exec.request', execBody(2))
    expect(onA.entry.seq).toBe(2)
    expectThrows(() => dag.add(onA.bytes), 'CutExceededError', 'entry.cut-exceeded', /cut at seq 0/)
    // Other members are unaffected.
    expect(mesh.author(mesh.members[1]!, dag).exec(2).entry.seq).toBe(2)
  })

  it('an equivocation at seq 3 keeps seq 1 and 2 valid', () => {
    const mesh = buildMesh({ label: 'eq3', members: 2 })
    const dag = mesh.dag()
    const a = mesh.author(mesh.members[0]!, dag)
    const a1 = a.exec(1)
    const a2 = a.exec(2)
    const fork = mesh.dag()
    syncInto(fork, dag)
    const a3 = a.exec(3)
    const a3x = mesh.author(mesh.members[0]!, fork).next('exec.request', execBody(33))
    expect(a3x.entry.seq).toBe(3)
    const r = dag.add(a3x.bytes)
    expect(r.equivocations).toHaveLength(1)
    expect(verifyEquivocationEvidence(r.equivocations[0]!).seq).toBe(3)
    expect(dag.cuts().get(a.hex)).toBe(2)
    expect([a1, a2, a3, a3x].map(e => dag.isRevoked(e.id))).toEqual([false, false, true, true])
    expectThrows(() => dag.add(a.next('exec.request', execBody(4)).bytes), 'CutExceededError', 'entry.cut-exceeded')
  })

  it('a third fork at the cut is refused, and a later removal never raises the cut', () => {
    const { mesh, dag } = scene()
    const author = hex(mesh.members[0]!.publicKey)
    const third = mesh.author(mesh.members[0]!, mesh.dag()).next('exec.request', execBody(1234))
    expectThrows(() => dag.add(third.bytes), 'CutExceededError', 'entry.cut-exceeded')
    expect(dag.equivocations()).toHaveLength(1)
    mesh.author(mesh.governors[0]!, dag).write(
      'member.remove', { member: mesh.members[0]!.publicKey, cut: 5, reason: 'equivocated' }
    )
    expect(dag.cuts().get(author)).toBe(0)
  })

  it('the evidence can be carried in a trust.fail and still verifies from the stored entry', () => {
    const { mesh, dag, ev } = scene()
    const reporter = mesh.author(mesh.members[2]!, dag)
    const f = reporter.write(
      'trust.fail',
      { ...failBody(mesh.members[0]!, 'equivocation'), detector: 'equivocation', evidence: { a: ev.a, b: ev.b } }
    )
    const stored = dag.getEntry(f.id)!.entry.body as unknown as { evidence: { a: Uint8Array, b: Uint8Array } }
    expect(verifyEquivocationEvidence(stored.evidence, nodeCrypto).author).toBe(hex(mesh.members[0]!.publicKey))
  })
})
