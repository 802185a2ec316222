/**
 * The simulated mesh over the real services: 30 nodes composed exactly as the daemon composes them
 * (Ledger, trust, gossip, heartbeats, sync, exec), over a seeded in-memory transport that delays,
 * reorders, drops and partitions. Per seed: executions, trust reports, restores and policy changes
 * under partitions; then a heal. Checked: every replica converges (heads, policy digest, trust view);
 * no node records a hop or runs an execution through a peer it holds quarantined; no planned route
 * crosses a forbidden transition or a peer the origin holds quarantined.
 */
import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import {
  approveRestore, createGenesis, keyPairFromSecret, nextEntry, parsePolicyDocument, peerIdFromPublicKey,
  policyUpdateFor, sortCids, toHex, type ExecHopBody, type KeyPair, type PolicyDocument
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { SimHub } from './sim/hub.js'
import { startSimNode, type SimNode } from './sim/sim-node.js'

const NODES = 30
const SEEDS = Number(process.env.GOVMESH_SIM_SEEDS ?? 100)
const STEPS = 24
const ZONES = ['a', 'b', 'c']
const TRANSITIONS = new Set(['a>b', 'b>c'])

function key (label: string): KeyPair {
  return keyPairFromSecret(createHash('sha256').update(`govmesh-sim/${label}`).digest(), nodeCrypto)
}

function policy (zones: string[]): PolicyDocument {
  return parsePolicyDocument({
    rules: [{ id: 'echo', effect: 'allow', principals: ['local'], actions: ['echo'], resources: ['*'], zones }],
    transitions: [['a', 'b'], ['b', 'c']],
    maxHops: 4
  })
}
const OPEN = policy(['a', 'b', 'c'])
const NO_C = policy(['a', 'b'])

const governor = key('governor')
const memberKeys = Array.from({ length: NODES }, (_, i) => key(`member/${i}`))
const zoneOf = new Map(memberKeys.map((k, i) => [peerIdFromPublicKey(k.publicKey), ZONES[i % ZONES.length]!]))
const genesis = createGenesis({
  name: 'sim',
  governors: [governor.publicKey],
  members: memberKeys.map((k, i) => ({ key: k.publicKey, zone: ZONES[i % ZONES.length]! })),
  quorums: {},
  policy: policyUpdateFor(null, OPEN)!,
  time: 1_700_000_000_000
}, governor, nodeCrypto)

let running: SimNode[] = []
afterEach(async () => {
  for (const n of running) await n.stop()
  running = []
})

interface RunResult { nodes: SimNode[], violations: string[], executed: number, multiHop: number }

async function run (seed: number): Promise<RunResult> {
  const hub = new SimHub({ seed })
  const nodes: SimNode[] = []
  for (const k of memberKeys) nodes.push(await startSimNode(hub, genesis, k))
  running = nodes
  const violations: string[] = []
  let executed = 0
  let multiHop = 0
  // Fail closed: a node that holds a peer quarantined never records a hop from or to it, nor runs what it sent.
  for (const [i, node] of nodes.entries()) {
    node.events.on('entry:added', (e) => {
      if (e.source !== 'local' || e.type !== 'exec.hop') return
      const body = node.ledger.dag.getEntry(e.id)!.entry.body as ExecHopBody
      for (const peer of [body.from, body.next]) {
        if (peer !== null && node.local.trust.statusOf(peer) === 'quarantined') {
          violations.push(`node ${i} recorded a hop through ${peer}, which it holds quarantined`)
        }
      }
    })
  }
  const beatAll = async (): Promise<void> => {
    for (const n of nodes) await n.services.heartbeats.beat()
    await hub.drain()
  }
  await beatAll()
  let policyOpen = true
  for (let step = 0; step < STEPS; step++) {
    const r = hub.rnd()
    const at = hub.pick(NODES)
    const node = nodes[at]!
    if (r < 0.4) {
      const target = `zone:${ZONES[hub.pick(ZONES.length)]!}`
      const quarantined = new Set(node.local.trust.current().quarantined.keys())
      const res = await node.services.exec.submit({ action: 'echo', resource: `r/${step}`, target, payload: { step } })
      if (res.ok) executed++
      if (res.route !== undefined) {
        if (res.route.length >= 2) multiHop++
        let zone = zoneOf.get(node.ledger.peerId)!
        for (const p of res.route) {
          const next = zoneOf.get(p)!
          if (
            next !== zone && !TRANSITIONS.has(`${zone}>${next}`)
          ) violations.push(`node ${at} routed ${zone} → ${next}`)
          if (quarantined.has(toHex(memberKeys.find(k => peerIdFromPublicKey(k.publicKey) === p)!.publicKey))) {
            violations.push(`node ${at} routed through ${p}, which it held quarantined`)
          }
          zone = next
        }
      }
    } else if (r < 0.5) {
      const subject = memberKeys[hub.pick(NODES)]!
      if (subject !== memberKeys[at]) await node.local.reporter.reportOnce(
        toHex(subject.publicKey), `seen at step ${step}`, 'manual', null
      )
    } else if (r < 0.56) {
      // The governor signs through node 0 only: its chain never forks (journals are issue 12's).
      const gov = nodes[0]!.ledger
      const update = policyUpdateFor(gov.policy, policyOpen ? NO_C : OPEN)
      policyOpen = !policyOpen
      if (update !== null) {
        const e = nextEntry(gov.dag, governor, { type: 'policy.update', body: { update } }, nodeCrypto)
        await gov.ingest([e], 'api', { publish: true })
      }
    } else if (r < 0.61) {
      const gov = nodes[0]!.ledger
      const view = nodes[0]!.local.trust.current()
      const open = view.failures.filter(f => !view.cleared.has(f.id))
      const f = open[hub.pick(Math.max(open.length, 1))]
      if (f !== undefined) {
        const subject = Buffer.from(f.subject, 'hex')
        const clears = sortCids([gov.dag.getEntry(f.id)!.cid])
        const approvals = [approveRestore({ mesh: gov.dag.meshId, subject, clears }, governor, nodeCrypto)]
        const e = nextEntry(
          gov.dag, governor, { type: 'trust.restore', body: { subject, clears, approvals }, parents: clears },
          nodeCrypto
        )
        await gov.ingest([e], 'api', { publish: true })
      }
    } else if (r < 0.67) {
      hub.partition()
    } else if (r < 0.72) {
      hub.heal()
    } else if (r < 0.88) {
      const peer = nodes[hub.pick(NODES)]!.ledger.peerId
      if (peer !== node.ledger.peerId) await node.services.sync.withPeer(peer)
    }
    await hub.step()
  }
  // Heal: deliver what is in flight, then pull through node 0 until every replica has everything.
  hub.heal()
  await hub.drain()
  for (let round = 0; round < 3; round++) {
    for (const n of nodes.slice(1)) await nodes[0]!.services.sync.withPeer(n.ledger.peerId)
    for (const n of nodes.slice(1)) await n.services.sync.withPeer(nodes[0]!.ledger.peerId)
    const heads = JSON.stringify(nodes[0]!.ledger.dag.heads())
    if (nodes.every(n => JSON.stringify(n.ledger.dag.heads()) === heads && n.ledger.dag.pendingCount === 0)) break
  }
  return { nodes, violations, executed, multiHop }
}

const totals = { executed: 0, multiHop: 0 }

describe(`simulated mesh over the real services: ${NODES} nodes, ${SEEDS} seeds`, () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    it(`seed ${seed}: converges after a heal, and nothing runs or routes through a quarantined peer`, async () => {
      const { nodes, violations, executed, multiHop } = await run(seed)
      totals.executed += executed
      totals.multiHop += multiHop
      expect(violations, `seed ${seed}`).toEqual([])
      const first = nodes[0]!.ledger
      const quarantined = (n: SimNode): string[] => [...n.local.trust.current().quarantined.keys()].sort()
      for (const [i, n] of nodes.entries()) {
        expect(n.ledger.dag.heads(), `seed ${seed}, node ${i}: heads`).toEqual(first.dag.heads())
        expect(n.ledger.dag.pendingCount, `seed ${seed}, node ${i}: pending`).toBe(0)
        expect(n.ledger.policy.digest(), `seed ${seed}, node ${i}: policy`).toBe(first.policy.digest())
        expect(quarantined(n), `seed ${seed}, node ${i}: trust`).toEqual(quarantined(nodes[0]!))
      }
      // The schedule must have written entries, or convergence proves nothing.
      expect(first.dag.size, `seed ${seed}: entries`).toBeGreaterThan(5)
    })
  }
  it('the properties were exercised: executions succeeded and multi-hop routes were planned', () => {
    expect(totals.executed).toBeGreaterThan(SEEDS)
    expect(totals.multiHop).toBeGreaterThan(SEEDS / 2)
  })
})
