/**
 * Arrival order does not matter: a realistic random DAG (members writing exec and
 * trust entries on partially synced replicas, governors updating policy, admitting
 * and removing members, restoring failures) delivered to fresh replicas in random
 * permutations with duplicates always converges to the same accepted set, heads,
 * frontier, cuts, governance and trust, with nothing left pending.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as Y from 'yjs'
import { deriveTrust, type Dag, type KeyPair } from '../src/index.js'
import { buildMesh, hex, prng, replicate, restoreBody, shuffle, syncInto, type Author, type Mesh } from './helpers.js'

type Op =
  | { k: 'exec', who: number }
  | { k: 'batch', who: number, n: number }
  | { k: 'fail', who: number, subject: number }
  | { k: 'sync', who: number }
  | { k: 'policy', gov: number, rule: number }
  | { k: 'admit' }
  | { k: 'restore', gov: number, pick: number }
  | { k: 'remove', pick: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ k: fc.constant('exec' as const), who: fc.nat(20) }) },
  // Sealed execution records (protocol v2): batches of 1 to 5 under one signature.
  {
    weight: 3,
    arbitrary: fc.record({ k: fc.constant('batch' as const), who: fc.nat(20), n: fc.integer({ min: 1, max: 5 }) })
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('fail' as const), who: fc.nat(20), subject: fc.nat(20) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('sync' as const), who: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('policy' as const), gov: fc.nat(1), rule: fc.nat(9) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('admit' as const) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('restore' as const), gov: fc.nat(1), pick: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('remove' as const), pick: fc.nat(20) }) }
)

interface World {
  mesh: Mesh
  master: Dag
  /** Bytes of every entry written, genesis first, in creation (causal) order. */
  written: Uint8Array[]
  /** How many entries of each type the script produced. */
  counts: Record<string, number>
}

/** Runs a script: every author writes on its own replica; every entry also goes to `master`. */
function build (ops: Op[]): World {
  const mesh = buildMesh(
    { label: 'order', governors: 2, members: 3, quorums: { fail: 1, restore: 2 }, zones: ['a', 'b'] }
  )
  const master = mesh.dag()
  const written: Uint8Array[] = [mesh.genesis.bytes]
  const publish = (_by: Author, s: { bytes: Uint8Array, id: string }): void => {
    const r = master.add(s.bytes)
    if (r.status !== 'accepted') throw new Error(`master did not accept ${s.id}: ${r.status}`)
    written.push(s.bytes)
    const t = master.meta(s.id)!.type
    counts[t] = (counts[t] ?? 0) + 1
    if (master.getEntry(s.id)!.entry.seal !== undefined) counts.sealed = (counts.sealed ?? 0) + 1
  }
  const counts: Record<string, number> = {}
  const active: Author[] = mesh.members.map(k => mesh.author(k, mesh.dag()))
  const everyone: KeyPair[] = [...mesh.members]
  const govs: Author[] = mesh.governors.map(k => mesh.author(k, mesh.dag()))
  const ydocs = govs.map((_, i) => { const d = new Y.Doc(); d.clientID = 100 + i; return d })
  const cleared = new Set<string>()
  let admitted = 0
  let removed = 0

  for (const op of ops) {
    switch (op.k) {
      case 'exec': {
        const a = active[op.who % active.length]!
        publish(a, a.exec(op.who))
        break
      }
      case 'batch': {
        const a = active[op.who % active.length]!
        // Built on the author's replica and added there; each entry then reaches the master like any other.
        for (const e of a.sealed(op.n, op.who)) publish(a, e)
        break
      }
      case 'fail': {
        const a = active[op.who % active.length]!
        publish(a, a.fail(everyone[op.subject % everyone.length]!, `r${op.subject}`))
        break
      }
      case 'sync': {
        const all = [...active, ...govs]
        syncInto(all[op.who % all.length]!.dag, master)
        break
      }
      case 'policy': {
        const g = govs[op.gov]!
        const doc = ydocs[op.gov]!
        const sv = Y.encodeStateVector(doc)
        doc.getMap('rules').set(
          `r${op.rule % 4}`,
          { effect: op.rule % 3 === 0 ? 'deny' : 'allow', principals: ['*'], actions: [`act${op.rule}`] }
        )
        publish(g, g.write('policy.update', { update: Y.encodeStateAsUpdate(doc, sv) }))
        break
      }
      case 'admit': {
        if (admitted >= 2) break
        const g = govs[0]!
        syncInto(g.dag, master)
        const keys = mesh.outsider(admitted++)
        publish(g, g.write('member.admit', { member: keys.publicKey, zone: 'b' }))
        // The new member starts from everything the mesh has, including its admission.
        active.push(mesh.author(keys, replicate(mesh, master)))
        everyone.push(keys)
        break
      }
      case 'restore': {
        const g = govs[op.gov]!
        const open = g.dag.entriesOfType('trust.fail').filter(f => !cleared.has(f.id))
        if (open.length === 0) break
        const f = open[op.pick % open.length]!
        const subject = (f.entry.body as { subject: Uint8Array }).subject
        cleared.add(f.id)
        publish(g, g.write('trust.restore', restoreBody(mesh, subject, [f], mesh.governors), [f.cid]))
        break
      }
      case 'remove': {
        if (removed >= 1 || active.length <= 2) break
        const idx = op.pick % active.length
        const victim = active[idx]!
        const g = govs[1]!
        syncInto(g.dag, master)
        // The cut is the victim's last entry: it writes nothing after this.
        const cut = master.latest(victim.hex)?.seq ?? 0
        publish(g, g.write('member.remove', { member: victim.keys.publicKey, cut, reason: 'rotated out' }))
        active.splice(idx, 1)
        removed++
        break
      }
    }
  }
  return { mesh, master, written, counts }
}

