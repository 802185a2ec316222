import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toHex } from '@govmesh/core'
import { govmesh, TestMesh, waitFor, type NodeHandle } from './helpers/cluster.js'

// Real processes on a shared 2-core machine: budgets for load, not for speed.
describe('the governor journal: signing through two nodes of a partition no longer equivocates', {
  timeout: 120_000
}, () => {
  const mesh = new TestMesh()
  let n1: NodeHandle, n2: NodeHandle
  let governorHex = ''

  function policyFile (name: string): string {
    const path = join(mesh.root, `${name}.json`)
    writeFileSync(
      path, JSON.stringify({ rules: [{ id: name, effect: 'allow', principals: ['local'], actions: ['echo'] }] })
    )
    return path
  }
  async function apply (
    name: string, at: NodeHandle, env: Record<string, string> = {}
  ): Promise<{ code: number, stdout: string, stderr: string }> {
    return await govmesh(
      ['policy', 'apply', policyFile(name), '--governor', mesh.governorKeyPath(), '--data-dir', at.dir, '--json'], env
    )
  }
  async function governorSeq (at: NodeHandle): Promise<number> {
    return (await mesh.status(at)).frontier[governorHex] ?? 0
  }

  beforeAll(async () => {
    await mesh.create({ nodes: 2 })
    ;[n1, n2] = mesh.nodes as [NodeHandle, NodeHandle]
    governorHex = toHex(mesh.governors[0]!.publicKey)
    await mesh.start(n1)
    await mesh.start(n2, { bootstrap: [n1] })
    await mesh.waitConverged([n1, n2])
  }, 180_000)
  afterAll(async () => { await mesh.cleanup() })

  it('a node that lacks the key\'s latest entry is refused; after the heal, signing there continues the chain', async () => {
    const first = await apply('one', n1)
    expect(first.code, first.stderr).toBe(0)
    await mesh.waitConverged([n1, n2])
    // Partition: each node refuses the other.
    expect((await mesh.post(n1, '/v1/admin/block', { peers: [n2.peerId] })).status).toBe(200)
    expect((await mesh.post(n2, '/v1/admin/block', { peers: [n1.peerId] })).status).toBe(200)
    const second = await apply('two', n1)
    expect(second.code, second.stderr).toBe(0)
    const seq = await governorSeq(n1)
    expect(await governorSeq(n2)).toBe(seq - 1)

    const refused = await apply('three', n2, { GOVMESH_JOURNAL_WAIT_MS: '500' })
    expect(refused.code).toBe(1)
    expect(JSON.parse(refused.stderr)).toMatchObject({ error: { code: 'cli.stale-view' } })
    expect(await governorSeq(n2)).toBe(seq - 1)

    await mesh.post(n1, '/v1/admin/block', { peers: [] })
    await mesh.post(n2, '/v1/admin/block', { peers: [] })
    // Waiting is the CLI's job now: it signs once the node has caught up.
    const third = await apply('three', n2, { GOVMESH_JOURNAL_WAIT_MS: '30000' })
    expect(third.code, third.stderr).toBe(0)
    await mesh.waitConverged([n1, n2])
    expect(await governorSeq(n1)).toBe(seq + 1)

    // No equivocation anywhere: no evidence, no trust failure, one entry per seq.
    for (const n of [n1, n2]) {
      const trust = await mesh.get<{ failures: unknown[] }>(n, '/v1/trust')
      expect(trust.failures).toEqual([])
      const log = await mesh.get<{ entries: Array<{ seq: number }> }>(n, `/v1/dag/log?author=${governorHex}`)
      const seqs = log.entries.map(e => e.seq)
      expect(new Set(seqs).size).toBe(seqs.length)
    }
    const journal = await govmesh(['governor', 'journal', '--governor', mesh.governorKeyPath(), '--json'])
    expect(JSON.parse(journal.stdout)).toMatchObject({ meshes: { [mesh.meshId]: { seq: seq + 1 } } })
  })

  it('a journal ahead of the node that does not know its entry refuses until reset', async () => {
    const path = `${mesh.governorKeyPath()}.journal`
    writeFileSync(path, JSON.stringify({
      version: 1, author: governorHex, meshes: {
        [mesh.meshId]: { seq: 99, id: 'bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy', time: 0 }
      }
    }))
    const refused = await apply('four', n1, { GOVMESH_JOURNAL_WAIT_MS: '200' })
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/stale view/)
    const reset = await govmesh(['governor', 'journal', '--governor', mesh.governorKeyPath(), '--reset', '--json'])
    expect(JSON.parse(reset.stdout)).toMatchObject({ reset: true })
    const ok = await apply('four', n1)
    expect(ok.code, ok.stderr).toBe(0)
    await waitFor('n2 to have it', async () => (await governorSeq(n2)) === (await governorSeq(n1)))
  })
})
