/**
 * Every way an entry is refused, each with its own typed error (class, name, code),
 * plus the pending area: out-of-order arrival, release in causal order, and the
 * fate of entries waiting on a parent that turns out invalid.
 */
import { describe, expect, it } from 'vitest'
import * as dagCbor from '@ipld/dag-cbor'
import {
  CID, MAX_ENTRY_BYTES, createDag, createEntry, createGenesis, decodeEntry, deriveTrust, encodeEntry,
  verifyEntrySignature, nobleCrypto, type Entry, type ExecRequestBody, type SignedEntry
} from '../src/index.js'
import {
  buildMesh, cborMap, cborPair, execBody, expectThrows, expectTyped, failBody, hex, nodeCrypto,
  policyBytes, replicate, restoreBody, seedKey, signRaw, syncInto, ALLOW_ALL, type Mesh
} from './helpers.js'

function setup (opts: Parameters<typeof buildMesh>[0] = {}): { mesh: Mesh, dag: ReturnType<Mesh['dag']> } {
  const mesh = buildMesh({ label: 'rej', governors: 2, members: 3, quorums: { fail: 1, restore: 2 }, ...opts })
  return { mesh, dag: mesh.dag() }
}

/** An entry of `keys` with explicit seq/prev/parents (createEntry, so shape-valid). */
function raw (
  mesh: Mesh, keys: { secretKey: Uint8Array, publicKey: Uint8Array }, seq: number, prev: CID | null, parents: CID[],
  body: ExecRequestBody = execBody()
): SignedEntry {
  return createEntry(
    { mesh: mesh.meshId, seq, prev, parents, type: 'exec.request', body, time: mesh.clock() }, keys, nodeCrypto
  )
}

function expectUnchanged (dag: ReturnType<Mesh['dag']>, size: number): void {
  expect(dag.size).toBe(size)
  expect(dag.pendingCount).toBe(0)
}

describe('signature', () => {
  for (const crypto of [nobleCrypto, nodeCrypto]) {
    it(`a flipped signature byte or a tampered field is BadSignatureError (${crypto.name})`, () => {
      const { mesh } = setup()
      const dag = mesh.dag(crypto)
      const a = mesh.author(mesh.members[0]!, dag)
      const e = a.next('exec.request', execBody())
      for (const i of [0, 31, 63]) {
        const sig = e.entry.sig.slice()
        sig[i]! ^= 0x01
        expectThrows(() => dag.add(encodeEntry({ ...e.entry, sig })), 'BadSignatureError', 'entry.bad-signature')
        // The decoded-object path checks the signature too.
        expectThrows(() => dag.add({ ...e, entry: { ...e.entry, sig } }), 'BadSignatureError', 'entry.bad-signature')
      }
      expectThrows(
        () => dag.add(encodeEntry({ ...e.entry, time: e.entry.time + 1 })), 'BadSignatureError', 'entry.bad-signature'
      )
      // Claiming another member's authorship with one's own signature.
      expectThrows(
        () => dag.add(encodeEntry({ ...e.entry, author: mesh.members[1]!.publicKey })), 'BadSignatureError',
        'entry.bad-signature'
      )
      expectUnchanged(dag, 1)
      // The untampered entry is still fine.
      expect(dag.add(e.bytes).status).toBe('accepted')
    })
  }

  it('verified: true skips the signature check (only for bytes the node stored itself)', () => {
    const { mesh, dag } = setup()
    const e = mesh.author(mesh.members[0]!, dag).next('exec.request', execBody())
    const sig = e.entry.sig.slice()
    sig[5]! ^= 0xff
    const forged = encodeEntry({ ...e.entry, sig })
    expectThrows(() => dag.add(forged), 'BadSignatureError', 'entry.bad-signature')
    expect(dag.add(forged, { verified: true }).status).toBe('accepted')
  })
})

