/**
 * The trust view: derived from valid trust.fail / trust.restore entries, the same
 * for any input order, with fail quorums by distinct reporters, restores clearing
 * exactly what they name, and per-peer status (unknown / quarantined / stale /
 * drifted / trusted) in that order of precedence.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  deriveTrust, nextEntry, peerStatus, DEFAULT_TIMING,
  type HeartbeatObservation, type PolicyTiming, type SignedEntry, type TrustView
} from '../src/index.js'
import { buildMesh, failBody, hex, nodeCrypto, restoreBody, shuffle, type Mesh } from './helpers.js'

type Op =
  | { k: 'fail', reporter: number, subject: number, time: number }
  | { k: 'restore', subject: number, picks: number[], time: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record(
      { k: fc.constant('fail' as const), reporter: fc.nat(3), subject: fc.nat(3), time: fc.integer({ min: 1, max: 6 }) }
    )
  },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        k: fc.constant('restore' as const), subject: fc.nat(3),
        picks: fc.array(fc.nat(10), { minLength: 1, maxLength: 2 }), time: fc.integer({ min: 1, max: 6 })
      }
    )
  }
)

interface Built { mesh: Mesh, fails: SignedEntry[], restores: SignedEntry[] }

/** Writes the script through a Dag, so every entry is valid (restores carry a full quorum). */
function build (ops: Op[]): Built {
  const mesh = buildMesh({ label: 'trust', governors: 2, members: 4, quorums: { fail: 1, restore: 2 } })
  const dag = mesh.dag()
  const write = <T extends 'trust.fail' | 'trust.restore'>(
    keys: typeof mesh.members[0], type: T, body: SignedEntry<T>['entry']['body'], time: number,
    parents?: SignedEntry['cid'][]
  ): SignedEntry => {
    const s = nextEntry(dag, keys, { type, body, time, parents }, nodeCrypto)
    if (dag.add(s.bytes).status !== 'accepted') throw new Error('not accepted')
    return s
  }
  const cleared = new Set<string>()
  for (const op of ops) {
    if (op.k === 'fail') {
      write(mesh.members[op.reporter]!, 'trust.fail', failBody(mesh.members[op.subject]!, `r${op.reporter}`), op.time)
    } else {
      const subject = mesh.members[op.subject]!.publicKey
      const open = dag.entriesOfType('trust.fail').filter(
        f => hex((f.entry.body as { subject: Uint8Array }).subject) === hex(subject) && !cleared.has(f.id)
      )
      if (open.length === 0) continue
      const chosen = [...new Map(op.picks.map(p => open[p % open.length]!).map(f => [f.id, f])).values()]
      for (const f of chosen) cleared.add(f.id)
      write(
        mesh.governors[op.time % 2]!, 'trust.restore', restoreBody(mesh, subject, chosen, mesh.governors), op.time,
        chosen.map(f => f.cid)
      )
    }
  }
  return { mesh, fails: dag.entriesOfType('trust.fail'), restores: dag.entriesOfType('trust.restore') }
}

function normalize (v: TrustView): unknown {
  return {
    quarantined: [...v.quarantined.entries()].sort(([a], [b]) => a < b ? -1 : 1).map(
      ([k, q]) => [k, q.subject, q.since, q.failures.map(f => f.id)]
    ),
    cleared: [...v.cleared].sort(),
    failures: v.failures.map(f => f.id)
  }
}

/** The documented rule, written plainly: uncleared failures by distinct reporters reaching the quorum. */
function model (fails: SignedEntry[], restores: SignedEntry[], quorum: number): Map<string, number> {
  const cleared = new Set(
    restores.flatMap(r => (r.entry.body as { clears: Array<{ toString: () => string }> }).clears.map(c => c.toString()))
  )
  const bySubject = new Map<string, SignedEntry[]>()
  for (const f of fails) {
    if (cleared.has(f.id)) continue
    const s = hex((f.entry.body as { subject: Uint8Array }).subject)
    bySubject.set(s, [...(bySubject.get(s) ?? []), f])
  }
  const out = new Map<string, number>()
  for (const [s, list] of bySubject) {
    list.sort((a, b) => a.entry.time - b.entry.time || (a.id < b.id ? -1 : 1))
    const seen = new Set<string>()
    for (const f of list) {
      seen.add(hex(f.entry.author))
      if (seen.size >= quorum) { out.set(s, f.entry.time); break }
    }
  }
  return out
}

