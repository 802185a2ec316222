/**
 * Sealed lineage (protocol v2, docs/LINEAGE-BATCHES.md) over a real node: concurrent
 * executions share batch signatures (group commit, no timer), and kill -9 in the middle of
 * them loses no acknowledged execution record.
 */
import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { govmesh, TestMesh, waitFor, type NodeHandle } from './helpers/cluster.js'

const CLIENTS = 16

interface ExecAnswer { ok: boolean, lineage: string[], resultCid?: string }
interface EntryJson { cid: string, type: string, seq: number, sig: string, seal?: { root: string, count: number } }

describe('sealed lineage at a node', () => {
  const mesh = new TestMesh()
  afterAll(async () => { await mesh.cleanup() })

  it('concurrent executions share batches; kill -9 during them loses no acknowledged record', async () => {
    const policy = JSON.parse(
      readFileSync(new URL('../testnet/policies/demo.json', import.meta.url), 'utf8')
    ) as Record<string, unknown>
    await mesh.create({ nodes: 1, zones: ['a'], policy })
    const [n1] = mesh.nodes as [NodeHandle]
    await mesh.start(n1, { extraArgs: ['--fsync'] })

    const acknowledged: string[] = []
    let answered = 0
    const runs = Array.from({ length: CLIENTS }, async (_, c) => {
      for (let k = 0; ; k++) {
        let res: { status: number, body: unknown }
        try {
          res = await mesh.post(n1, '/v1/exec', { action: 'echo', resource: `sealed/${c}/${k}`, target: n1.peerId })
        } catch {
          return // the node is gone
        }
        const body = res.body as ExecAnswer
        expect(res.status).toBe(200)
        expect(body.ok).toBe(true)
        answered++
        acknowledged.push(...body.lineage)
      }
    })
    await waitFor('executions to be acknowledged', () => answered >= 100, 60_000)
    n1.proc!.kill('SIGKILL')
    await n1.exited
    await Promise.all(runs)
    expect(n1.proc!.signalCode).toBe('SIGKILL')

    await mesh.start(n1)
    const views = await Promise.all(acknowledged.map(async cid => {
      const res = await fetch(`${n1.api!}/v1/dag/entries/${cid}`)
      return res.status === 200 ? await res.json() as EntryJson : res.status
    }))
    // Every acknowledged request and result survived, as a sealed (v2) entry.
    expect(views.filter(v => typeof v === 'number')).toEqual([])
    const entries = views as EntryJson[]
    expect(entries.every(e => e.seal !== undefined)).toBe(true)
    expect(new Set(entries.map(e => e.type))).toEqual(new Set(['exec.request', 'exec.result']))
    // Group commit had teeth: records written while a seal was in flight shared the next one.
    const batches = new Map<string, number>()
    for (const e of entries) batches.set(e.seal!.root, e.seal!.count)
    expect(Math.max(...batches.values())).toBeGreaterThan(1)
    expect(batches.size).toBeLessThan(entries.length)
    // The own chain is contiguous: nothing stored past a gap.
    const status = await mesh.status(n1)
    const hex = Buffer.from(n1.keys.publicKey).toString('hex')
    const top = status.frontier[hex] ?? 0
    const log = await mesh.get<{ entries: Array<{ seq: number }> }>(n1, `/v1/dag/log?author=${hex}&limit=10000`)
    expect(log.entries.map(e => e.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: top }, (_, i) => i + 1))
    // After the restart it seals on top of what it kept.
    const after = await mesh.post(n1, '/v1/exec', { action: 'echo', resource: 'after', target: n1.peerId })
    expect((after.body as ExecAnswer).ok).toBe(true)
    await mesh.stop(n1)
    const fsck = await govmesh(['dag', 'verify', '--data-dir', n1.dir, '--json'])
    expect(fsck.code, fsck.stdout + fsck.stderr).toBe(0)
    expect(JSON.parse(fsck.stdout)).toMatchObject({ ok: true, problems: [] })
  }, 120_000)
})