describe('mesh and chain', () => {
  it('an entry of another mesh, or with mesh null, is WrongMeshError', () => {
    const { mesh, dag } = setup()
    // Same keys, another genesis (other name): another mesh id.
    const other = buildMesh(
      { label: 'rej', name: 'elsewhere', governors: 2, members: 3, quorums: { fail: 1, restore: 2 } }
    )
    expect(other.meshId.equals(mesh.meshId)).toBe(false)
    const foreign = other.author(other.members[0]!, other.dag()).next('exec.request', execBody())
    expectThrows(() => dag.add(foreign.bytes), 'WrongMeshError', 'entry.wrong-mesh', /belongs to mesh/)
    const nullMesh = createEntry(
      { mesh: null, seq: 1, prev: null, parents: [mesh.meshId], type: 'exec.request', body: execBody(), time: 1 },
      mesh.members[0]!
    )
    expectThrows(() => dag.add(nullMesh.bytes), 'WrongMeshError', 'entry.wrong-mesh')
    expectUnchanged(dag, 1)
  })

  it('a seq that does not follow prev is SeqGapError, whether prev is known at once or arrives later', () => {
    const { mesh, dag } = setup()
    const keys = mesh.members[0]!
    const a1 = mesh.author(keys, dag).exec(1)
    const a3 = raw(mesh, keys, 3, a1.cid, [mesh.meshId])
    expectThrows(() => dag.add(a3.bytes), 'SeqGapError', 'entry.seq-gap', /seq 3 does not follow prev seq 1/)
    // The right seq is fine; repeating prev's seq, or going back, is a gap too.
    const a2 = raw(mesh, keys, 2, a1.cid, [mesh.meshId])
    expect(dag.add(a2.bytes).status).toBe('accepted')
    expectThrows(
      () => dag.add(raw(mesh, keys, 2, a2.cid, [mesh.meshId]).bytes), 'SeqGapError', 'entry.seq-gap',
      /seq 2 does not follow prev seq 2/
    )

    // Discovered on release: the gap entry waits for prev, then is rejected.
    const fresh = mesh.dag()
    const gap = raw(mesh, keys, 5, a1.cid, [mesh.meshId])
    const r1 = fresh.add(gap.bytes)
    expect(r1.status).toBe('pending')
    expect(r1.missing).toEqual([a1.id])
    const r2 = fresh.add(a1.bytes)
    expect(r2.accepted.map(s => s.id)).toEqual([a1.id])
    expect(r2.rejected.map(r => r.id)).toEqual([gap.id])
    expectTyped(r2.rejected[0]!.error, 'SeqGapError', 'entry.seq-gap')
    expect(fresh.pendingCount).toBe(0)
    expect(fresh.has(gap.id)).toBe(false)
  })

  it('prev present at seq 1, absent at seq > 1, or naming another author is WrongPrevError', () => {
    const { mesh, dag } = setup()
    const [k0, k1] = [mesh.members[0]!, mesh.members[1]!]
    const b1 = mesh.author(k1, dag).exec(1)
    const a1 = mesh.author(k0, dag).exec(1)
    expectThrows(
      () => dag.add(raw(mesh, k0, 1, b1.cid, [mesh.meshId]).bytes), 'WrongPrevError', 'entry.wrong-prev',
      /seq 1 must have prev null/
    )
    expectThrows(
      () => dag.add(raw(mesh, k0, 2, null, [mesh.meshId]).bytes), 'WrongPrevError', 'entry.wrong-prev',
      /must name the author's entry/
    )
    // seq 2 after another author's seq 1: only the author differs, so this is not a gap.
    expectThrows(
      () => dag.add(raw(mesh, k0, 2, b1.cid, [mesh.meshId]).bytes), 'WrongPrevError', 'entry.wrong-prev',
      /another author/
    )
    expect(dag.size).toBe(3)
    expect(dag.latest(hex(k0.publicKey))!.id).toBe(a1.id)
  })

  it('citing one of your own entries as a parent (instead of prev) is MalformedEntryError', () => {
    const { mesh, dag } = setup()
    const k0 = mesh.members[0]!
    const a1 = mesh.author(k0, dag).exec(1)
    const a2 = mesh.author(k0, dag).exec(2)
    expectThrows(
      () => dag.add(raw(mesh, k0, 3, a2.cid, [a1.cid]).bytes), 'MalformedEntryError', 'entry.malformed', /other authors/
    )
  })
})

