/**
 * Governor rotation and the policy quorum: quorum entries need the approvals of the policy
 * quorum of governors in their causal past; a removed governor's later entries and approvals
 * count nowhere; the governance state does not depend on arrival order.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  approveGovernance, parsePolicyDocument, policyUpdateFor, sortCids, CID,
  type Dag, type EntryBody, type GovernanceApproval, type KeyPair, type QuorumEntryType
} from '../src/index.js'
import { buildMesh, expectThrows, hex, shuffle, type Mesh } from './helpers.js'

const updates = new Map<number, Uint8Array>()
/** The same bytes for the same n (a Yjs update carries its random client id). */
function update (n: number): Uint8Array {
  let u = updates.get(n)
  if (u === undefined) {
    u = policyUpdateFor(
      null, parsePolicyDocument({ rules: [{ id: `r${n}`, effect: 'allow', principals: ['*'], actions: ['*'] }] })
    )!
    updates.set(n, u)
  }
  return u
}

function approvals<T extends QuorumEntryType> (
  mesh: Mesh, type: T, body: Omit<EntryBody<T>, 'approvals'>, by: KeyPair[]
): GovernanceApproval[] {
  return by.map(g => approveGovernance({ mesh: mesh.meshId, type, body }, g, mesh.crypto))
}

const base = (dag: Dag): CID[] => sortCids(dag.governanceHeads().map(h => CID.parse(h)))

describe('policy quorum', () => {
  const mesh = buildMesh({ label: 'pq', governors: 3, quorums: { policy: 2 } as never })
  const [g0, g1, g2] = mesh.governors as [KeyPair, KeyPair, KeyPair]

  it('a policy.update needs the approvals of the policy quorum of the exact update bytes', () => {
    const dag = mesh.dag()
    const a = mesh.author(g0, dag)
    expect(dag.currentGovernance().quorums.policy).toBe(2)
    expectThrows(
      () => dag.add(a.next('policy.update', { update: update(1) }).bytes), 'GovernanceQuorumError', 'governance.quorum'
    )
    const other = approvals(mesh, 'policy.update', { update: update(2) }, [g1])
    expectThrows(
      () => dag.add(a.next('policy.update', { update: update(1), approvals: other }).bytes), 'BadSignatureError',
      'entry.bad-signature'
    )
    const outsider = approvals(mesh, 'policy.update', { update: update(1) }, [mesh.outsider(0)])
    expectThrows(
      () => dag.add(a.next('policy.update', { update: update(1), approvals: outsider }).bytes), 'GovernanceQuorumError',
      'governance.quorum'
    )
    // The author's own approval listed again is still one governor.
    const self = approvals(mesh, 'policy.update', { update: update(1) }, [g0])
    expectThrows(
      () => dag.add(a.next('policy.update', { update: update(1), approvals: self }).bytes), 'GovernanceQuorumError',
      'governance.quorum'
    )
    const ok = approvals(mesh, 'policy.update', { update: update(1) }, [g0, g2])
    expect(dag.add(a.next('policy.update', { update: update(1), approvals: ok }).bytes).status).toBe('accepted')
  })

  it('a mesh without a policy quorum keeps accepting single-governor updates', () => {
    const plain = buildMesh({ label: 'pq1' })
    const dag = plain.dag()
    expect(dag.currentGovernance().quorums.policy).toBe(1)
    expect(
      dag.add(plain.author(plain.governors[0]!, dag).next('policy.update', { update: update(1) }).bytes).status
    ).toBe('accepted')
  })
})

