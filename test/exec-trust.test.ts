import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { measureRuntime } from '@govmesh/node'
import { govmesh, TestMesh, waitFor, type NodeHandle } from './helpers/cluster.js'

interface ExecJson {
  ok: boolean, result: unknown, resultCid?: string, refusalCid?: string, reason: string | null, lineage: string[]
}
interface TrustJson {
  self: { status: string }, peers: Array<{ peerId: string, status: string, entries: string[], reasons: string[] }>
}

describe('governed execution and fail-closed trust across real nodes', () => {
  const mesh = new TestMesh()
  let n1: NodeHandle, n2: NodeHandle, n3: NodeHandle, n4: NodeHandle
  const demo = JSON.parse(
    readFileSync(new URL('../testnet/policies/demo.json', import.meta.url), 'utf8')
  ) as { rules: unknown[] }

  async function exec (at: NodeHandle, args: string[]): Promise<{ code: number, json: ExecJson }> {
    const r = await govmesh(['exec', '--resource', 'jobs/1', '--data-dir', at.dir, '--json', ...args])
    if (r.code !== 0 && r.code !== 3) throw new Error(`exec exited ${r.code}: ${r.stderr}`)
    return { code: r.code, json: JSON.parse(r.stdout) as ExecJson }
  }
  async function statusAt (at: NodeHandle, subject: NodeHandle): Promise<string | undefined> {
    const t = await mesh.get<TrustJson>(at, '/v1/trust')
    return t.peers.find(p => p.peerId === subject.peerId)?.status
  }
  async function waitStatusEverywhere (
    subject: NodeHandle, status: string, observers: NodeHandle[], timeoutMs = 20_000
  ): Promise<void> {
    await waitFor(`${subject.name} ${status} everywhere`, async () => {
      const all = await Promise.all(observers.map(o => statusAt(o, subject)))
      return all.every(s => s === status)
    }, timeoutMs, 50)
  }
  async function entryType (at: NodeHandle, cid: string): Promise<string> {
    return (await mesh.get<{ type: string }>(at, `/v1/dag/entries/${cid}`)).type
  }

  beforeAll(async () => {
    await mesh.create({
      nodes: 4,
      zones: ['a', 'a', 'b', 'c'],
      governors: 2,
      restoreQuorum: 2,
      policy: {
        ...demo,
        rules: [
          ...demo.rules,
          { id: 'signed-only', effect: 'allow', principals: ['*'], actions: ['secure'], requireSigned: true },
          { id: 'no-secret', effect: 'deny', principals: ['*'], actions: ['echo'], resources: ['secret/*'] }
        ],
        measurements: [measureRuntime()],
        timing: { heartbeatMs: 300, staleMs: 2000, driftGraceMs: 1500 }
      }
    })
    ;[n1, n2, n3, n4] = mesh.nodes as [NodeHandle, NodeHandle, NodeHandle, NodeHandle]
    await mesh.start(n1)
    await Promise.all([n2, n3, n4].map(n => mesh.start(n, { bootstrap: [n1] })))
    for (const n of [n1, n2, n3, n4]) await waitStatusEverywhere(n, 'trusted', [n1, n2, n3, n4].filter(o => o !== n))
  })
  afterAll(async () => { await mesh.cleanup() })

  it('an exec from node 1 to zone c via node 3 succeeds: request → hop → hop → result, by three nodes', async () => {
    const { code, json } = await exec(
      n1, ['--action', 'echo', '--target', 'zone:c', '--route', n3.peerId, '--payload', '{"n":1}']
    )
    expect(code).toBe(0)
    expect(json.ok).toBe(true)
    expect(json.result).toEqual({ action: 'echo', resource: 'jobs/1', payload: { n: 1 } })
    expect(json.lineage).toHaveLength(4)
    const anc = await govmesh(['dag', 'ancestry', json.resultCid!, '--data-dir', n1.dir, '--json'])
    const entries = (
      JSON.parse(anc.stdout) as { entries: Array<{ cid: string, type: string, authorPeerId: string }> }
    ).entries
    const chain = json.lineage.map(cid => entries.find(e => e.cid === cid)!)
    expect(chain.map(e => e.type)).toEqual(['exec.request', 'exec.hop', 'exec.hop', 'exec.result'])
    expect(chain.map(e => e.authorPeerId)).toEqual([n1.peerId, n3.peerId, n4.peerId, n4.peerId])
    expect(new Set(chain.map(e => e.authorPeerId)).size).toBe(3)
    // Execution records are sealed (protocol v2): each carries its batch root and inclusion path.
    for (const cid of json.lineage) {
      const view = await mesh.get<{ seal?: { count: number, index: number } }>(n1, `/v1/dag/entries/${cid}`)
      expect(view.seal, cid).toMatchObject({ count: expect.any(Number), index: expect.any(Number) })
    }

    // The lineage exports as a CAR proof that verifies offline against the genesis alone.
    const car = join(mesh.root, 'proof.car')
    const exported = await govmesh(['dag', 'export', json.resultCid!, '--out', car, '--data-dir', n2.dir])
    expect(exported.code, exported.stderr).toBe(0)
    const verified = await govmesh(['proof', 'verify', car, '--genesis', mesh.genesisPath, '--json'])
    expect(verified.code, verified.stderr).toBe(0)
    const verdict = JSON.parse(verified.stdout) as { valid: boolean, hops: Array<{ type: string, zone: string }> }
    expect(verdict.valid).toBe(true)
    expect(verdict.hops.map(h => `${h.type}@${h.zone}`)).toEqual(
      ['exec.request@a', 'exec.hop@b', 'exec.hop@c', 'exec.result@c']
    )
    const bytes = readFileSync(car)
    bytes[bytes.length - 40] = bytes[bytes.length - 40]! ^ 1
    writeFileSync(car, bytes)
    const tampered = await govmesh(['proof', 'verify', car, '--genesis', mesh.genesisPath, '--json'])
    expect(tampered.code).toBe(1)
    expect((JSON.parse(tampered.stdout) as { reason: string }).reason).toBe('proof.cid-mismatch')
  })

  it('policy denies, hop limits, forbidden zone transitions and unsigned requests are refused with their reason', async () => {
    const denied = await exec(n1, ['--action', 'deploy', '--target', 'zone:b'])
    expect(denied.code).toBe(3)
    expect(denied.json.reason).toBe('policy.denied')
    expect(await entryType(n1, denied.json.refusalCid!)).toBe('exec.refuse')
    const secret = await exec(n1, ['--action', 'echo', '--resource', 'secret/keys', '--target', 'zone:b'])
    expect(secret.json.reason).toBe('policy.denied')
    const hops = await exec(
      n1, ['--action', 'echo', '--target', 'zone:c', '--route', [n2, n3, n2, n3].map(n => n.peerId).join(',')]
    )
    expect(hops.json.reason).toBe('hops.exceeded')
    // a → c directly, by an explicit route: the origin checks the route and refuses the transition, and records it.
    const jump = await exec(n1, ['--action', 'echo', '--target', n4.peerId, '--route', n4.peerId])
    expect(jump.json.reason).toBe('zone.transition')
    expect(jump.json.lineage).toEqual([jump.json.lineage[0], jump.json.refusalCid])
    expect(await entryType(n1, jump.json.refusalCid!)).toBe('exec.refuse')
    const unsigned = await exec(n1, ['--action', 'secure', '--target', 'zone:b'])
    expect(unsigned.json.reason).toBe('policy.denied')
    const agentKey = join(mesh.root, 'agent.key')
    await govmesh(['keygen', '--out', agentKey])
    const signedReq = await exec(n1, ['--action', 'secure', '--target', 'zone:b', '--key', agentKey])
    // Allowed by policy everywhere; node 3 has no executor for "secure", so it refuses at execution.
    expect(signedReq.json.reason).toBe('policy.denied')
    expect(signedReq.json.lineage.length).toBe(3)
    const req = await mesh.get<{
      body: { principal: string, agent: { key: string } }
    }>(n1, `/v1/dag/entries/${signedReq.json.lineage[0]!}`)
    expect(req.body.principal).toBe(req.body.agent.key)
  })

  it('a report about node 3 makes every node refuse executions to, from and through it', async () => {
    const rep = await govmesh(['trust', 'report', n3.peerId, '--reason', 'suspicious', '--data-dir', n2.dir, '--json'])
    expect(rep.code, rep.stderr).toBe(0)
    const failCid = (JSON.parse(rep.stdout) as { cid: string }).cid
    await waitStatusEverywhere(n3, 'quarantined', [n1, n2, n4])
    const t = await mesh.get<TrustJson>(n1, '/v1/trust')
    expect(t.peers.find(p => p.peerId === n3.peerId)!.entries).toContain(failCid)
    const through = await exec(n1, ['--action', 'echo', '--target', 'zone:c', '--route', n3.peerId])
    expect(through.code).toBe(3)
    expect(through.json.reason).toBe('trust.quarantined')
    expect(await entryType(n1, through.json.refusalCid!)).toBe('exec.refuse')
    const to = await exec(n4, ['--action', 'echo', '--target', n3.peerId])
    expect(to.json.reason).toBe('trust.quarantined')
    const from = await exec(n3, ['--action', 'echo', '--target', 'zone:c'])
    expect(from.json.reason).toBe('self.quarantined')
    const zone = await exec(n1, ['--action', 'echo', '--target', 'zone:b'])
    expect(zone.json.reason).toBe('trust.quarantined')
  })

  it('only a governor quorum naming the failure restores; a later report quarantines again', async () => {
    const member = await govmesh(
      ['trust', 'restore', n3.peerId, '--governor', join(n2.dir, 'node.key'), '--data-dir', n1.dir, '--json']
    )
    expect(member.code).not.toBe(0)
    expect(member.stderr).toMatch(/not a governor/)
    const one = await govmesh(
      ['trust', 'restore', n3.peerId, '--governor', mesh.governorKeyPath(0), '--data-dir', n1.dir, '--json']
    )
    expect(one.code, one.stderr).toBe(0)
    expect(JSON.parse(one.stdout)).toMatchObject({ restored: false, approvals: 1, quorum: 2 })
    expect(await statusAt(n1, n3)).toBe('quarantined')
    const two = await govmesh(
      ['trust', 'restore', n3.peerId, '--governor', mesh.governorKeyPath(1), '--data-dir', n1.dir, '--json']
    )
    expect(two.code, two.stderr).toBe(0)
    expect(JSON.parse(two.stdout)).toMatchObject({ restored: true, approvals: 2 })
    await waitStatusEverywhere(n3, 'trusted', [n1, n2, n4])
    const flows = await exec(n1, ['--action', 'echo', '--target', 'zone:c', '--route', n3.peerId])
    expect(flows.json.ok).toBe(true)
    const again = await govmesh(['trust', 'report', n3.peerId, '--reason', 'again', '--data-dir', n4.dir])
    expect(again.code, again.stderr).toBe(0)
    await waitStatusEverywhere(n3, 'quarantined', [n1, n2, n4])
  })

  it('a node whose measurement is outside the allowlist is quarantined automatically, with evidence', async () => {
    const tampered = await mesh.initNode()
    const admit = await govmesh(
      ['member', 'admit', tampered.peerId, '--zone', 'b', '--governor', mesh.governorKeyPath(0), '--data-dir', n1.dir]
    )
    expect(admit.code, admit.stderr).toBe(0)
    await mesh.start(tampered, { bootstrap: [n1], extraArgs: ['--measurement', 'deadbeef'] })
    await waitStatusEverywhere(tampered, 'quarantined', [n1, n2, n4])
    const t = await mesh.get<TrustJson>(n1, '/v1/trust')
    const failCid = t.peers.find(p => p.peerId === tampered.peerId)!.entries[0]!
    const fail = await mesh.get<{
      type: string, body: { detector: string, evidence: { heartbeat: string } }
    }>(n1, `/v1/dag/entries/${failCid}`)
    expect(fail.type).toBe('trust.fail')
    expect(fail.body.detector).toBe('measurement')
    expect(fail.body.evidence.heartbeat.length).toBeGreaterThan(100)
    await mesh.stop(tampered)
  })

  it('a node whose heartbeats stop becomes stale; one advertising another policy digest becomes drifted', async () => {
    await mesh.stop(n4)
    await waitStatusEverywhere(n4, 'stale', [n1, n2])
    const stale = await exec(n1, ['--action', 'echo', '--target', n4.peerId])
    expect(stale.json.reason).toBe('trust.stale')
    await mesh.start(n4, { bootstrap: [n1], extraArgs: ['--advertise-digest', 'ab'.repeat(32)] })
    await waitStatusEverywhere(n4, 'drifted', [n1, n2])
    const drifted = await exec(n1, ['--action', 'echo', '--target', 'zone:c'])
    expect(drifted.json.reason).toBe('trust.drifted')
  })
})