describe('authorization', () => {
  it('a non-member author is NotMemberError (outsiders and non-member governors alike)', () => {
    const { mesh, dag } = setup()
    const outsider = mesh.author(mesh.outsider(0), dag)
    expectThrows(() => dag.add(outsider.next('exec.request', execBody()).bytes), 'NotMemberError', 'entry.not-member')
    expectThrows(
      () => dag.add(outsider.next('trust.fail', failBody(mesh.members[0]!)).bytes), 'NotMemberError', 'entry.not-member'
    )
    // Governors are not members unless the genesis lists them.
    const gov = mesh.author(mesh.governors[0]!, dag)
    expectThrows(() => dag.add(gov.next('exec.request', execBody()).bytes), 'NotMemberError', 'entry.not-member')
    expectUnchanged(dag, 1)
  })

  it('governance types by a non-governor are NotGovernorError', () => {
    const { mesh, dag } = setup()
    const m0 = mesh.author(mesh.members[0]!, dag)
    const m1 = mesh.author(mesh.members[1]!, dag)
    expectThrows(
      () => dag.add(m0.next('policy.update', { update: policyBytes(ALLOW_ALL, 7) }).bytes), 'NotGovernorError',
      'entry.not-governor'
    )
    expectThrows(
      () => dag.add(m0.next('member.admit', { member: mesh.outsider(1).publicKey, zone: 'a' }).bytes),
      'NotGovernorError', 'entry.not-governor'
    )
    expectThrows(
      () => dag.add(m0.next('member.remove', { member: mesh.members[2]!.publicKey, cut: 0, reason: 'x' }).bytes),
      'NotGovernorError', 'entry.not-governor'
    )
    // Even a restore carrying a full governor quorum must be authored by a governor.
    const f = m1.fail(mesh.members[2]!)
    const body = restoreBody(mesh, mesh.members[2]!, [f], mesh.governors)
    expectThrows(() => dag.add(m0.next('trust.restore', body, [f.cid]).bytes), 'NotGovernorError', 'entry.not-governor')
    // The governor may.
    const g0 = mesh.author(mesh.governors[0]!, dag)
    expect(dag.add(g0.next('trust.restore', body, [f.cid]).bytes).status).toBe('accepted')
    expect(dag.add(g0.next('policy.update', { update: policyBytes(ALLOW_ALL, 7) }).bytes).status).toBe('accepted')
  })
})

describe('trust.restore', () => {
  it('fewer distinct governor approvals than the restore quorum is RestoreQuorumError', () => {
    const { mesh, dag } = setup()
    const [g0k, g1k] = mesh.governors as [typeof mesh.governors[0], typeof mesh.governors[0]]
    const subject = mesh.members[1]!
    const f = mesh.author(mesh.members[0]!, dag).fail(subject)
    const g0 = mesh.author(g0k, dag)
    const attempt = (approvers: typeof mesh.governors): SignedEntry =>
      g0.next('trust.restore', restoreBody(mesh, subject, [f], approvers), [f.cid])
    expectThrows(
      () => dag.add(attempt([g0k]).bytes), 'RestoreQuorumError', 'trust.restore-quorum',
      /1 governor approval\(s\); quorum is 2/
    )
    // The same governor twice counts once.
    expectThrows(() => dag.add(attempt([g0k, g0k]).bytes), 'RestoreQuorumError', 'trust.restore-quorum', /quorum is 2/)
    // An approval by a non-governor does not count at all.
    expectThrows(
      () => dag.add(attempt([g0k, mesh.outsider(3)]).bytes), 'RestoreQuorumError', 'trust.restore-quorum',
      /not a governor/
    )
    // An approval signed over other clears does not verify.
    const other = mesh.author(mesh.members[2]!, dag).fail(subject)
    const wrongStatement = restoreBody(mesh, subject, [other], [g1k]).approvals[0]!
    const body = restoreBody(mesh, subject, [f], [g0k])
    body.approvals.push(wrongStatement)
    expectThrows(
      () => dag.add(g0.next('trust.restore', body, [f.cid]).bytes), 'BadSignatureError', 'entry.bad-signature',
      /approval/
    )
    expect(
      deriveTrust(
        { fails: dag.entriesOfType('trust.fail'), restores: dag.entriesOfType('trust.restore'), failQuorum: 1 }
      ).quarantined.has(hex(subject.publicKey))
    ).toBe(true)
    // Both governors: accepted, and the failure is cleared.
    const ok = attempt([g1k, g0k])
    expect(dag.add(ok.bytes).status).toBe('accepted')
    const view = deriveTrust(
      { fails: dag.entriesOfType('trust.fail'), restores: dag.entriesOfType('trust.restore'), failQuorum: 1 }
    )
    expect(view.cleared.has(f.id)).toBe(true)
    // `other` was not named, so the subject stays quarantined by it alone.
    expect(view.quarantined.get(hex(subject.publicKey))!.failures.map(x => x.id)).toEqual([other.id])
  })

  it('clearing something that is not a trust.fail about the subject is UnknownFailureError', () => {
    const { mesh, dag } = setup()
    const [m0, m1, m2] = mesh.members as [typeof mesh.members[0], typeof mesh.members[0], typeof mesh.members[0]]
    const g0 = mesh.author(mesh.governors[0]!, dag)
    const ex = mesh.author(m0, dag).exec(1)
    const failAboutM2 = mesh.author(m0, dag).fail(m2)
    // An exec entry named as a failure.
    expectThrows(() => dag.add(g0.next('trust.restore', restoreBody(mesh, m1, [ex], mesh.governors), [ex.cid]).bytes),
      'UnknownFailureError', 'trust.unknown-failure')
    // The genesis named as a failure.
    expectThrows(() => dag.add(
      g0.next('trust.restore', restoreBody(mesh, m1, [mesh.genesis], mesh.governors), [mesh.meshId]).bytes
    ),
      'UnknownFailureError', 'trust.unknown-failure')
    // A real failure, but about another subject.
    expectThrows(() => dag.add(
      g0.next('trust.restore', restoreBody(mesh, m1, [failAboutM2], mesh.governors), [failAboutM2.cid]).bytes
    ),
      'UnknownFailureError', 'trust.unknown-failure', /not a trust.fail about this subject/)
    // The right subject is fine.
    expect(
      dag.add(
        g0.next('trust.restore', restoreBody(mesh, m2, [failAboutM2], mesh.governors), [failAboutM2.cid]).bytes
      ).status
    ).toBe('accepted')
  })

  it('a cleared failure that is not also a parent is MalformedEntryError', () => {
    const { mesh, dag } = setup()
    const f = mesh.author(mesh.members[0]!, dag).fail(mesh.members[1]!)
    // Another author cites the failure, so it is no longer a head nextEntry would cite.
    mesh.author(mesh.members[2]!, dag).exec(1)
    expect(dag.heads()).not.toContain(f.id)
    const g0 = mesh.author(mesh.governors[0]!, dag)
    const e = g0.next('trust.restore', restoreBody(mesh, mesh.members[1]!, [f], mesh.governors))
    expect(e.entry.parents.some(p => p.equals(f.cid))).toBe(false)
    expectThrows(() => dag.add(e.bytes), 'MalformedEntryError', 'entry.malformed', /must also be a parent/)
  })
})

