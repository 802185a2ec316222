import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  compilePolicy, createPolicyState, decide, deriveTrust, nextEntry, peerIdFromPublicKey, planRoute, toHex, type Dag,
  type PolicyUpdateBody, type TrustView
} from '../src/index.js'
import { buildMesh, failBody, restoreBody, type Mesh } from './helpers.js'
import { SimNetwork } from './sim/network.js'

const REPLICAS = 30
const SEEDS = Number(process.env.GOVMESH_SIM_SEEDS ?? 100)
const STEPS = 30
// Keys and genesis are shared by every seed (deriving 30 keys costs more than a run).
let multiHopPlans = 0
const ZONES = ['a', 'b', 'c']
const MESH = buildMesh({ label: 'sim', members: REPLICAS - 1, zones: ZONES })
const TRANSITIONS: ReadonlySet<string> = new Set(['a>b', 'b>c'])
const ROUTING = (() => {
  const peerIds = MESH.members.map(k => peerIdFromPublicKey(k.publicKey))
  return {
    peerIds,
    members: peerIds.map((peerId, i) => ({ peerId, zone: ZONES[i % ZONES.length]! })),
    keyOfPeer: new Map(peerIds.map((p, i) => [p, toHex(MESH.members[i]!.publicKey)]))
  }
})()

function trustOf (mesh: Mesh, dag: Dag): TrustView {
  return deriveTrust({
    fails: dag.entriesOfType('trust.fail'), restores: dag.entriesOfType('trust.restore'),
    failQuorum: dag.currentGovernance().quorums.fail, isRevoked: id => dag.isRevoked(id)
  })
}

function policyDigestOf (mesh: Mesh, dag: Dag): string {
  const updates = [
    mesh.genesis.entry.body.policy,
    ...dag.entriesOfType('policy.update').map(e => (e.entry.body as PolicyUpdateBody).update)
  ]
  return createPolicyState({ updates, crypto: mesh.crypto }).digest()
}

/**
 * One seeded run: replica i belongs to member i (the last one to the governor). Members
 * write executions and trust reports, the governor changes the policy and restores
 * peers, the network drops, delays, reorders and partitions; then it heals.
 */