describe('governor rotation', () => {
  it('add a governor, require 2 of 2, remove the old one: its later entries and approvals count nowhere', () => {
    const mesh = buildMesh({ label: 'rot', governors: 1 })
    const [old] = mesh.governors as [KeyPair]
    const fresh = mesh.outsider(7)
    const dag = mesh.dag()
    const o = mesh.author(old, dag)
    const addBody = { governor: fresh.publicKey, base: base(dag) }
    o.write('governor.add', { ...addBody, approvals: approvals(mesh, 'governor.add', addBody, [old]) })
    expect(dag.currentGovernance().governors.has(hex(fresh.publicKey))).toBe(true)
    const qBody = { policy: 2, restore: 2, base: base(dag) }
    o.write('governor.quorum', { ...qBody, approvals: approvals(mesh, 'governor.quorum', qBody, [old]) })
    expect(dag.currentGovernance().quorums).toMatchObject({ policy: 2, restore: 2 })

    // 2 of 2 now: the old governor alone can no longer change the policy.
    expectThrows(
      () => dag.add(o.next('policy.update', { update: update(1) }).bytes), 'GovernanceQuorumError', 'governance.quorum'
    )
    const f = mesh.author(fresh, dag)
    const rBody = { governor: old.publicKey, cut: dag.frontier()[hex(old.publicKey)]!, base: base(dag) }
    const removal = f.write(
      'governor.remove', { ...rBody, approvals: approvals(mesh, 'governor.remove', rBody, [old, fresh]) }
    )
    const gov = dag.currentGovernance()
    expect([...gov.governors]).toEqual([hex(fresh.publicKey)])
    expect(gov.removedGovernors.get(hex(old.publicKey))).toBe(rBody.cut)

    // The removed key writes again: past its cut, rejected here and on a replica that learns the removal later.
    const late = o.next('policy.update', { update: update(3) })
    expectThrows(() => dag.add(late.bytes), 'CutExceededError', 'entry.cut-exceeded')
    // Its approval in the remaining governor's entry does not count: it is no governor there.
    const withOld = approvals(mesh, 'policy.update', { update: update(4) }, [old])
    expectThrows(
      () => dag.add(f.next('policy.update', { update: update(4), approvals: withOld }).bytes), 'GovernanceQuorumError',
      'governance.quorum'
    )
    // One governor left: the quorum applies as 1, so governance goes on.
    expect(dag.add(f.next('policy.update', { update: update(5) }).bytes).status).toBe('accepted')
    expect(dag.isRevoked(removal.id)).toBe(false)
  })

  it('refuses a removal of the last governor and a quorum the governors cannot meet', () => {
    const mesh = buildMesh({ label: 'rot2', governors: 1 })
    const [g] = mesh.governors as [KeyPair]
    const dag = mesh.dag()
    const a = mesh.author(g, dag)
    const rBody = { governor: g.publicKey, cut: 1, base: base(dag) }
    expectThrows(() => dag.add(
      a.next('governor.remove', { ...rBody, approvals: approvals(mesh, 'governor.remove', rBody, [g]) }).bytes
    ),
      'MalformedEntryError', 'entry.malformed', /at least one governor/)
    const qBody = { policy: 2, restore: 1, base: base(dag) }
    expectThrows(() => dag.add(
      a.next('governor.quorum', { ...qBody, approvals: approvals(mesh, 'governor.quorum', qBody, [g]) }).bytes
    ),
      'MalformedEntryError', 'entry.malformed', /exceeds/)
  })
})

type Op = { k: 'add', by: number } | { k: 'remove', by: number, pick: number } | { k: 'quorum', by: number, q: number }
  | { k: 'policy', by: number } | { k: 'sync', who: number, from: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('add' as const), by: fc.nat(5) }),
  fc.record({ k: fc.constant('remove' as const), by: fc.nat(5), pick: fc.nat(5) }),
  fc.record({ k: fc.constant('quorum' as const), by: fc.nat(5), q: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ k: fc.constant('policy' as const), by: fc.nat(5) }),
  fc.record({ k: fc.constant('sync' as const), who: fc.nat(5), from: fc.nat(5) })
)

/** Sync that keeps going past entries this replica refuses (e.g. past a cut it already knows). */
function offer (target: Dag, source: Dag): void {
  for (const id of source.ids()) {
    try { if (!target.has(id)) target.add(source.getBytes(id)!) } catch { /* refused here as on any node */ }
  }
}

/**
 * Governors write on their own, partly synced replicas (so rotations are concurrent); each
 * entry gets the approvals its writer's view needs from every governor of that view.
 */