/** Everything a replica's observable state is made of. */
function snapshot (d: Dag): unknown {
  const gov = d.currentGovernance()
  const trust = deriveTrust({
    fails: d.entriesOfType('trust.fail'),
    restores: d.entriesOfType('trust.restore'),
    failQuorum: gov.quorums.fail,
    isRevoked: id => d.isRevoked(id)
  })
  return {
    ids: [...d.ids()].sort(),
    heads: d.heads(),
    frontier: d.frontier(),
    cuts: [...d.cuts()].sort(),
    pending: d.pendingCount,
    equivocations: d.equivocations().length,
    members: [...gov.members.values()].map(m => `${m.key}@${m.zone}`).sort(),
    removed: [...gov.removed].sort(),
    governanceHeads: [...d.governanceHeads()].sort(),
    quarantined: [...trust.quarantined.keys()].sort(),
    cleared: [...trust.cleared].sort()
  }
}

/** A delivery: a seeded permutation with some entries offered again at random places. */
function delivery (bytes: Uint8Array[], seed: number): Uint8Array[] {
  const rnd = prng(seed ^ 0x5bd1e995)
  const order = shuffle(bytes, seed)
  const dups = Math.floor(rnd() * Math.max(1, bytes.length / 3))
  for (let i = 0; i < dups; i++) {
    const pick = bytes[Math.floor(rnd() * bytes.length)]!
    order.splice(Math.floor(rnd() * (order.length + 1)), 0, pick)
  }
  return order
}

describe('arrival order', () => {
  it('every permutation (with duplicates) converges to the same DAG state, nothing pending', () => {
    let pendingSeen = 0
    let releasedSeen = 0
    let maxSize = 0
    const total: Record<string, number> = {}
    fc.assert(fc.property(
      fc.array(opArb, { minLength: 15, maxLength: 45 }),
      fc.array(fc.integer(), { minLength: 2, maxLength: 2 }),
      (ops, seeds) => {
        const { mesh, master, written, counts } = build(ops)
        for (const [t, n] of Object.entries(counts)) total[t] = (total[t] ?? 0) + n
        expect(master.pendingCount).toBe(0)
        expect(master.size).toBe(written.length)
        maxSize = Math.max(maxSize, master.size)
        const expected = snapshot(master)
        const orders = [[...written].reverse(), ...seeds.map(s => delivery(written, s))]
        for (const order of orders) {
          const d = mesh.dag()
          for (const bytes of order) {
            const r = d.add(bytes)
            expect(r.rejected).toEqual([])
            expect(r.equivocations).toEqual([])
            if (r.status === 'pending') pendingSeen++
            if (r.accepted.length > 1) releasedSeen++
          }
          expect(snapshot(d)).toEqual(expected)
        }
      }
    ), { seed: 42, numRuns: 20 })
    // The property had teeth: entries really arrived before their parents.
    expect(pendingSeen).toBeGreaterThan(50)
    expect(releasedSeen).toBeGreaterThan(10)
    expect(maxSize).toBeGreaterThan(20)
    const kinds = ['exec.request', 'sealed', 'trust.fail', 'policy.update', 'member.admit', 'member.remove', 'trust.restore']
    for (const t of kinds) {
      expect(total[t] ?? 0, t).toBeGreaterThan(3)
    }
  })

  it('a replica synced through missingFor(frontier) from a partial peer converges too', () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 15, maxLength: 35 }), fc.integer(), (ops, seed) => {
      const { mesh, master, written } = build(ops)
      // A partial replica: a random prefix of a random delivery, whatever it managed to accept.
      const partial = mesh.dag()
      const order = delivery(written, seed)
      for (const b of order.slice(0, Math.floor(order.length / 2))) partial.add(b)
      for (const p of partial.pending()) partial.dropPending(p.id)
      // Catch up from the master by the sync protocol's rule: everything beyond the peer's frontier, in causal order.
      for (const id of master.missingFor(partial.frontier())) partial.add(master.getBytes(id)!)
      expect(snapshot(partial)).toEqual(snapshot(master))
    }), { seed: 42, numRuns: 15 })
  })
})

