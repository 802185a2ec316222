import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { govmesh, TestMesh, waitFor, type NodeHandle } from './helpers/cluster.js'

interface ExecJson {
  ok: boolean
  result: unknown
  resultCid?: string
  refusalCid?: string
  reason: string | null
  detail: string | null
  route: string[] | null
  lineage: string[]
}
interface EntryJson { type: string, authorPeerId: string, body: Record<string, unknown> }
interface TrustJson { peers: Array<{ peerId: string, status: string }> }

/**
 * Route planning over real processes: zones a → b → c with one member each, the demo policy
 * (a→b, b→c) plus a `sleep` rule for the deadline case.
 */
describe('governed route planning and shrinking deadlines across real nodes', () => {
  const mesh = new TestMesh()
  let na: NodeHandle, nb: NodeHandle, nc: NodeHandle
  const demo = JSON.parse(
    readFileSync(new URL('../testnet/policies/demo.json', import.meta.url), 'utf8')
  ) as { rules: unknown[] }

  async function exec (at: NodeHandle, args: string[], json = true): Promise<{ code: number, out: string }> {
    const r = await govmesh(
      ['exec', '--resource', 'jobs/1', '--data-dir', at.dir, ...(json ? ['--json'] : []), ...args]
    )
    if (r.code !== 0 && r.code !== 3) throw new Error(`exec exited ${r.code}: ${r.stderr}`)
    return { code: r.code, out: r.stdout }
  }
  async function entry (at: NodeHandle, cid: string): Promise<EntryJson> {
    return await mesh.get<EntryJson>(at, `/v1/dag/entries/${cid}`)
  }
  async function waitStatus (subject: NodeHandle, status: string, observers: NodeHandle[]): Promise<void> {
    await waitFor(`${subject.name} ${status}`, async () => {
      const all = await Promise.all(observers.map(async o => (await mesh.get<TrustJson>(o, '/v1/trust')).peers))
      return all.every(peers => peers.find(p => p.peerId === subject.peerId)?.status === status)
    }, 20_000, 50)
  }

  beforeAll(async () => {
    await mesh.create({
      nodes: 3,
      zones: ['a', 'b', 'c'],
      policy: {
        ...demo,
        rules: [...demo.rules, { id: 'sleep-local', effect: 'allow', principals: ['local'], actions: ['sleep'] }],
        timing: { heartbeatMs: 300, staleMs: 2000, driftGraceMs: 1500 }
      }
    })
    ;[na, nb, nc] = mesh.nodes as [NodeHandle, NodeHandle, NodeHandle]
    await mesh.start(na)
    await Promise.all([nb, nc].map(n => mesh.start(n, { bootstrap: [na] })))
    for (const n of [na, nb, nc]) await waitStatus(n, 'trusted', [na, nb, nc].filter(o => o !== n))
  })
  afterAll(async () => { await mesh.cleanup() })

  it('without --route, an exec from zone a to zone:c is planned a → b → c, and its lineage names the route', async () => {
    const { code, out } = await exec(na, ['--action', 'echo', '--target', 'zone:c', '--payload', '{"n":1}'])
    const json = JSON.parse(out) as ExecJson
    expect(code, out).toBe(0)
    expect(json.ok).toBe(true)
    expect(json.route).toEqual([nb.peerId, nc.peerId])
    const chain = await Promise.all(json.lineage.map(cid => entry(na, cid)))
    expect(chain.map(e => e.type)).toEqual(['exec.request', 'exec.hop', 'exec.hop', 'exec.result'])
    expect(chain.map(e => e.authorPeerId)).toEqual([na.peerId, nb.peerId, nc.peerId, nc.peerId])
    // The request records the planned path; each hop names the next planned peer.
    expect(chain[0]!.body.path).toEqual([nb.peerId, nc.peerId])
    expect(chain[0]!.body.route).toEqual([])
    expect(chain[1]!.body.next).toBe(nc.peerId)

    const human = await exec(na, ['--action', 'echo', '--target', 'zone:c'], false)
    expect(human.code).toBe(0)
    expect(human.out).toContain(`route: ${na.peerId} → ${nb.peerId} → ${nc.peerId}`)
  })

  it('an explicit --route is still honoured and checked at the origin', async () => {
    const direct = JSON.parse(
      (await exec(na, ['--action', 'echo', '--target', 'zone:c', '--route', nc.peerId])).out
    ) as ExecJson
    expect(direct.reason).toBe('zone.transition')
    expect(direct.detail).toContain('a → c')
    expect((await entry(na, direct.refusalCid!)).authorPeerId).toBe(na.peerId)
    const via = JSON.parse(
      (await exec(na, ['--action', 'echo', '--target', nc.peerId, '--route', nb.peerId])).out
    ) as ExecJson
    expect(via.ok).toBe(true)
    expect(via.route).toEqual([nb.peerId, nc.peerId])
  })

  it('the deadline shrinks along the path: the executor refuses with timeout before the caller\'s deadline', async () => {
    const t0 = Date.now()
    const res = await mesh.post(
      na, '/v1/exec', { action: 'sleep', resource: 'jobs/1', target: 'zone:c', payload: { ms: 8000 }, timeoutMs: 1500 }
    )
    const elapsed = Date.now() - t0
    expect(res.status).toBe(200)
    const body = res.body as ExecJson
    expect(body.ok).toBe(false)
    expect(body.reason).toBe('timeout')
    // Answered within the caller's deadline (plus HTTP overhead), not after the 8 s sleep.
    expect(elapsed).toBeLessThan(1500 + 400)
    expect(elapsed).toBeGreaterThan(800)
    const refusal = await entry(na, body.refusalCid!)
    expect(refusal.authorPeerId).toBe(nc.peerId)
    expect(refusal.body.reason).toBe('timeout')
    expect(body.lineage).toHaveLength(4)

    const tooShort = await mesh.post(
      na, '/v1/exec', { action: 'echo', resource: 'jobs/1', target: 'zone:c', timeoutMs: 1 }
    )
    expect(tooShort.status).toBe(200)
    expect((tooShort.body as ExecJson).reason).toBe('timeout')
  })

  it('a forwarder whose next node hangs refuses with timeout within the caller\'s deadline', async () => {
    // Zone c's node stops answering (SIGSTOP) while still trusted: node b must give up in time.
    nc.proc!.kill('SIGSTOP')
    try {
      const t0 = Date.now()
      const res = await mesh.post(
        na, '/v1/exec', { action: 'echo', resource: 'jobs/1', target: 'zone:c', timeoutMs: 1500 }
      )
      const elapsed = Date.now() - t0
      const body = res.body as ExecJson
      expect(body.reason).toBe('timeout')
      expect(elapsed).toBeLessThan(1500 + 400)
      const refusal = await entry(na, body.refusalCid!)
      // The forwarder gives up 200 ms (HOP_RESERVE_MS) before the origin does; on a starved machine its answer
      // can still arrive late, and then the origin refuses, in time too. Either way the caller is answered in time.
      expect([nb.peerId, na.peerId]).toContain(refusal.authorPeerId)
      const silent = refusal.authorPeerId === nb.peerId ? nc.peerId : nb.peerId
      expect(String(refusal.body.detail)).toContain(`no answer from ${silent}`)
    } finally {
      nc.proc!.kill('SIGCONT')
    }
    await waitStatus(nc, 'trusted', [na, nb])
  })

  it('with zone b\'s only member quarantined, the exec to zone:c is refused with the reason naming it', async () => {
    const rep = await govmesh(['trust', 'report', nb.peerId, '--reason', 'suspicious', '--data-dir', nc.dir, '--json'])
    expect(rep.code, rep.stderr).toBe(0)
    await waitStatus(nb, 'quarantined', [na, nc])
    const { code, out } = await exec(na, ['--action', 'echo', '--target', 'zone:c'])
    const json = JSON.parse(out) as ExecJson
    expect(code).toBe(3)
    expect(json.reason).toBe('trust.quarantined')
    expect(json.detail).toContain(nb.peerId)
    expect(json.route).toBeNull()
    expect(json.lineage).toHaveLength(2)
    expect((await entry(na, json.refusalCid!)).authorPeerId).toBe(na.peerId)
  })
})