describe('encoding', () => {
  it('an entry over the size limit is EntryTooLargeError; exactly the limit is accepted', () => {
    const { mesh, dag } = setup()
    const keys = mesh.members[0]!
    const at = (blobLen: number): SignedEntry => createEntry(
      {
        mesh: mesh.meshId, seq: 1, prev: null, parents: [mesh.meshId], type: 'exec.request',
        body: { ...execBody(), payload: { blob: new Uint8Array(blobLen) } }, time: 1
      },
      keys, nodeCrypto
    )
    expectThrows(
      () => at(MAX_ENTRY_BYTES), 'EntryTooLargeError', 'entry.too-large', new RegExp(`limit ${MAX_ENTRY_BYTES}`)
    )
    const probe = at(200_000)
    const exact = at(200_000 + MAX_ENTRY_BYTES - probe.bytes.length)
    expect(exact.bytes.length).toBe(MAX_ENTRY_BYTES)
    // One byte over, hand-encoded (createEntry refuses to build it).
    const over = encodeEntry(
      {
        ...exact.entry,
        body: { ...execBody(), payload: { blob: new Uint8Array(200_000 + MAX_ENTRY_BYTES - probe.bytes.length + 1) } }
      }
    )
    expect(over.length).toBe(MAX_ENTRY_BYTES + 1)
    expectThrows(() => dag.add(over), 'EntryTooLargeError', 'entry.too-large')
    expectThrows(
      () => decodeEntry(probe.bytes, { maxBytes: probe.bytes.length - 1 }), 'EntryTooLargeError', 'entry.too-large'
    )
    expect(decodeEntry(probe.bytes, { maxBytes: probe.bytes.length, crypto: nodeCrypto }).id).toBe(probe.id)
    expect(dag.add(exact.bytes).status).toBe('accepted')
  })

  describe('hand-crafted CBOR', () => {
    const { mesh } = setup()
    const keys = mesh.members[0]!
    const e = createEntry(
      {
        mesh: mesh.meshId, seq: 1, prev: null, parents: [mesh.meshId], type: 'exec.request',
        body: { ...execBody(), payload: { x: 1.5 } }, time: 1_700_000_000_123
      },
      keys
    )
    const fields = { ...e.entry } as unknown as Record<string, unknown>
    // dag-cbor map key order: shorter keys first, then bytewise.
    const canonicalOrder = Object.keys(fields).sort((a, b) => a.length - b.length || (a < b ? -1 : 1))
    const pairsIn = (order: string[], override: Record<string, Uint8Array> = {}): Uint8Array[] =>
      order.map(k => override[k] ?? cborPair(k, fields[k]))

    it('the hand-crafting reproduces the canonical bytes exactly (sanity)', () => {
      expect(cborMap(pairsIn(canonicalOrder))).toEqual(e.bytes)
      expect(decodeEntry(cborMap(pairsIn(canonicalOrder))).id).toBe(e.id)
    })

    it('unsorted map keys are NonCanonicalError, though the signature is valid', () => {
      const bytes = cborMap(pairsIn([...canonicalOrder].reverse()))
      const decoded = dagCbor.decode<Entry>(bytes)
      expect(verifyEntrySignature(decoded)).toBe(true)
      expectThrows(() => decodeEntry(bytes), 'NonCanonicalError', 'entry.non-canonical')
      expectThrows(() => mesh.dag().add(bytes), 'NonCanonicalError', 'entry.non-canonical')
    })

    it('a half-precision float in the body is NonCanonicalError (dag-cbor floats are 64-bit)', () => {
      // The payload's 1.5 is a float64 (fb 3ff8000000000000); write it as a half float (f9 3e00).
      const hexBytes = Buffer.from(e.bytes).toString('hex')
      expect(hexBytes).toContain('fb3ff8000000000000')
      const bytes = Uint8Array.from(Buffer.from(hexBytes.replace('fb3ff8000000000000', 'f93e00'), 'hex'))
      expect((dagCbor.decode<Entry>(bytes)).body).toEqual(e.entry.body)
      expect(verifyEntrySignature(dagCbor.decode<Entry>(bytes))).toBe(true)
      expectThrows(() => mesh.dag().add(bytes), 'NonCanonicalError', 'entry.non-canonical')
    })

    it('an integer time written as a float64 is NonCanonicalError', () => {
      const f64 = new Uint8Array(9)
      f64[0] = 0xfb
      new DataView(f64.buffer).setFloat64(1, e.entry.time)
      const timePair = Uint8Array.from([0x64, ...new TextEncoder().encode('time'), ...f64])
      const bytes = cborMap(pairsIn(canonicalOrder, { time: timePair }))
      expect((dagCbor.decode<Entry>(bytes)).time).toBe(e.entry.time)
      expectThrows(() => mesh.dag().add(bytes), 'NonCanonicalError', 'entry.non-canonical')
    })

    it('a non-minimal integer is NonCanonicalError', () => {
      // v: 1 written as 0x18 0x01 instead of 0x01.
      const bytes = cborMap(pairsIn(canonicalOrder, { v: Uint8Array.from([0x61, 0x76, 0x18, 0x01]) }))
      expect(bytes.length).toBe(e.bytes.length + 1)
      expectThrows(() => mesh.dag().add(bytes), 'NonCanonicalError', 'entry.non-canonical', /shortest form/)
    })

    it('a duplicated map key is MalformedEntryError', () => {
      const bytes = cborMap([cborPair('v', 1), ...pairsIn(canonicalOrder)])
      expectThrows(() => mesh.dag().add(bytes), 'MalformedEntryError', 'entry.malformed')
    })

    it('bytes that are not a map are MalformedEntryError', () => {
      expectThrows(() => mesh.dag().add(dagCbor.encode([1, 2])), 'MalformedEntryError', 'entry.malformed', /not a map/)
      expectThrows(() => mesh.dag().add(Uint8Array.from([0xff])), 'MalformedEntryError', 'entry.malformed')
    })
  })

  it('an unknown entry type is UnknownTypeError, at creation and on arrival', () => {
    const { mesh, dag } = setup()
    const keys = mesh.members[0]!
    const base = { v: 1, mesh: mesh.meshId, seq: 1, prev: null, parents: [mesh.meshId], body: execBody(), time: 1 }
    expectThrows(
      () => createEntry({ ...base, type: 'exec.bogus' as 'exec.request' }, keys), 'UnknownTypeError',
      'entry.unknown-type', /exec\.bogus/
    )
    expectThrows(
      () => dag.add(signRaw({ ...base, type: 'exec.bogus' }, keys)), 'UnknownTypeError', 'entry.unknown-type'
    )
    expectThrows(
      () => dag.add(signRaw({ ...base, type: 'Exec.Request' }, keys)), 'UnknownTypeError', 'entry.unknown-type'
    )
    // A type that is not a string at all is malformed rather than unknown.
    expectThrows(() => dag.add(signRaw({ ...base, type: 7 }, keys)), 'MalformedEntryError', 'entry.malformed', /type/)
    expectUnchanged(dag, 1)
  })

  it('an unknown field (top level or in a body) is MalformedEntryError naming it', () => {
    const { mesh, dag } = setup()
    const keys = mesh.members[0]!
    const good = createEntry(
      {
        mesh: mesh.meshId, seq: 1, prev: null, parents: [mesh.meshId], type: 'trust.fail',
        body: failBody(mesh.members[1]!), time: 1
      },
      keys
    )
    const withExtra = dagCbor.encode({ ...good.entry, extra: 1 })
    expectThrows(() => dag.add(withExtra), 'MalformedEntryError', 'entry.malformed', /unknown field "extra"/)
    const base = { v: 1, mesh: mesh.meshId, seq: 1, prev: null, parents: [mesh.meshId], type: 'trust.fail', time: 1 }
    expectThrows(
      () => dag.add(signRaw({ ...base, body: { ...failBody(mesh.members[1]!), severity: 3 } }, keys)),
      'MalformedEntryError', 'entry.malformed', /body\(trust\.fail\): unknown field "severity"/
    )
    const { detector: _d, ...missing } = failBody(mesh.members[1]!)
    expectThrows(
      () => dag.add(signRaw({ ...base, body: missing }, keys)), 'MalformedEntryError', 'entry.malformed',
      /missing field "detector"/
    )
    expectThrows(
      () => dag.add(signRaw({ ...base, body: { ...failBody(mesh.members[1]!), subject: new Uint8Array(31) } }, keys)),
      'MalformedEntryError', 'entry.malformed', /subject/
    )
    expectUnchanged(dag, 1)
    expect(dag.add(good.bytes).status).toBe('accepted')
  })
})

