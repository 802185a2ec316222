/**
 * Issue 11 (gossip coalescing): a forwarded request's lineage depends on records its origin wrote
 * just before (the request's prev), which the next node may not hold yet: gossip had not delivered
 * them, or the origin was still holding them to share one message. That node refused the request
 * as `ancestry.invalid` (test/exec-route.test.ts in CI with a 20 ms wait). Now a forwarder sends its
 * unpublished ancestors in the frame's `context`, and a receiver whose lineage is still pending
 * pulls from the sender before judging it (docs/PROTOCOL.md §21.2, §21.5).
 */
import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createDag, createGenesis, execRequestBody, keyPairFromSecret, nextEntry, parsePolicyDocument, peerIdFromPublicKey,
  policyUpdateFor, toHex, type KeyPair, type SignedEntry
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import * as dagCbor from '@ipld/dag-cbor'
import { FramedStream } from '../src/framing.js'
import { EXEC_PROTOCOL, SYNC_PROTOCOL } from '../src/protocol.js'
import { DIRECT_WINDOW_MS, ExecContext } from '../src/services/exec-context.js'
import { SimHub } from './sim/hub.js'
import { startSimNode, type SimNode } from './sim/sim-node.js'

const key = (label: string): KeyPair =>
  keyPairFromSecret(createHash('sha256').update(`govmesh-exec-context/${label}`).digest(), nodeCrypto)
const governor = key('governor')
const [a, b, c] = [key('a'), key('b'), key('c')]
const genesis = createGenesis({
  name: 'exec-context',
  governors: [governor.publicKey],
  members: [{ key: a.publicKey, zone: 'a' }, { key: b.publicKey, zone: 'b' }, { key: c.publicKey, zone: 'c' }],
  quorums: {},
  policy: policyUpdateFor(null, parsePolicyDocument({
    rules: [{ id: 'echo', effect: 'allow', principals: ['local'], actions: ['echo'], resources: ['*'], zones: ['a', 'b', 'c'] }],
    transitions: [['a', 'b'], ['a', 'c'], ['b', 'c']],
    maxHops: 4
  }))!,
  time: 1_700_000_000_000
}, governor, nodeCrypto)
const peer = (k: KeyPair): string => peerIdFromPublicKey(k.publicKey)

let running: SimNode[] = []
afterEach(async () => {
  for (const n of running) await n.stop()
  running = []
})

/** Three trusted nodes over a hub that loses no gossip but delivers only when stepped. */
async function mesh (coalesceMs: number): Promise<{ hub: SimHub, nodes: SimNode[] }> {
  const hub = new SimHub({ seed: 7, dropRate: 0, maxDelay: 0 })
  const nodes: SimNode[] = []
  for (const k of [a, b, c]) nodes.push(await startSimNode(hub, genesis, k, nodeCrypto, coalesceMs))
  running = nodes
  for (const n of nodes) await n.services.heartbeats.beat()
  await hub.drain()
  for (const n of nodes) await n.services.heartbeats.beat()
  await hub.drain()
  return { hub, nodes }
}

const echo = (target: string, resource: string, route: string[] = []): Parameters<SimNode['services']['exec']['submit']>[0] =>
  ({ action: 'echo', resource, target, route, payload: { resource } })