describe('concurrent governance', () => {
  it('concurrent admits and removes resolve identically on every replica; removal wins', () => {
    const mesh = buildMesh({ label: 'order-gov', governors: 2, members: 2 })
    const [g0, g1] = mesh.governors.map(k => mesh.author(k, mesh.dag())) as [Author, Author]
    const x = mesh.outsider(0)
    const m1 = mesh.members[1]!
    // Neither governor sees the other's entries.
    const entries = [
      g0.write('member.admit', { member: x.publicKey, zone: 'a' }),
      g1.write('member.admit', { member: x.publicKey, zone: 'b' }),
      g0.write('member.remove', { member: m1.publicKey, cut: 0, reason: 'x' }),
      g1.write('member.admit', { member: m1.publicKey, zone: 'b' })
    ]
    // A member who has seen everything writes on top, then the new member does.
    const all = mesh.dag()
    for (const e of entries) all.add(e.bytes)
    const m0 = mesh.author(mesh.members[0]!, all)
    const w = m0.exec(1)
    const xw = mesh.author(x, all).exec(1)
    const bytes = [mesh.genesis.bytes, ...entries.map(e => e.bytes), w.bytes, xw.bytes]
    const expected = snapshot(all)
    const zone = all.currentGovernance().members.get(hex(x.publicKey))!.zone
    expect(['a', 'b']).toContain(zone)
    expect(all.currentGovernance().members.has(hex(m1.publicKey))).toBe(false)
    expect(all.governanceAt(w.id).members.get(hex(x.publicKey))!.zone).toBe(zone)
    for (let seed = 0; seed < 12; seed++) {
      const d = mesh.dag()
      for (const b of delivery(bytes, seed)) d.add(b)
      expect(snapshot(d)).toEqual(expected)
      expect(d.governanceAt(w.id).members.get(hex(x.publicKey))!.zone).toBe(zone)
    }
  })
})

describe('ancestry', () => {
  it('ancestry() is closed under prev and parents, starts with the entry and reaches genesis', () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 10, maxLength: 30 }), (ops) => {
      const { mesh, master } = build(ops)
      const genesis = mesh.meshId.toString()
      for (const id of master.ids()) {
        const anc = master.ancestry(id)
        expect(anc[0]).toBe(id)
        expect(new Set(anc).size).toBe(anc.length)
        const set = new Set(anc)
        expect(set.has(genesis)).toBe(true)
        // Closed: every dependency of every member is in the set.
        for (const x of anc) {
          const m = master.meta(x)!
          for (const dep of m.prev === null ? m.parents : [m.prev, ...m.parents]) expect(set.has(dep)).toBe(true)
        }
        // Exactly the reachable set (naive DFS).
        const seen = new Set<string>()
        const stack = [id]
        while (stack.length > 0) {
          const cur = stack.pop()!
          if (seen.has(cur)) continue
          seen.add(cur)
          const m = master.meta(cur)!
          stack.push(...(m.prev === null ? m.parents : [m.prev, ...m.parents]))
        }
        expect([...set].sort()).toEqual([...seen].sort())
        // Depth 1: the entry and its direct dependencies.
        const m = master.meta(id)!
        const direct = new Set(m.prev === null ? m.parents : [m.prev, ...m.parents])
        expect(master.ancestry(id, { depth: 1 })).toEqual([id, ...direct])
        expect(master.ancestry(id, { limit: 2 }).length).toBe(Math.min(2, anc.length))
      }
      expect(master.ancestry('bafy-not-an-entry')).toEqual([])
    }), { seed: 42, numRuns: 10 })
  })

  it('entries are accepted only after their dependencies (ids() is a causal order)', () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 10, maxLength: 30 }), fc.integer(), (ops, seed) => {
      const { mesh, written } = build(ops)
      const d = mesh.dag()
      for (const b of delivery(written, seed)) d.add(b)
      const pos = new Map(d.ids().map((id, i) => [id, i]))
      for (const id of d.ids()) {
        const m = d.meta(id)!
        for (
          const dep of m.prev === null ? m.parents : [m.prev, ...m.parents]
        ) expect(pos.get(dep)!).toBeLessThan(pos.get(id)!)
      }
    }), { seed: 42, numRuns: 10 })
  })
})