describe('deriveTrust', () => {
  it('any order of the inputs gives the same view, and it matches the model', () => {
    let quarantinedSeen = 0
    let clearedSeen = 0
    fc.assert(fc.property(fc.array(opArb, { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 3 }), fc.array(
      fc.integer(), { minLength: 3, maxLength: 3 }
    ), (ops, quorum, seeds) => {
      const { fails, restores } = build(ops)
      const ref = deriveTrust({ fails, restores, failQuorum: quorum })
      for (const seed of seeds) {
        const v = deriveTrust(
          { fails: shuffle(fails, seed), restores: shuffle(restores, seed + 1), failQuorum: quorum }
        )
        expect(normalize(v)).toEqual(normalize(ref))
      }
      // Iterables (not only arrays) are fine too.
      expect(
        normalize(
          deriveTrust({ fails: new Set([...fails].reverse()), restores: new Set(restores), failQuorum: quorum })
        )
      ).toEqual(normalize(ref))
      const expected = model(fails, restores, quorum)
      expect(new Map([...ref.quarantined].map(([k, q]) => [k, q.since]))).toEqual(expected)
      expect(ref.failures).toHaveLength(fails.length)
      quarantinedSeen += ref.quarantined.size
      clearedSeen += ref.cleared.size
    }), { seed: 42, numRuns: 60 })
    expect(quarantinedSeen).toBeGreaterThan(20)
    expect(clearedSeen).toBeGreaterThan(10)
  })
})

