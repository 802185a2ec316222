import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toBase64 } from '@govmesh/core'
import { admitMember, govmesh, MemberWriter, TestMesh, waitFor, type NodeHandle } from './helpers/cluster.js'

describe('replication across real node processes', () => {
  const mesh = new TestMesh()
  let n1: NodeHandle, n2: NodeHandle, n3: NodeHandle

  beforeAll(async () => {
    await mesh.create({ nodes: 3, zones: ['a', 'b', 'c'] })
    ;[n1, n2, n3] = mesh.nodes as [NodeHandle, NodeHandle, NodeHandle]
    await mesh.start(n1)
    await Promise.all([mesh.start(n2, { bootstrap: [n1] }), mesh.start(n3, { bootstrap: [n1] })])
  })
  afterAll(async () => { await mesh.cleanup() })

  it('a policy applied through node 3 reaches all three nodes with one digest and the same heads', async () => {
    const before = await mesh.status(n1)
    const policy = join(mesh.root, 'policy-v2.json')
    writeFileSync(policy, JSON.stringify({
      rules: [
        { id: 'echo-local', effect: 'allow', principals: ['local'], actions: ['echo'] },
        { id: 'no-shell', effect: 'deny', principals: ['*'], actions: ['shell.*'] }
      ],
      transitions: [['a', 'b'], ['b', 'c']]
    }))
    const applied = await govmesh(
      ['policy', 'apply', policy, '--governor', mesh.governorKeyPath(), '--data-dir', n3.dir, '--json']
    )
    expect(applied.code, applied.stderr).toBe(0)
    const { cid, digest } = JSON.parse(applied.stdout) as { cid: string, digest: string }
    expect(digest).not.toBe(before.policyDigest)
    const converged = await mesh.waitConverged([n1, n2, n3])
    expect(converged.policyDigest).toBe(digest)
    expect(converged.heads).toEqual([cid])
    // Every node serves the entry itself, signed by the governor.
    for (const n of [n1, n2, n3]) {
      const e = await mesh.get<{ type: string, authorPeerId: string, signature: string }>(n, `/v1/dag/entries/${cid}`)
      expect(e.type).toBe('policy.update')
      expect(e.signature).toBe('valid')
    }
    // status --json carries the documented fields.
    const st = await govmesh(['status', '--data-dir', n2.dir, '--json'])
    const s = JSON.parse(st.stdout) as Record<string, unknown>
    for (
      const k of ['peerId', 'addrs', 'meshId', 'policyDigest', 'heads', 'entries', 'peers', 'frontier']
    ) expect(s).toHaveProperty(k)
    expect((s.addrs as string[]).every(a => a.includes('/p2p/'))).toBe(true)
  })

  it('a stopped node catches up through sync after the mesh moved on', async () => {
    await mesh.stop(n2)
    const policy = join(mesh.root, 'policy-v3.json')
    writeFileSync(
      policy, JSON.stringify({ rules: [{ id: 'echo-any', effect: 'allow', principals: ['*'], actions: ['echo'] }] })
    )
    const r = await govmesh(['policy', 'apply', policy, '--governor', mesh.governorKeyPath(), '--data-dir', n1.dir])
    expect(r.code, r.stderr).toBe(0)
    const newcomer = await mesh.initNode()
    const admitted = await govmesh(
      [
        'member', 'admit', newcomer.peerId, '--zone', 'b', '--governor', mesh.governorKeyPath(), '--data-dir', n3.dir,
        '--json'
      ]
    )
    expect(admitted.code, admitted.stderr).toBe(0)
    const moved = await mesh.waitConverged([n1, n3])
    await mesh.start(n2, { bootstrap: [n1] })
    const caught = await mesh.waitConverged([n1, n2, n3])
    expect(caught.heads).toEqual(moved.heads)
    expect(caught.policyDigest).toBe(moved.policyDigest)
    const gov = await mesh.get<{ members: Array<{ key: string, zone: string }> }>(n2, '/v1/governance')
    expect(gov.members.map(m => m.zone).sort()).toEqual(['a', 'b', 'b', 'c'])
  })

  it('a node started late with an empty store catches up 1,000+ entries', async () => {
    const writer = new MemberWriter().open(mesh.genesisPath)
    const admit = await admitMember(mesh, n1, writer.keys)
    await writer.learn(mesh, n1, admit.id)
    const entries = writer.next(1200)
    for (let i = 0; i < entries.length; i += 100) {
      const res = await mesh.post(n1, '/v1/entries', { entries: entries.slice(i, i + 100).map(e => toBase64(e.bytes)) })
      expect(res.status).toBe(200)
    }
    const late = await mesh.initNode()
    const admitted = await govmesh(
      ['member', 'admit', late.peerId, '--zone', 'a', '--governor', mesh.governorKeyPath(), '--data-dir', n1.dir]
    )
    expect(admitted.code, admitted.stderr).toBe(0)
    await mesh.waitConverged([n1, n2, n3])
    await mesh.start(late, { bootstrap: [n2] })
    const all = await mesh.waitConverged([n1, n2, n3, late], 60_000)
    expect(all.entries).toBeGreaterThan(1200)
    const lateStatus = await mesh.status(late)
    expect(lateStatus.frontier[Buffer.from(writer.keys.publicKey).toString('hex')]).toBe(1200)
    // Sync, not gossip, delivered the history: the late node counts received sync entries.
    const metrics = await mesh.metrics(late)
    const received = Number(/govmesh_sync_entries_total\{direction="received"\} (\d+)/.exec(metrics)?.[1] ?? 0)
    expect(received).toBeGreaterThanOrEqual(1200)
  }, 150_000) // 1,200 writes, an admission and a 60 s catch-up: more than the default 60 s on a starved machine

  it('stops cleanly on SIGINT', async () => {
    const code = await mesh.stop(n3, 'SIGINT')
    expect(code).toBe(0)
    expect(n3.log.some(l => l.includes('"msg":"node stopped"'))).toBe(true)
    await waitFor('n3 to restart', () => mesh.start(n3, { bootstrap: [n1] }).then(() => true))
  })
})