function run (ops: Op[]): { mesh: Mesh, written: Uint8Array[] } {
  const mesh = buildMesh({ label: 'rot-prop', governors: 2, members: 1 })
  const keys: KeyPair[] = [...mesh.governors, ...Array.from({ length: 4 }, (_, i) => mesh.outsider(i))]
  const replicas = keys.map(() => mesh.dag())
  const written: Uint8Array[] = []
  let added = 2
  let n = 0
  for (const op of ops) {
    if (op.k === 'sync') { offer(replicas[op.who % keys.length]!, replicas[op.from % keys.length]!); continue }
    const i = op.by % keys.length
    const dag = replicas[i]!
    const gov = dag.currentGovernance()
    if (!gov.governors.has(hex(keys[i]!.publicKey))) continue
    const signers = keys.filter(k => gov.governors.has(hex(k.publicKey)))
    const write = <T extends QuorumEntryType>(type: T, body: Omit<EntryBody<T>, 'approvals'>): void => {
      const s = mesh.author(keys[i]!, dag).next(
        type, { ...body, approvals: approvals(mesh, type, body, signers) } as EntryBody<T>
      )
      try {
        if (dag.add(s.bytes).status === 'accepted') written.push(s.bytes)
      } catch { /* e.g. removing the last governor: refused like on any node */ }
    }
    if (op.k === 'add' && added < keys.length) write(
      'governor.add', { governor: keys[added++]!.publicKey, base: base(dag) }
    )
    if (op.k === 'remove') {
      const target = [...gov.governors].sort()[op.pick % gov.governors.size]!
      write(
        'governor.remove', { governor: Buffer.from(target, 'hex'), cut: dag.frontier()[target] ?? 0, base: base(dag) }
      )
    }
    if (op.k === 'quorum') write(
      'governor.quorum', { policy: Math.min(op.q, gov.governors.size), restore: 1, base: base(dag) }
    )
    if (op.k === 'policy') write('policy.update', { update: update(n++) })
  }
  // Whatever a replica wrote after its key was removed elsewhere is still offered: it must be judged alike.
  for (const r of replicas) for (const id of r.ids()) written.push(r.getBytes(id)!)
  return { mesh, written }
}

function governanceOf (mesh: Mesh, order: Uint8Array[]): unknown {
  const dag = mesh.dag()
  for (const b of order) {
    try { dag.add(b) } catch { /* rejected the same way in every order, or past a cut learned first */ }
  }
  const g = dag.currentGovernance()
  return {
    governors: [...g.governors].sort(), removed: [...g.removedGovernors].sort(), quorums: g.quorums,
    pending: dag.pendingCount
  }
}

describe('order independence of the governance state with rotations', () => {
  it('a removed governor\'s entry written on a stale replica changes nothing, whether it arrives before or after the removal', () => {
    const mesh = buildMesh({ label: 'rot-stale', governors: 2 })
    const [g0, g1] = mesh.governors as [KeyPair, KeyPair]
    const main = mesh.dag()
    const stale = mesh.dag()
    const rBody = { governor: g1.publicKey, cut: 0, base: base(main) }
    const removal = mesh.author(g0, main).write(
      'governor.remove', { ...rBody, approvals: approvals(mesh, 'governor.remove', rBody, [g0]) }
    )
    const aBody = { governor: mesh.outsider(3).publicKey, base: base(stale) }
    const late = mesh.author(g1, stale).write(
      'governor.add', { ...aBody, approvals: approvals(mesh, 'governor.add', aBody, [g1]) }
    )
    const before = mesh.dag()
    before.add(late.bytes)
    before.add(removal.bytes)
    const after = mesh.dag()
    after.add(removal.bytes)
    expectThrows(() => after.add(late.bytes), 'CutExceededError', 'entry.cut-exceeded')
    expect(before.isRevoked(late.id)).toBe(true)
    expect([...before.currentGovernance().governors]).toEqual([hex(g0.publicKey)])
    expect(before.currentGovernance()).toEqual(after.currentGovernance())
  })


  it('every arrival order gives the same governors, removals and quorums', () => {
    fc.assert(fc.property(fc.array(
      opArb, { minLength: 5, maxLength: 30 }
    ), fc.integer({ min: 1, max: 1_000_000 }), (ops, seed) => {
      const { mesh, written } = run(ops)
      const reference = governanceOf(mesh, written)
      for (let k = 0; k < 2; k++) expect(governanceOf(mesh, shuffle(written, seed + k))).toEqual(reference)
    }), { seed: 12, numRuns: 20 })
  })
})
