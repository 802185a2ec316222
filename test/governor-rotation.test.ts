import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CarBufferWriter } from '@ipld/car'
import {
  CID, createEntry, decodeKeyFile, fromBase64, parsePolicyDocument, peerIdFromPublicKey, policyUpdateFor, toBase64,
  toHex,
  type KeyPair, type SignedEntry
} from '@govmesh/core'
import { readProofCar } from '@govmesh/node'
import { govmesh, TestMesh, waitFor, type NodeHandle } from './helpers/cluster.js'

interface Outcome { applied: boolean, approvals: number, quorum: number, cid?: string }
interface Governance {
  governors: string[], quorums: { policy: number, restore: number }, removedGovernors: Record<string, number>
}

// Real processes on a shared 2-core machine: budgets for load, not for speed.
describe('governor rotation: add a governor, require 2 of 2, remove the old one', { timeout: 120_000 }, () => {
  const mesh = new TestMesh()
  let n1: NodeHandle, n2: NodeHandle
  let oldKey: KeyPair, newKey: KeyPair
  let newPath = ''
  let removalCid = ''

  async function governor (args: string[], keyPath: string, at: NodeHandle): Promise<Outcome> {
    const r = await govmesh(['governor', ...args, '--governor', keyPath, '--data-dir', at.dir, '--json'])
    expect(r.code, r.stderr).toBe(0)
    return JSON.parse(r.stdout) as Outcome
  }
  async function everywhere (what: string, check: (g: Governance) => boolean): Promise<void> {
    await waitFor(what, async () => {
      const all = await Promise.all([n1, n2].map(n => mesh.get<Governance>(n, '/v1/governance')))
      return all.every(check)
    })
  }
  /** A policy.update by `keys` at the node's next position, with `parents` if given (else the node's). */
  async function updateBy (keys: KeyPair, at: NodeHandle, parents?: string[]): Promise<SignedEntry> {
    const pos = await mesh.get<{
      seq: number, prev: string | null, parents: string[]
    }>(at, `/v1/dag/next?author=${toHex(keys.publicKey)}`)
    const state = fromBase64((await mesh.get<{ state: string }>(at, '/v1/policy')).state)
    const update = policyUpdateFor(
      state, parsePolicyDocument({ rules: [{ id: 'takeover', effect: 'allow', principals: ['*'], actions: ['*'] }] })
    )!
    return createEntry({
      mesh: CID.parse(mesh.meshId), seq: pos.seq, prev: pos.prev === null ? null : CID.parse(pos.prev),
      parents: (
        parents ?? pos.parents
      ).map(p => CID.parse(p)), type: 'policy.update', body: { update }, time: Date.now()
    }, keys)
  }

  beforeAll(async () => {
    await mesh.create({ nodes: 2, governors: 1 })
    ;[n1, n2] = mesh.nodes as [NodeHandle, NodeHandle]
    oldKey = mesh.governors[0]!
    newPath = join(mesh.root, 'new-governor.key')
    expect((await govmesh(['keygen', '--out', newPath])).code).toBe(0)
    newKey = decodeKeyFile(readFileSync(newPath, 'utf8'))
    await mesh.start(n1)
    await mesh.start(n2, { bootstrap: [n1] })
    await mesh.waitConverged([n1, n2])
  }, 180_000)
  afterAll(async () => { await mesh.cleanup() })

  it('one governor adds a second and raises the policy and restore quorums to 2', async () => {
    const added = await governor(['add', peerIdFromPublicKey(newKey.publicKey)], mesh.governorKeyPath(), n1)
    expect(added).toMatchObject({ applied: true, approvals: 1, quorum: 1 })
    expect(added.cid).toMatch(/^bafy/)
    const raised = await governor(['quorum', '--policy', '2', '--restore', '2'], mesh.governorKeyPath(), n1)
    expect(raised).toMatchObject({ applied: true, approvals: 1, quorum: 1 })
    await everywhere(
      'two governors, quorums 2', g => g.governors.length === 2 && g.quorums.policy === 2 && g.quorums.restore === 2
    )
    // 2 of 2 now: the old governor alone is one approval, nothing more.
    const alone = await governor(['quorum', '--policy', '1', '--restore', '1'], mesh.governorKeyPath(), n1)
    expect(alone).toMatchObject({ applied: false, approvals: 1, quorum: 2 })
  })

  it('the old governor approves its removal, the new one completes it; every node drops the old key', async () => {
    const oldPeer = peerIdFromPublicKey(oldKey.publicKey)
    const first = await governor(['remove', oldPeer], mesh.governorKeyPath(), n1)
    expect(first).toMatchObject({ applied: false, approvals: 1, quorum: 2 })
    const second = await governor(['remove', oldPeer], newPath, n1)
    expect(second).toMatchObject({ applied: true, approvals: 2, quorum: 2 })
    removalCid = second.cid!
    await everywhere('the old governor removed', g => g.governors.length === 1 && g.governors[0] === toHex(
      newKey.publicKey
    ) &&
      g.removedGovernors[toHex(oldKey.publicKey)] !== undefined)
  })

  it('the removed key\'s policy update is rejected on every node, citing current or stale parents', async () => {
    await mesh.waitConverged([n1, n2])
    const digest = (await mesh.status(n1)).policyDigest
    const current = await updateBy(oldKey, n1)
    const cut = (await mesh.get<Governance>(n1, '/v1/governance')).removedGovernors[toHex(oldKey.publicKey)]!
    // Stale: it cites only its own previous entry, as if it had never seen its removal.
    const stale = await updateBy(oldKey, n1, [])
    expect(stale.entry.seq).toBeGreaterThan(cut)
    for (const entry of [current, stale]) {
      for (const n of [n1, n2]) {
        const r = await mesh.post(n, '/v1/entries', { entry: toBase64(entry.bytes) })
        expect(r.status).toBe(422)
        expect(r.body).toMatchObject({ results: [{ status: 'rejected', reason: 'entry.cut-exceeded' }] })
      }
    }
    const takeover = join(mesh.root, 'takeover.json')
    writeFileSync(
      takeover, JSON.stringify({ rules: [{ id: 'takeover', effect: 'allow', principals: ['*'], actions: ['*'] }] })
    )
    const cli = await govmesh(
      ['policy', 'apply', takeover, '--governor', mesh.governorKeyPath(), '--data-dir', n2.dir, '--json']
    )
    expect(cli.code).toBe(1)
    expect(cli.stderr).toMatch(/not a governor/)
    expect((await mesh.status(n2)).policyDigest).toBe(digest)

    // proof verify: the removal's own proof plus the removed key's later entry, rooted at that entry.
    const { blocks } = await readProofCar(
      new Uint8Array(await (await fetch(`${n1.api!}/v1/dag/export/${removalCid}`)).arrayBuffer())
    )
    for (const entry of [current, stale]) {
      const all = [...blocks, { cid: entry.cid, bytes: entry.bytes }]
      const buffer = new Uint8Array(all.reduce((s, b) => s + b.bytes.length + 64, 1024))
      const writer = CarBufferWriter.createWriter(buffer.buffer, { roots: [entry.cid] })
      for (const b of all) writer.write(b)
      const car = join(mesh.root, `${entry.id}.car`)
      writeFileSync(car, writer.close({ resize: true }))
      const verdict = await govmesh(['proof', 'verify', car, '--genesis', mesh.genesisPath, '--json'])
      expect(verdict.code).toBe(1)
      const v = JSON.parse(verdict.stdout) as { valid: boolean, reason: string }
      expect(v.valid).toBe(false)
      expect(['entry.cut-exceeded', 'entry.not-governor', 'governance.quorum']).toContain(v.reason)
    }
    // The removal itself still proves valid: a changing governor set verifies offline.
    const removalCar = join(mesh.root, 'removal.car')
    expect((await govmesh(['dag', 'export', removalCid, '--out', removalCar, '--data-dir', n2.dir])).code).toBe(0)
    const ok = await govmesh(['proof', 'verify', removalCar, '--genesis', mesh.genesisPath, '--json'])
    expect(ok.code, ok.stdout).toBe(0)
  })

  it('the remaining governor alone governs again (the quorum never exceeds the governors left)', async () => {
    const policy = join(mesh.root, 'after.json')
    writeFileSync(
      policy, JSON.stringify({ rules: [{ id: 'after', effect: 'allow', principals: ['local'], actions: ['echo'] }] })
    )
    const r = await govmesh(['policy', 'apply', policy, '--governor', newPath, '--data-dir', n2.dir, '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ applied: true, approvals: 1, quorum: 1 })
    await mesh.waitConverged([n1, n2])
  })
})