describe('quorums and restores', () => {
  function scene (failQuorum = 2): { mesh: Mesh, dag: ReturnType<Mesh['dag']>, view: () => TrustView } {
    const mesh = buildMesh({ label: 'trustq', governors: 2, members: 4, quorums: { fail: failQuorum, restore: 2 } })
    const dag = mesh.dag()
    const view = (): TrustView => deriveTrust({
      fails: dag.entriesOfType('trust.fail'),
      restores: dag.entriesOfType('trust.restore'),
      failQuorum: dag.currentGovernance().quorums.fail,
      isRevoked: id => dag.isRevoked(id)
    })
    return { mesh, dag, view }
  }

  it('fail quorum 2 needs two distinct reporters', () => {
    const { mesh, dag, view } = scene(2)
    const subject = hex(mesh.members[3]!.publicKey)
    const a = mesh.author(mesh.members[0]!, dag)
    const b = mesh.author(mesh.members[1]!, dag)
    a.fail(mesh.members[3]!)
    a.fail(mesh.members[3]!, 'again')
    expect(view().quarantined.has(subject)).toBe(false)
    expect(view().failures).toHaveLength(2)
    const second = b.fail(mesh.members[3]!)
    const q = view().quarantined.get(subject)!
    expect(q.since).toBe(second.entry.time)
    expect(q.failures).toHaveLength(3)
    // The subject reporting others changes nothing about the subject itself.
    mesh.author(mesh.members[3]!, dag).fail(mesh.members[0]!)
    expect(view().quarantined.has(hex(mesh.members[0]!.publicKey))).toBe(false)
  })

  it('a restore clears only the failures it names; a later failure quarantines again', () => {
    const { mesh, dag, view } = scene(1)
    const subjectKeys = mesh.members[2]!
    const subject = hex(subjectKeys.publicKey)
    const a = mesh.author(mesh.members[0]!, dag)
    const g = mesh.author(mesh.governors[0]!, dag)
    const f1 = a.fail(subjectKeys)
    expect(view().quarantined.get(subject)!.failures.map(f => f.id)).toEqual([f1.id])
    const r = g.write('trust.restore', restoreBody(mesh, subjectKeys, [f1], mesh.governors), [f1.cid])
    expect(view().quarantined.has(subject)).toBe(false)
    expect([...view().cleared]).toEqual([f1.id])
    const f2 = mesh.author(mesh.members[1]!, dag).fail(subjectKeys, 'tampered again')
    const q = view().quarantined.get(subject)!
    expect(q.failures.map(f => f.id)).toEqual([f2.id])
    expect(q.since).toBe(f2.entry.time)
    // The earlier restore is still there and still only clears f1.
    expect(dag.entriesOfType('trust.restore').map(e => e.id)).toEqual([r.id])
    expect(view().cleared.has(f2.id)).toBe(false)
  })

  it('clearing one of two reports drops below quorum 2', () => {
    const { mesh, dag, view } = scene(2)
    const subjectKeys = mesh.members[3]!
    const f1 = mesh.author(mesh.members[0]!, dag).fail(subjectKeys)
    mesh.author(mesh.members[1]!, dag).fail(subjectKeys)
    expect(view().quarantined.has(hex(subjectKeys.publicKey))).toBe(true)
    mesh.author(mesh.governors[1]!, dag).write(
      'trust.restore', restoreBody(mesh, subjectKeys, [f1], mesh.governors), [f1.cid]
    )
    expect(view().quarantined.has(hex(subjectKeys.publicKey))).toBe(false)
  })

  it('failures and restores past their author\'s cut count for nothing', () => {
    const { mesh, dag, view } = scene(1)
    const reporter = mesh.members[0]!
    const subject = hex(mesh.members[1]!.publicKey)
    mesh.author(reporter, dag).fail(mesh.members[1]!)
    expect(view().quarantined.has(subject)).toBe(true)
    // The reporter is removed with a cut below its report.
    mesh.author(mesh.governors[0]!, dag).write('member.remove', { member: reporter.publicKey, cut: 0, reason: 'lied' })
    expect(view().quarantined.has(subject)).toBe(false)
    expect(view().failures).toEqual([])
    // Without isRevoked the raw entries would still count.
    expect(
      deriveTrust({ fails: dag.entriesOfType('trust.fail'), restores: [], failQuorum: 1 }).quarantined.has(subject)
    ).toBe(true)
  })

  it('entries of the wrong type in the inputs are ignored', () => {
    const { mesh, dag } = scene(1)
    const f = mesh.author(mesh.members[0]!, dag).fail(mesh.members[1]!)
    const v = deriveTrust({ fails: [f, mesh.genesis], restores: [f, mesh.genesis], failQuorum: 1 })
    expect(v.failures.map(x => x.id)).toEqual([f.id])
    expect(v.cleared.size).toBe(0)
    expect(v.quarantined.size).toBe(1)
  })
})

