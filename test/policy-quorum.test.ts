import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  approveGovernance, CID, createEntry, parsePolicyDocument, policyUpdateFor, toBase64, toHex, fromBase64
} from '@govmesh/core'
import { govmesh, TestMesh, waitFor, type NodeHandle } from './helpers/cluster.js'

interface Outcome { applied: boolean, approvals: number, quorum: number, cid?: string, digest: string }

// Real processes on a shared 2-core machine: budgets for load, not for speed.
describe('policy quorum 2: a policy.update takes effect only with two governors\' approvals of its exact bytes', {
  timeout: 120_000
}, () => {
  const mesh = new TestMesh()
  let nodes: NodeHandle[] = []
  let original = ''
  const files: Record<string, string> = {}
  const docs = {
    p: { rules: [{ id: 'echo-p', effect: 'allow', principals: ['local'], actions: ['echo', 'sleep'] }] },
    q: { rules: [{ id: 'echo-q', effect: 'allow', principals: ['*'], actions: ['*'] }] }
  }

  async function apply (file: string, governor: number, at: NodeHandle): Promise<Outcome> {
    const r = await govmesh(
      ['policy', 'apply', file, '--governor', mesh.governorKeyPath(governor), '--data-dir', at.dir, '--json']
    )
    expect(r.code, r.stderr).toBe(0)
    return JSON.parse(r.stdout) as Outcome
  }
  async function digests (): Promise<string[]> {
    return await Promise.all(nodes.map(async n => (await mesh.status(n)).policyDigest))
  }

  beforeAll(async () => {
    await mesh.create({ nodes: 3, governors: 2, policyQuorum: 2 })
    nodes = mesh.nodes
    await mesh.start(nodes[0]!)
    await Promise.all(nodes.slice(1).map(n => mesh.start(n, { bootstrap: [nodes[0]!] })))
    original = (await mesh.waitConverged(nodes)).policyDigest
    for (const [name, doc] of Object.entries(docs)) {
      files[name] = join(mesh.root, `${name}.json`)
      writeFileSync(files[name], JSON.stringify(doc))
    }
  }, 180_000)
  afterAll(async () => { await mesh.cleanup() })

  it('genesis --policy-quorum sets the quorum every node reports', async () => {
    for (const n of nodes) {
      const gov = await mesh.get<{ quorums: { policy: number } }>(n, '/v1/governance')
      expect(gov.quorums.policy).toBe(2)
    }
  })

  it('one approval changes nothing anywhere', async () => {
    const first = await apply(files.p!, 0, nodes[0]!)
    expect(first).toMatchObject({ applied: false, approvals: 1, quorum: 2 })
    expect(first.cid).toBeUndefined()
    // Another governor's approval of other bytes (another policy) is another proposal: it completes nothing.
    const other = await apply(files.q!, 1, nodes[0]!)
    expect(other).toMatchObject({ applied: false, approvals: 1, quorum: 2 })
    expect(await digests()).toEqual([original, original, original])
    const log = await mesh.get<{ entries: unknown[] }>(nodes[0]!, '/v1/dag/log?type=policy.update')
    expect(log.entries).toEqual([])
  })

  it('an entry carrying an approval of other bytes is rejected by every node', async () => {
    const g1 = mesh.governors[0]!
    const g2 = mesh.governors[1]!
    const update = policyUpdateFor(fromBase64((await mesh.get<{ state: string }>(nodes[0]!, '/v1/policy')).state),
      parsePolicyDocument(docs.q))!
    const otherBytes = policyUpdateFor(null, parsePolicyDocument(docs.p))!
    const approval = approveGovernance(
      { mesh: CID.parse(mesh.meshId), type: 'policy.update', body: { update: otherBytes } }, g1
    )
    const pos = await mesh.get<{ seq: number, prev: string | null, parents: string[] }>(
      nodes[0]!, `/v1/dag/next?author=${toHex(g2.publicKey)}`
    )
    const entry = createEntry({
      mesh: CID.parse(mesh.meshId), seq: pos.seq, prev: pos.prev === null ? null : CID.parse(pos.prev),
      parents: pos.parents.map(p => CID.parse(p)), type: 'policy.update', body: {
        update, approvals: [approval]
      }, time: Date.now()
    }, g2)
    for (const n of nodes) {
      const r = await mesh.post(n, '/v1/entries', { entry: toBase64(entry.bytes) })
      expect(r.status).toBe(422)
      expect(r.body).toMatchObject({ results: [{ status: 'rejected', reason: 'entry.bad-signature' }] })
    }
    // The same entry without the approval falls short of the quorum.
    const alone = createEntry({ ...entry.entry, body: { update } }, g2)
    const r = await mesh.post(nodes[1]!, '/v1/entries', { entry: toBase64(alone.bytes) })
    expect(r.body).toMatchObject({ results: [{ status: 'rejected', reason: 'governance.quorum' }] })
    expect(await digests()).toEqual([original, original, original])
  })

  it('the second governor\'s approval of the same policy applies it everywhere with one digest', async () => {
    const second = await apply(files.p!, 1, nodes[0]!)
    expect(second).toMatchObject({ applied: true, approvals: 2, quorum: 2 })
    expect(second.cid).toMatch(/^bafy/)
    const converged = await waitFor('one new digest everywhere', async () => {
      const all = await digests()
      return all.every(d => d === all[0] && d !== original) ? all[0] : undefined
    })
    expect(converged).toBe(second.digest)
    const entry = await mesh.get<{
      body: { approvals: Array<{ governor: string }> }
    }>(nodes[2]!, `/v1/dag/entries/${second.cid!}`)
    expect(entry.body.approvals.length).toBe(2)
    const diff = await govmesh(['policy', 'diff', files.p!, '--data-dir', nodes[2]!.dir, '--json'])
    expect(JSON.parse(diff.stdout)).toMatchObject({ changed: false })
  })
})