describe('genesis', () => {
  it('a second genesis is GenesisError; the same genesis again is a duplicate', () => {
    const { mesh, dag } = setup()
    const other = buildMesh({ label: 'rej', name: 'second', governors: 2, members: 3 })
    expectThrows(() => dag.add(other.genesis.bytes), 'GenesisError', 'entry.genesis', /exactly one genesis/)
    expect(dag.add(mesh.genesis.bytes).status).toBe('duplicate')
    expect(dag.size).toBe(1)
  })

  it('a DAG cannot start from a non-genesis entry or a genesis its author does not govern', () => {
    const { mesh, dag } = setup()
    const e = mesh.author(mesh.members[0]!, dag).exec(1)
    expectThrows(() => createDag({ genesis: e.bytes }), 'GenesisError', 'entry.genesis')
    const stranger = seedKey('rej/stranger')
    const g = mesh.governors[0]!
    expectThrows(
      () => createGenesis({ governors: [g.publicKey], members: [] }, stranger), 'InvalidArgumentError',
      'argument.invalid'
    )
    const bad = createEntry(
      {
        mesh: null, seq: 1, prev: null, parents: [], type: 'mesh.genesis',
        body: {
          name: 'x', governors: [g.publicKey], members: [], quorums: { fail: 1, restore: 1 }, policy: new Uint8Array()
        },
        time: 1
      },
      stranger
    )
    expectThrows(() => createDag({ genesis: bad.bytes }), 'GenesisError', 'entry.genesis', /not a founding governor/)
  })
})