function run (seed: number): { mesh: Mesh, dags: Dag[], violations: string[] } {
  const mesh = MESH
  const { members, peerIds, keyOfPeer } = ROUTING
  const dags = Array.from({ length: REPLICAS }, () => mesh.dag())
  const keys = [...mesh.members, mesh.governors[0]!]
  const gov = REPLICAS - 1
  const net = new SimNetwork({ seed, replicas: dags })
  const doc = new Y.Doc()
  doc.clientID = 1
  const violations: string[] = []
  const genesisPolicy = compilePolicy(
    createPolicyState({ updates: [mesh.genesis.entry.body.policy] }).document(), 'genesis'
  )
  const write = (at: number, init: Parameters<typeof nextEntry>[2]): void => {
    const e = nextEntry(dags[at]!, keys[at]!, { ...init, time: mesh.clock() }, mesh.crypto)
    if (dags[at]!.add(e).status !== 'accepted') throw new Error(`replica ${at} did not accept its own entry`)
    net.publish(at, e.bytes)
  }
  for (let step = 0; step < STEPS; step++) {
    const r = net.rnd()
    const who = net.pick(REPLICAS - 1)
    if (r < 0.45) {
      write(
        who,
        {
          type: 'exec.request',
          body: {
            principal: 'local', action: 'echo', resource: `r/${step}`, target: 'zone:a', route: [], payload: { step },
            parent: null, nonce: `s${seed}-${step}`, agent: null
          }
        }
      )
    } else if (r < 0.55) {
      const subject = keys[net.pick(REPLICAS - 1)]!
      if (subject !== keys[who]) write(who, { type: 'trust.fail', body: failBody(subject, `seen at step ${step}`) })
    } else if (r < 0.62) {
      doc.getMap('rules').set(
        `r${step % 3}`,
        {
          effect: 'allow', principals: ['local'], actions: ['echo'], resources: ['*'], zones: ['*'], maxHops: null,
          requireSigned: false
        }
      )
      write(gov, { type: 'policy.update', body: { update: Y.encodeStateAsUpdate(doc) } })
    } else if (r < 0.67) {
      const open = dags[gov]!.entriesOfType('trust.fail').filter(f => !trustOf(mesh, dags[gov]!).cleared.has(f.id))
      const f = open[net.pick(Math.max(open.length, 1))]
      if (f !== undefined) {
        const subject = (f.entry.body as { subject: Uint8Array }).subject
        write(gov, { type: 'trust.restore', body: restoreBody(mesh, subject, [f], mesh.governors), parents: [f.cid] })
      }
    } else if (r < 0.72) {
      net.partition()
    } else if (r < 0.76) {
      net.heal()
    } else if (r < 0.9) {
      net.sync(net.pick(), net.pick())
    }
    net.step()
    // Fail closed: once a replica holds an open report about a peer, it refuses every execution through it.
    const at = net.pick()
    const view = trustOf(mesh, dags[at]!)
    for (const subject of view.quarantined.keys()) {
      const d = decide({
        principal: 'local', signed: false, action: 'echo', resource: 'r', zone: 'a', hops: 1, peers: [subject]
      },
        genesisPolicy, { self: 'trusted', peer: p => p === subject ? 'quarantined' : 'trusted' })
      if (d.allow) violations.push(`replica ${at} allowed an execution through quarantined ${subject.slice(0, 8)}`)
    }
    // Routes: planned from that replica's view, never through an untrusted peer or a forbidden transition.
    if (at !== gov) {
      const zoneOf = new Map(members.map(m => [m.peerId, m.zone]))
      const plan = planRoute({ target: `zone:${ZONES[net.pick(3)]!}`, route: [] }, {
        self: peerIds[at]!, members, connected: () => true, transitions: TRANSITIONS, maxHops: 4,
        status: p => view.quarantined.has(keyOfPeer.get(p)!) ? 'quarantined' : 'trusted'
      })
      if (plan.ok) {
        if (plan.path.length >= 2) multiHopPlans++
        let zone = zoneOf.get(peerIds[at]!)!
        for (const p of plan.path) {
          if (view.quarantined.has(keyOfPeer.get(p)!)) violations.push(`replica ${at} routed through quarantined ${p}`)
          const next = zoneOf.get(p)!
          if (
            next !== zone && !TRANSITIONS.has(`${zone}>${next}`)
          ) violations.push(`replica ${at} routed ${zone} → ${next}`)
          zone = next
        }
      }
    }
  }
  net.settle()
  return { mesh, dags, violations }
}

describe(`simulated mesh: ${REPLICAS} replicas over a lossy, reordering, partitioning network (${SEEDS} seeds)`, () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    it(`seed ${seed}: after the schedule and a heal every replica has the same heads, policy digest and trust view`, () => {
      const { mesh, dags, violations } = run(seed)
      expect(violations, `seed ${seed}`).toEqual([])
      const [first, ...rest] = dags
      const heads = first!.heads()
      const digest = policyDigestOf(mesh, first!)
      const trust = [...trustOf(mesh, first!).quarantined.keys()].sort()
      for (const [i, d] of rest.entries()) {
        expect(d.heads(), `seed ${seed}, replica ${i + 1}: heads`).toEqual(heads)
        expect(d.pendingCount, `seed ${seed}, replica ${i + 1}: pending`).toBe(0)
        expect(policyDigestOf(mesh, d), `seed ${seed}, replica ${i + 1}: policy`).toBe(digest)
        expect([...trustOf(mesh, d).quarantined.keys()].sort(), `seed ${seed}, replica ${i + 1}: trust`).toEqual(trust)
      }
      // The schedule must have written something, or convergence proves nothing.
      expect(first!.size, `seed ${seed}: entries written`).toBeGreaterThan(5)
    })
  }
  it('the route property was exercised: multi-hop routes were planned and checked', () => {
    expect(multiHopPlans).toBeGreaterThan(SEEDS)
  })
})
