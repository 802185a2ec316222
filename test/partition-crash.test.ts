import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { toBase64 } from '@govmesh/core'
import { admitMember, govmesh, MemberWriter, TestMesh, waitFor, type NodeHandle } from './helpers/cluster.js'

describe('partition and heal', () => {
  const mesh = new TestMesh()
  afterAll(async () => { await mesh.cleanup() })

  it('two groups advance separately, then converge on reconnect with no entry lost', async () => {
    // The writer is a founding member: in a partition only it writes in group B, because
    // one governor key signing in both groups would be equivocation (and get it cut).
    const writer = new MemberWriter()
    await mesh.create({ nodes: 4, zones: ['a', 'a', 'b', 'b'], extraMembers: [{ keys: writer.keys, zone: 'b' }] })
    writer.open(mesh.genesisPath)
    const [n1, n2, n3, n4] = mesh.nodes as [NodeHandle, NodeHandle, NodeHandle, NodeHandle]
    // Group A = {1, 2}, group B = {3, 4}: no node of one group dials the other.
    await mesh.start(n1)
    await mesh.start(n3)
    await Promise.all([mesh.start(n2, { bootstrap: [n1] }), mesh.start(n4, { bootstrap: [n3] })])
    await waitFor(
      'groups to form', async () => (await mesh.status(n2)).peers >= 1 && (await mesh.status(n4)).peers >= 1
    )

    // Group A: a policy change. Group B: a member writes entries.
    const policy = join(mesh.root, 'policy-a.json')
    writeFileSync(
      policy,
      JSON.stringify({ rules: [{ id: 'group-a', effect: 'allow', principals: ['local'], actions: ['echo', 'sleep'] }] })
    )
    const applied = await govmesh(
      ['policy', 'apply', policy, '--governor', mesh.governorKeyPath(), '--data-dir', n2.dir, '--json']
    )
    expect(applied.code, applied.stderr).toBe(0)
    const policyCid = (JSON.parse(applied.stdout) as { cid: string }).cid

    const written = writer.next(50)
    const res = await mesh.post(n4, '/v1/entries', { entries: written.map(e => toBase64(e.bytes)) })
    expect(res.status).toBe(200)

    const a = await mesh.waitConverged([n1, n2])
    const b = await mesh.waitConverged([n3, n4])
    expect(a.heads).not.toEqual(b.heads)
    expect(a.policyDigest).not.toBe(b.policyDigest)

    // Heal: one node of B dials one node of A.
    const joined = await govmesh(['join', n1.addrs[0]!, '--data-dir', n3.dir])
    expect(joined.code, joined.stderr).toBe(0)
    const healed = await mesh.waitConverged([n1, n2, n3, n4])
    expect(healed.policyDigest).toBe(a.policyDigest)
    for (const n of [n1, n2, n3, n4]) {
      const has = await Promise.all(
        [policyCid, ...written.map(e => e.id)].map(async cid => (await fetch(`${n.api!}/v1/dag/entries/${cid}`)).status)
      )
      expect(has.every(s => s === 200), n.name).toBe(true)
    }
  })
})

describe('crash safety', () => {
  const mesh = new TestMesh()
  afterAll(async () => { await mesh.cleanup() })

  it('kill -9 during a stream of writes loses no acknowledged entry', async () => {
    await mesh.create({ nodes: 1 })
    const [n1] = mesh.nodes as [NodeHandle]
    await mesh.start(n1)
    const writer = new MemberWriter().open(mesh.genesisPath)
    const admit = await admitMember(mesh, n1, writer.keys)
    await writer.learn(mesh, n1, admit.id)
    const entries = writer.next(400)
    const acknowledged: string[] = [admit.id]
    // Writes go one by one; the kill lands while later writes are in flight.
    const writes = (async () => {
      for (const e of entries) {
        try {
          const r = await mesh.post(n1, '/v1/entries', { entry: toBase64(e.bytes) })
          if (r.status === 200) acknowledged.push(e.id)
        } catch {
          break // connection refused or reset: the node is gone
        }
      }
    })()
    await waitFor('some writes to be acknowledged', () => acknowledged.length > 150)
    n1.proc!.kill('SIGKILL')
    await n1.exited
    await writes
    expect(n1.proc!.signalCode).toBe('SIGKILL')
    expect(acknowledged.length).toBeLessThan(entries.length + 1)

    await mesh.start(n1)
    const status = await mesh.status(n1)
    expect(status.entries).toBeGreaterThanOrEqual(acknowledged.length + 1)
    for (const cid of acknowledged) {
      expect((await fetch(`${n1.api!}/v1/dag/entries/${cid}`)).status, cid).toBe(200)
    }
    // The replayed store is consistent: the author's chain is contiguous up to the frontier.
    const seq = status.frontier[Buffer.from(writer.keys.publicKey).toString('hex')]!
    expect(seq).toBeGreaterThanOrEqual(acknowledged.length - 1)
    const log = await mesh.get<{ entries: Array<{ seq: number }> }>(
      n1, `/v1/dag/log?author=${Buffer.from(writer.keys.publicKey).toString('hex')}&limit=10000`
    )
    expect(log.entries.map(e => e.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: seq }, (_, i) => i + 1))
    // Offline check of the whole store (signatures, chains, writers, indexes) once stopped.
    await mesh.stop(n1)
    const fsck = await govmesh(['dag', 'verify', '--data-dir', n1.dir, '--json'])
    expect(fsck.code, fsck.stdout + fsck.stderr).toBe(0)
    expect(JSON.parse(fsck.stdout)).toMatchObject({ ok: true, problems: [] })
  })
})