describe('a forwarded request whose parents the receiver lacks', () => {
  it('is pulled from the sender when gossip has not delivered them (no coalescing)', async () => {
    const { hub, nodes } = await mesh(0)
    const [origin, , third] = nodes
    expect((await origin!.services.exec.submit(echo(peer(b), 'first'))).ok).toBe(true)
    // The first request (the second one's prev) is still in flight to the third node.
    const res = await origin!.services.exec.submit(echo(peer(c), 'second'))
    expect(res).toMatchObject({ ok: true })
    expect(third!.ledger.dag.has(res.lineage[0]!)).toBe(true)
    expect(hub.streamsByProtocol.get(SYNC_PROTOCOL)).toBe(1)
  })

  it('travels in the frame when the origin still holds it for gossip (coalescing): no pull', async () => {
    const { hub, nodes } = await mesh(60_000)
    const [origin, , third] = nodes
    const first = await origin!.services.exec.submit(echo(peer(b), 'first'))
    const res = await origin!.services.exec.submit(echo(peer(c), 'second'))
    expect(res).toMatchObject({ ok: true })
    expect(third!.ledger.dag.has(first.lineage[0]!)).toBe(true)
    expect(hub.streamsByProtocol.get(SYNC_PROTOCOL) ?? 0).toBe(0)
    expect(hub.streamsByProtocol.get(EXEC_PROTOCOL)).toBe(2)
  })

  it('passes on along the path with each forwarder\'s own unpublished records', async () => {
    const { hub, nodes } = await mesh(60_000)
    const [origin, middle, third] = nodes
    // The middle node records a hop and a result it has not gossiped; its next hop's prev is the result.
    const first = await origin!.services.exec.submit(echo(peer(b), 'first'))
    expect(first.ok).toBe(true)
    const res = await origin!.services.exec.submit(echo(peer(c), 'second', [peer(b)]))
    expect(res).toMatchObject({ ok: true, route: [peer(b), peer(c)] })
    for (const id of first.lineage) expect(third!.ledger.dag.has(id)).toBe(true)
    expect(middle!.ledger.dag.has(res.lineage.at(-1)!)).toBe(true)
    expect(hub.streamsByProtocol.get(SYNC_PROTOCOL) ?? 0).toBe(0)
  })
})

describe('a frame whose context holds a forged entry', () => {
  it('is refused as ancestry.invalid, and the forged entry is not accepted', async () => {
    const { nodes } = await mesh(0)
    const [origin, receiver] = nodes
    const request = await origin!.ledger.append('exec.request', execRequestBody({
      action: 'echo', resource: 'forged-context', target: peer(b), nonce: 'forged-context'
    }))
    // A valid entry of the origin's with its last byte flipped: its signature no longer covers it.
    const other = await origin!.ledger.append('exec.request', execRequestBody({
      action: 'echo', resource: 'other', target: peer(b), nonce: 'other'
    }))
    const forged = Uint8Array.from(other.bytes)
    forged[forged.length - 1]! ^= 1
    const stream = await origin!.network.openStream(peer(b), EXEC_PROTOCOL, { signal: AbortSignal.timeout(5000) })
    const framed = new FramedStream(stream)
    await framed.write(dagCbor.encode({
      t: 'exec', hop: 1, rest: [], lineage: [request.bytes], remainingMs: 5000, context: [forged]
    }))
    await framed.closeWrite()
    const answer = dagCbor.decode<{ ok: boolean, reason?: string, detail?: string }>((await framed.read())!)
    expect(answer).toMatchObject({ ok: false, reason: 'ancestry.invalid' })
    expect(answer.detail).toMatch(/rejected/)
    expect(receiver!.ledger.dag.has(other.id)).toBe(false)
  })
})

describe('ExecContext: what a frame carries', () => {
  /** A chain of four requests by one author: each depends on the one before. */
  function chain (): SignedEntry[] {
    const dag = createDag({ genesis: genesis.bytes, crypto: nodeCrypto })
    return Array.from({ length: 4 }, (_, i) => {
      const e = nextEntry(dag, a, {
        type: 'exec.request', body: execRequestBody({ action: 'echo', resource: `r${i}`, target: 'zone:b', nonce: `n${i}` })
      }, nodeCrypto)
      dag.add(e, { verified: true })
      return e
    })
  }

  it('the lineage\'s held-back or recently handed ancestors, each after its own, and nothing else', () => {
    const [e1, e2, e3, e4] = chain()
    const own = new Map([[e2!.id, e2!]])
    const context = new ExecContext((id) => own.get(id))
    context.remember([e1!], 1_000)
    // e4 depends on e3 (neither remembered nor held: assumed delivered), so nothing travels.
    expect(context.forLineage([e4!], undefined, 1_100)).toEqual([])
    // e3 depends on e2 (held back) and, through it, e1 (handed over 100 ms ago): oldest first.
    expect(context.forLineage([e3!], undefined, 1_100)).toEqual([e1!.bytes, e2!.bytes])
    // e1's author holds it already.
    expect(context.forLineage([e3!], toHex(a.publicKey), 1_100)).toEqual([e2!.bytes])
    // Past the window after it was handed over, e1 is left to gossip.
    expect(context.forLineage([e3!], undefined, 1_001 + DIRECT_WINDOW_MS)).toEqual([e2!.bytes])
  })
})