describe('pending area', () => {
  it('an entry with an unknown parent waits, then is accepted with it, in causal order', () => {
    const { mesh, dag } = setup()
    const a1 = mesh.author(mesh.members[0]!, dag).exec(1)
    const b1 = mesh.author(mesh.members[1]!, dag).exec(1)
    expect(b1.entry.parents.some(p => p.equals(a1.cid))).toBe(true)
    const fresh = mesh.dag()
    const r1 = fresh.add(b1.bytes)
    expect(r1.status).toBe('pending')
    expect(r1.missing).toEqual([a1.id])
    expect(r1.accepted).toEqual([])
    expect(fresh.isPending(b1.id)).toBe(true)
    expect(fresh.has(b1.id)).toBe(false)
    expect(fresh.add(b1.bytes).status).toBe('pending')
    expect(fresh.pendingCount).toBe(1)
    const r2 = fresh.add(a1.bytes)
    expect(r2.status).toBe('accepted')
    expect(r2.accepted.map(s => s.id)).toEqual([a1.id, b1.id])
    expect(fresh.pendingCount).toBe(0)
    expect(fresh.ids()).toEqual([mesh.meshId.toString(), a1.id, b1.id])
  })

  it('a chain delivered backwards is released in one call, in seq order', () => {
    const { mesh, dag } = setup()
    const a = mesh.author(mesh.members[0]!, dag)
    const chain = [a.exec(1), a.exec(2), a.exec(3), a.exec(4)]
    const fresh = mesh.dag()
    for (const e of [...chain].reverse().slice(0, 3)) expect(fresh.add(e.bytes).status).toBe('pending')
    const r = fresh.add(chain[0]!.bytes)
    expect(r.accepted.map(s => s.entry.seq)).toEqual([1, 2, 3, 4])
    expect(fresh.frontier()).toEqual({ [a.hex]: 4, [hex(mesh.governors[0]!.publicKey)]: 1 })
  })

  it('a pending entry whose parent is rejected on release ends in rejected with ParentInvalidError', () => {
    const { mesh, dag } = setup()
    const a1 = mesh.author(mesh.members[0]!, dag).exec(1)
    // x: by a non-member, citing a1. z: by a member, citing x. Both arrive before a1.
    const x = raw(mesh, mesh.outsider(0), 1, null, [a1.cid])
    const z = raw(mesh, mesh.members[1]!, 1, null, [x.cid])
    const zz = raw(mesh, mesh.members[2]!, 1, null, [z.cid])
    const fresh = mesh.dag()
    expect(fresh.add(zz.bytes).status).toBe('pending')
    expect(fresh.add(z.bytes).status).toBe('pending')
    expect(fresh.add(x.bytes).status).toBe('pending')
    const r = fresh.add(a1.bytes)
    expect(r.accepted.map(s => s.id)).toEqual([a1.id])
    expect(r.rejected.map(j => j.id)).toEqual([x.id, z.id, zz.id])
    expectTyped(r.rejected[0]!.error, 'NotMemberError', 'entry.not-member')
    expectTyped(r.rejected[1]!.error, 'ParentInvalidError', 'entry.parent-invalid')
    expectTyped(r.rejected[2]!.error, 'ParentInvalidError', 'entry.parent-invalid')
    expect(fresh.pendingCount).toBe(0)
    // Offered again later, the child fails fast instead of waiting again.
    expectThrows(() => fresh.add(z.bytes), 'ParentInvalidError', 'entry.parent-invalid')
  })

  // KNOWN GAP (reported): when the invalid parent is offered directly, Dag.add throws
  // for it but leaves its waiters pending (and does not remember the rejection).
  // Remove `.fails` once Dag.add rejects the waiters of an entry it refuses.
  it('a pending entry whose parent is refused when offered directly is rejected too', () => {
    const { mesh, dag } = setup()
    const a1 = mesh.author(mesh.members[0]!, dag).exec(1)
    const x = raw(mesh, mesh.outsider(0), 1, null, [a1.cid])
    const z = raw(mesh, mesh.members[1]!, 1, null, [x.cid])
    const fresh = replicate(mesh, dag)
    expect(fresh.add(z.bytes).status).toBe('pending')
    expectThrows(() => fresh.add(x.bytes), 'NotMemberError', 'entry.not-member')
    expect(fresh.pendingCount).toBe(0)
  })

  it('the pending area is bounded: PendingFullError', () => {
    const { mesh, dag } = setup()
    const a1 = mesh.author(mesh.members[0]!, dag).exec(1)
    const b1 = mesh.author(mesh.members[1]!, dag).exec(1)
    const c1 = mesh.author(mesh.members[2]!, dag).exec(1)
    const small = createDag({ genesis: mesh.genesis.bytes, maxPending: 1, crypto: nodeCrypto })
    syncInto(small, mesh.dag())
    expect(small.add(b1.bytes).status).toBe('pending')
    expectThrows(() => small.add(c1.bytes), 'PendingFullError', 'entry.pending-full')
    expect(small.add(a1.bytes).accepted.map(s => s.id)).toEqual([a1.id, b1.id])
    expect(small.dropPending(b1.id)).toBe(false)
  })
})

