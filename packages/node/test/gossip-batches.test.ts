/**
 * Issue 11: every sealed record went out as its own gossip message, so a batch of 16 records
 * cost every peer 16 validations and 16 store writes. A sealed batch is now one gossip message
 * (docs/PROTOCOL.md §18.2), judged by one ingest and written in one store batch.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  createDag, createGenesis, encodeCanonical, execRequestBody, isGossipBatch, decodeGossipBatch, keyPairFromSecret,
  nextEntry, type KeyPair
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { NodeEventBus } from '../src/events.js'
import { Ledger, type LedgerStore } from '../src/ledger.js'
import { silentLogger } from '../src/logger.js'
import { NodeMetrics } from '../src/metrics.js'
import type { GossipResult, MeshNetwork } from '../src/network.js'
import { GossipService } from '../src/services/gossip.js'

const key = (n: number): KeyPair => keyPairFromSecret(new Uint8Array(32).fill(n))
const gov = key(1)
const [a, b] = [key(2), key(3)]
const genesis = createGenesis({
  governors: [gov.publicKey],
  members: [{ key: a.publicKey, zone: 'a' }, { key: b.publicKey, zone: 'b' }],
  time: 1
}, gov, nodeCrypto)

type Validator = (from: string, data: Uint8Array) => Promise<GossipResult>

interface TestNode {
  ledger: Ledger
  published: Uint8Array[]
  validate: Validator
  storeWrites: number[]
  reports: Array<{ reason: string, evidence: unknown }>
  stop: () => void
}

function node (keys: KeyPair, sealLineage = true, coalesceMs = 0, batchExecutionRecords = false): TestNode {
  const storeWrites: number[] = []
  const store: LedgerStore = {
    putAccepted: async (entries) => { storeWrites.push(entries.length) },
    putPending: async () => {},
    deletePending: async () => {}
  }
  const metrics = new NodeMetrics()
  const ledger = new Ledger(
    { genesis, keys, crypto: nodeCrypto, sealLineage },
    { store, metrics, events: new NodeEventBus(), logger: silentLogger }
  )
  const published: Uint8Array[] = []
  let validate: Validator | undefined
  const network = {
    publish: async (_topic: string, data: Uint8Array) => { published.push(data) },
    subscribe: (_topic: string, fn: Validator) => { validate = fn }
  } as unknown as MeshNetwork
  const reports: TestNode['reports'] = []
  const gossip = new GossipService({ topic: 'entries', coalesceMs, batchExecutionRecords }, {
    network,
    ingest: ledger.ingest,
    isMemberPeer: (p) => ledger.isMemberPeer(p),
    onAccepted: (fn) => ledger.onAccepted(fn),
    reporter: {
      reportOnce: async (_key, reason, _detector, evidence) => { reports.push({ reason, evidence }); return undefined }
    },
    sync: () => {},
    metrics,
    logger: silentLogger
  })
  gossip.start()
  return {
    ledger, published, validate: async (from, data) => await validate!(from, data), storeWrites, reports,
    stop: () => { gossip.stop() }
  }
}

const body = (i: number): ReturnType<typeof execRequestBody> =>
  execRequestBody({ action: 'echo', resource: `r/${i}`, target: 'zone:b', nonce: `n${i}`, payload: { i } })

async function sealedBurst (from: TestNode, count: number): Promise<void> {
  await Promise.all(Array.from({ length: count }, async (_, i) => await from.ledger.append('exec.request', body(i))))
}

describe('gossip: a sealed batch is one message', () => {
  it('16 concurrent execution records: one message, one ingest, one store write at the peer', async () => {
    const [na, nb] = [node(a), node(b)]
    await sealedBurst(na, 16)
    expect(na.published).toHaveLength(1)
    const [message] = na.published
    expect(isGossipBatch(message!)).toBe(true)
    expect(decodeGossipBatch(message!)).toHaveLength(16)

    const writesBefore = nb.storeWrites.length
    expect(await nb.validate(na.ledger.peerId, message!)).toBe('accept')
    expect(nb.storeWrites.slice(writesBefore)).toEqual([16])
    expect(nb.ledger.dag.frontier()[na.ledger.publicKey]).toBe(16)
    // The same batch again (from another relay): nothing new, not forwarded, not penalised.
    expect(await nb.validate(na.ledger.peerId, message!)).toBe('ignore')
  })

  it('version-1 entries still go alone, as their own bytes', async () => {
    const [na, nb] = [node(a, false), node(b)]
    await sealedBurst(na, 3)
    expect(na.published).toHaveLength(3)
    for (const m of na.published) {
      expect(isGossipBatch(m)).toBe(false)
      expect(await nb.validate(na.ledger.peerId, m)).toBe('accept')
    }
  })

  it('a batch with one forged entry is rejected whole and its sender reported', async () => {
    const [na, nb] = [node(a), node(b)]
    await sealedBurst(na, 4)
    const entries = decodeGossipBatch(na.published[0]!)
    const forged = entries.map(e => e.slice())
    // Flip a byte of the batch signature in the last entry: text "sig", then bytes(64).
    const last = forged[3]!
    const sigAt = Buffer.from(last).indexOf(Buffer.from([0x63, 0x73, 0x69, 0x67, 0x58, 0x40])) + 6
    expect(sigAt).toBeGreaterThan(6)
    last[sigAt] = last[sigAt]! ^ 1
    expect(await nb.validate(na.ledger.peerId, encodeCanonical(forged))).toBe('reject')
    expect(nb.reports.map(r => r.reason)).toEqual(['sent an entry with an invalid signature'])
    // The good entries before it are kept (they are valid), the forged one is not.
    expect(nb.ledger.dag.frontier()[na.ledger.publicKey]).toBe(3)
  })

  it('a malformed batch is rejected at the boundary and ingests nothing', async () => {
    const nb = node(b)
    const writes = nb.storeWrites.length
    expect(await nb.validate(node(a).ledger.peerId, encodeCanonical([Uint8Array.of(1)]))).toBe('reject')
    expect(await nb.validate(node(a).ledger.peerId, Uint8Array.of(0x9f, 0xff))).toBe('reject')
    expect(nb.storeWrites.length).toBe(writes)
  })
})

describe('gossip: sealed records wait briefly to share a message', () => {
  afterEach(() => { vi.useRealTimers() })

  it('seals within the window go out as one message, once the window ends', async () => {
    vi.useFakeTimers()
    const [na, nb] = [node(a, true, 20), node(b)]
    await sealedBurst(na, 3)
    await na.ledger.append('exec.request', body(100))
    expect(na.published).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(20)
    expect(na.published).toHaveLength(1)
    expect(decodeGossipBatch(na.published[0]!)).toHaveLength(4)
    expect(await nb.validate(na.ledger.peerId, na.published[0]!)).toBe('accept')
    expect(nb.ledger.dag.frontier()[na.ledger.publicKey]).toBe(4)
  })

  it('a governance or trust entry never waits, and flushes the waiting records before it', async () => {
    vi.useFakeTimers()
    const [na, nb] = [node(a, true, 20), node(b)]
    await sealedBurst(na, 2)
    // A version-1 entry of the same author: its prev is the last sealed record.
    await na.ledger.append('trust.fail', { subject: b.publicKey, reason: 'test', detector: 'manual', evidence: null })
    expect(na.published).toHaveLength(2)
    expect(isGossipBatch(na.published[0]!)).toBe(true)
    expect(isGossipBatch(na.published[1]!)).toBe(false)
    // In this order the receiver accepts both without anything pending.
    expect(await nb.validate(na.ledger.peerId, na.published[0]!)).toBe('accept')
    expect(await nb.validate(na.ledger.peerId, na.published[1]!)).toBe('accept')
  })

  it('version-1 execution records posted through the API share messages too; a trust entry does not wait', async () => {
    vi.useFakeTimers()
    const [na, nb] = [node(a, true, 20, true), node(b)]
    // A writer's own signed entries, handed to node A as its API does (publish: true).
    const writer = createDag({ genesis, crypto: nodeCrypto })
    const signed = Array.from({ length: 5 }, (_, i) => {
      const e = nextEntry(writer, b, { type: 'exec.request', body: body(i) }, nodeCrypto)
      writer.add(e, { verified: true })
      return e
    })
    for (const e of signed) await na.ledger.ingest([e.bytes], 'api', { publish: true })
    const report = nextEntry(
      writer, b, { type: 'trust.fail', body: { subject: a.publicKey, reason: 'test', detector: 'manual', evidence: null } },
      nodeCrypto
    )
    await na.ledger.ingest([report.bytes], 'api', { publish: true })
    // The waiting records went first, as one batch; the report right after, alone, without waiting.
    expect(na.published.map(m => isGossipBatch(m) ? decodeGossipBatch(m).length : 0)).toEqual([5, 0])
    expect(await nb.validate(na.ledger.peerId, na.published[0]!)).toBe('accept')
    expect(await nb.validate(na.ledger.peerId, na.published[1]!)).toBe('accept')
  })

  it('stopping sends what is still waiting', async () => {
    vi.useFakeTimers()
    const na = node(a, true, 1000)
    await sealedBurst(na, 2)
    expect(na.published).toHaveLength(0)
    na.stop()
    expect(na.published).toHaveLength(1)
  })
})
