/**
 * Group commit keeps "acknowledged means durable": with --fsync and many writers at
 * once (sharing level batches and fsyncs), kill -9 loses no acknowledged entry.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { toBase64 } from '@govmesh/core'
import { govmesh, MemberWriter, TestMesh, waitFor, type NodeHandle } from './helpers/cluster.js'

const WRITERS = 8
const PER_WRITER = 200

describe('crash safety with concurrent writers', () => {
  const mesh = new TestMesh()
  afterAll(async () => { await mesh.cleanup() })

  it('kill -9 during concurrent writes (--fsync, group commit) loses no acknowledged entry', async () => {
    const writers = Array.from({ length: WRITERS }, () => new MemberWriter())
    await mesh.create({ nodes: 1, extraMembers: writers.map(w => ({ keys: w.keys, zone: 'a' })) })
    for (const w of writers) w.open(mesh.genesisPath)
    const [n1] = mesh.nodes as [NodeHandle]
    await mesh.start(n1, { extraArgs: ['--fsync'] })
    const acknowledged: string[] = []
    let refused = 0
    // Each writer posts its own chain one entry at a time; the writers run at once.
    const runs = writers.map(async (w) => {
      for (const e of w.next(PER_WRITER)) {
        try {
          const r = await mesh.post(n1, '/v1/entries', { entry: toBase64(e.bytes) })
          if (r.status === 200) acknowledged.push(e.id)
          else refused++
        } catch {
          return // connection refused or reset: the node is gone
        }
      }
    })
    await waitFor('writes to be acknowledged', () => acknowledged.length > 400, 60_000)
    const metrics = await mesh.metrics(n1)
    const batches = Number(/^govmesh_store_batches (\d+)/m.exec(metrics)?.[1])
    const writes = Number(/^govmesh_store_batched_writes (\d+)/m.exec(metrics)?.[1])
    n1.proc!.kill('SIGKILL')
    await n1.exited
    await Promise.all(runs)
    expect(n1.proc!.signalCode).toBe('SIGKILL')
    expect(refused).toBe(0)
    expect(acknowledged.length).toBeLessThan(WRITERS * PER_WRITER)
    // Concurrent writers did share batches (and so fsyncs).
    expect(writes).toBeGreaterThan(batches)

    await mesh.start(n1)
    const status = await mesh.status(n1)
    expect(status.entries).toBeGreaterThanOrEqual(acknowledged.length + 1)
    const present = await Promise.all(
      acknowledged.map(async cid => (await fetch(`${n1.api!}/v1/dag/entries/${cid}`)).status)
    )
    expect(present.filter(s => s !== 200)).toEqual([])
    for (const w of writers) {
      // Each author's chain is contiguous up to its frontier: nothing stored past a gap.
      const hex = Buffer.from(w.keys.publicKey).toString('hex')
      const seq = status.frontier[hex] ?? 0
      const log = await mesh.get<{ entries: Array<{ seq: number }> }>(n1, `/v1/dag/log?author=${hex}&limit=10000`)
      expect(log.entries.map(e => e.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: seq }, (_, i) => i + 1))
    }
    await mesh.stop(n1)
    const fsck = await govmesh(['dag', 'verify', '--data-dir', n1.dir, '--json'])
    expect(fsck.code, fsck.stdout + fsck.stderr).toBe(0)
    expect(JSON.parse(fsck.stdout)).toMatchObject({ ok: true, problems: [] })
  }, 120_000)
})