describe('removal and cuts', () => {
  it('entries past a member.remove cut are CutExceededError whatever they cite', () => {
    const { mesh, dag } = setup()
    const k0 = mesh.members[0]!
    const before = mesh.dag()
    const m = mesh.author(k0, before)
    const a1 = m.exec(1)
    const a2 = m.exec(2)
    syncInto(dag, before)
    const g = mesh.author(mesh.governors[0]!, dag)
    g.write('member.remove', { member: k0.publicKey, cut: 2, reason: 'decommissioned' })
    expect(dag.cuts().get(hex(k0.publicKey))).toBe(2)
    // Built on the replica that never saw the removal: cites only the old state.
    const a3 = m.next('exec.request', execBody(3))
    expectThrows(() => dag.add(a3.bytes), 'CutExceededError', 'entry.cut-exceeded', /cut at seq 2/)
    expect(dag.isRevoked(a1.id)).toBe(false)
    expect(dag.isRevoked(a2.id)).toBe(false)
    expect(dag.currentGovernance().members.has(hex(k0.publicKey))).toBe(false)
    expect(dag.currentGovernance().removed.get(hex(k0.publicKey))).toBe(2)
  })

  it('a removed member: NotMemberError when citing the removal, judged by its causal past otherwise, cut beyond', () => {
    const { mesh, dag } = setup()
    const k0 = mesh.members[0]!
    const preRemoval = mesh.dag()
    const m = mesh.author(k0, preRemoval)
    m.exec(1)
    m.exec(2)
    syncInto(dag, preRemoval)
    // Cut 3 leaves room for one in-flight entry.
    const removal = mesh.author(mesh.governors[0]!, dag).write(
      'member.remove', { member: k0.publicKey, cut: 3, reason: 'x' }
    )
    // On a replica that knows the removal, nextEntry cites it: not a member there.
    const informed = replicate(mesh, dag)
    const citing = mesh.author(k0, informed).next('exec.request', execBody(3))
    expect(citing.entry.parents.some(p => p.equals(removal.cid))).toBe(true)
    expect(citing.entry.seq).toBe(3)
    expectThrows(() => dag.add(citing.bytes), 'NotMemberError', 'entry.not-member')
    // Citing only the pre-removal state: valid by its causal past, seq 3 <= cut.
    const inFlight = m.write('exec.request', execBody(3))
    expect(inFlight.entry.parents.some(p => p.equals(removal.cid))).toBe(false)
    expect(dag.add(inFlight.bytes).status).toBe('accepted')
    expect(dag.isRevoked(inFlight.id)).toBe(false)
    // And in the other arrival order the verdicts are the same.
    const other = replicate(mesh, preRemoval)
    expect(other.has(inFlight.id)).toBe(true)
    other.add(removal.bytes)
    expectThrows(() => other.add(citing.bytes), 'NotMemberError', 'entry.not-member')
    // Past the cut, even with old parents.
    const a4 = m.next('exec.request', execBody(4))
    expectThrows(() => dag.add(a4.bytes), 'CutExceededError', 'entry.cut-exceeded')
    expectThrows(() => other.add(a4.bytes), 'CutExceededError', 'entry.cut-exceeded')
  })

  it('removal is final: a later admit of the same key does not make it a member again', () => {
    const { mesh, dag } = setup()
    const k0 = mesh.members[0]!
    const m = mesh.author(k0, dag)
    m.exec(1)
    const g = mesh.author(mesh.governors[0]!, dag)
    g.write('member.remove', { member: k0.publicKey, cut: 10, reason: 'x' })
    const readmit = g.write('member.admit', { member: k0.publicKey, zone: 'b' })
    expect(dag.governanceAt(readmit.id).members.has(hex(k0.publicKey))).toBe(false)
    expect(dag.currentGovernance().members.has(hex(k0.publicKey))).toBe(false)
    // seq 2 is within the cut, so only membership decides: not a member.
    const e = m.next('exec.request', execBody(2))
    expect(e.entry.parents.some(p => p.equals(readmit.cid))).toBe(true)
    expectThrows(() => dag.add(e.bytes), 'NotMemberError', 'entry.not-member')
  })

  it('a removal cut below already-accepted entries revokes them', () => {
    const { mesh, dag } = setup()
    const k0 = mesh.members[0]!
    const m = mesh.author(k0, dag)
    const a1 = m.exec(1)
    const a2 = m.exec(2)
    mesh.author(mesh.governors[0]!, dag).write('member.remove', { member: k0.publicKey, cut: 1, reason: 'compromised' })
    expect(dag.isRevoked(a1.id)).toBe(false)
    expect(dag.isRevoked(a2.id)).toBe(true)
    expect(dag.has(a2.id)).toBe(true)
  })
})