describe('peerStatus', () => {
  const timing: PolicyTiming = DEFAULT_TIMING
  const now = 1_800_000_000_000
  const fresh: HeartbeatObservation = { lastSeen: now - 100, driftSince: null }

  function setting (): {
    mesh: Mesh, dag: ReturnType<Mesh['dag']>,
    status: (peer: string, hb?: HeartbeatObservation, t?: PolicyTiming) => ReturnType<typeof peerStatus>
  } {
    const mesh = buildMesh({ label: 'peers', governors: 1, members: 4 })
    const dag = mesh.dag()
    const status = (peer: string, hb = fresh, t = timing): ReturnType<typeof peerStatus> => peerStatus({
      peer,
      governance: dag.currentGovernance(),
      trust: deriveTrust(
        {
          fails: dag.entriesOfType('trust.fail'), restores: dag.entriesOfType('trust.restore'), failQuorum: 1,
          isRevoked: id => dag.isRevoked(id)
        }
      ),
      heartbeat: hb,
      timing: t,
      now
    })
    return { mesh, dag, status }
  }

  it('trusted: a member with a fresh heartbeat and the same policy', () => {
    const { mesh, status } = setting()
    expect(status(hex(mesh.members[0]!.publicKey))).toEqual(
      { status: 'trusted', since: null, reasons: [], entries: [] }
    )
  })

  it('unknown: not a member, or removed (even with a fresh heartbeat)', () => {
    const { mesh, dag, status } = setting()
    expect(status(hex(mesh.outsider(0).publicKey))).toMatchObject({ status: 'unknown', reasons: ['not a member'] })
    // Governors are not members unless listed.
    expect(status(hex(mesh.governors[0]!.publicKey)).status).toBe('unknown')
    const victim = mesh.members[1]!
    mesh.author(mesh.members[0]!, dag).fail(victim)
    mesh.author(mesh.governors[0]!, dag).write('member.remove', { member: victim.publicKey, cut: 0, reason: 'gone' })
    // Removed and quarantined: unknown comes first.
    expect(status(hex(victim.publicKey))).toMatchObject({ status: 'unknown', reasons: ['removed from the mesh'] })
  })

  it('quarantined: an uncleared failure, whatever the heartbeat says', () => {
    const { mesh, dag, status } = setting()
    const peer = hex(mesh.members[2]!.publicKey)
    const f = mesh.author(mesh.members[0]!, dag).fail(mesh.members[2]!, 'measurement not allowlisted')
    for (const hb of [fresh, { lastSeen: null, driftSince: null }, { lastSeen: now, driftSince: now - 999_999 }]) {
      expect(status(peer, hb)).toEqual(
        { status: 'quarantined', since: f.entry.time, reasons: ['measurement not allowlisted'], entries: [f.id] }
      )
    }
  })

  it('stale: no heartbeat, or none for more than staleMs (exactly staleMs is still fresh)', () => {
    const { mesh, status } = setting()
    const peer = hex(mesh.members[0]!.publicKey)
    expect(status(peer, { lastSeen: null, driftSince: null })).toMatchObject(
      { status: 'stale', since: null, reasons: ['no heartbeat received'] }
    )
    const last = now - timing.staleMs - 1
    expect(
      status(peer, { lastSeen: last, driftSince: null })
    ).toMatchObject({ status: 'stale', since: last + timing.staleMs })
    expect(status(peer, { lastSeen: now - timing.staleMs, driftSince: null }).status).toBe('trusted')
    // Stale wins over drifted.
    expect(status(peer, { lastSeen: last, driftSince: now - 999_999 }).status).toBe('stale')
    // The policy's timing is what counts.
    expect(status(peer, { lastSeen: now - 2000, driftSince: null }, { ...timing, staleMs: 1000 }).status).toBe('stale')
  })

  it('drifted: another digest for longer than the grace period', () => {
    const { mesh, status } = setting()
    const peer = hex(mesh.members[0]!.publicKey)
    const since = now - timing.driftGraceMs - 1
    expect(status(peer, { lastSeen: now, driftSince: since })).toMatchObject(
      { status: 'drifted', since: since + timing.driftGraceMs }
    )
    expect(status(peer, { lastSeen: now, driftSince: now - timing.driftGraceMs }).status).toBe('trusted')
    expect(status(peer, { lastSeen: now, driftSince: now - 10 }, { ...timing, driftGraceMs: 5 }).status).toBe('drifted')
  })

  it('a restored peer is trusted again', () => {
    const { mesh, dag, status } = setting()
    const peerKeys = mesh.members[3]!
    const f = mesh.author(mesh.members[0]!, dag).fail(peerKeys)
    expect(status(hex(peerKeys.publicKey)).status).toBe('quarantined')
    mesh.author(mesh.governors[0]!, dag).write(
      'trust.restore', restoreBody(mesh, peerKeys, [f], mesh.governors), [f.cid]
    )
    expect(status(hex(peerKeys.publicKey)).status).toBe('trusted')
  })
})
