import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { govmesh, TestMesh, waitFor, type NodeHandle } from './helpers/cluster.js'

interface ExecJson {
  ok: boolean, reason: string | null, lineage: string[], policy: { digest: string, rules: string[] } | null
}
interface Verdict { allow: boolean, reason: string, rules: string[], zone: string }
interface ReplayJson {
  replayed: number,
  changes: Array<{ cid: string, request: { action: string, resource: string }, before: Verdict, after: Verdict }>
}

const LIVE = {
  rules: [{ id: 'echo-all', effect: 'allow', principals: ['local'], actions: ['echo'], zones: ['a', 'b'] }],
  transitions: [['a', 'b']],
  timing: { heartbeatMs: 300, staleMs: 3000, driftGraceMs: 3000 }
}
// Denies secret/* (two recorded requests flip to deny), allows sleep (one refused request flips to allow).
const PROPOSED = {
  ...LIVE,
  rules: [
    { id: 'echo-all', effect: 'allow', principals: ['local'], actions: ['echo', 'sleep'], zones: ['a', 'b'] },
    { id: 'no-secret', effect: 'deny', principals: ['*'], actions: ['*'], resources: ['secret/*'] }
  ]
}

// Real processes on a shared 2-core machine: budgets for load, not for speed.
describe('policy dry runs: test, diff and replay against a mesh with recorded executions', { timeout: 120_000 }, () => {
  const mesh = new TestMesh()
  let n1: NodeHandle, n2: NodeHandle
  let proposedPath = ''
  const recorded: Record<string, string> = {}

  async function exec (action: string, resource: string, target: string): Promise<ExecJson> {
    const r = await govmesh(
      ['exec', '--action', action, '--resource', resource, '--target', target, '--data-dir', n1.dir, '--json']
    )
    if (r.code !== 0 && r.code !== 3) throw new Error(`exec exited ${r.code}: ${r.stderr}`)
    return JSON.parse(r.stdout) as ExecJson
  }

  beforeAll(async () => {
    await mesh.create({ nodes: 2, zones: ['a', 'b'], policy: LIVE })
    ;[n1, n2] = mesh.nodes as [NodeHandle, NodeHandle]
    await mesh.start(n1)
    await mesh.start(n2, { bootstrap: [n1] })
    proposedPath = join(mesh.root, 'proposed.json')
    writeFileSync(proposedPath, JSON.stringify(PROPOSED))
    await waitFor('n2 trusted at n1', async () => {
      const t = await mesh.get<{ peers: Array<{ peerId: string, status: string }> }>(n1, '/v1/trust')
      return t.peers.some(p => p.peerId === n2.peerId && p.status === 'trusted')
    })
    const cases: Array<[string, string, string, string]> = [
      ['local-jobs', 'echo', 'jobs/1', `zone:a`],
      ['remote-jobs', 'echo', 'jobs/2', `zone:b`],
      ['local-secret', 'echo', 'secret/1', `zone:a`],
      ['remote-secret', 'echo', 'secret/2', `zone:b`],
      ['sleep', 'sleep', 'jobs/3', `zone:a`]
    ]
    for (const [name, action, resource, target] of cases) {
      const r = await exec(action, resource, target)
      recorded[name] = r.lineage[0]!
      recorded[`${name}:ok`] = String(r.ok)
    }
  }, 180_000)
  afterAll(async () => { await mesh.cleanup() })

  it('records the executions as the live policy decides them', () => {
    expect(
      ['local-jobs', 'remote-jobs', 'local-secret', 'remote-secret'].map(n => recorded[`${n}:ok`])
    ).toEqual(['true', 'true', 'true', 'true'])
    expect(recorded['sleep:ok']).toBe('false')
  })

  it('exec --json, the hop entry and the refusal entry name the deciding rule beside the policy digest', async () => {
    const digest = (await mesh.status(n1)).policyDigest
    const remote = await exec('echo', 'jobs/9', 'zone:b')
    expect(remote.ok).toBe(true)
    expect(remote.policy).toEqual({ digest, rules: ['echo-all'] })
    const hop = await mesh.get<{ type: string, body: { policy?: unknown } }>(
      n1, `/v1/dag/entries/${remote.lineage[1]!}`
    )
    expect(hop.type).toBe('exec.hop')
    expect(hop.body.policy).toEqual({ digest, rules: ['echo-all'] })
    const shown = await govmesh(['dag', 'get', remote.lineage[1]!, '--data-dir', n1.dir, '--json'])
    expect(JSON.parse(shown.stdout)).toMatchObject({ body: { policy: { digest, rules: ['echo-all'] } } })

    const refused = await exec('sleep', 'jobs/10', 'zone:a')
    recorded.sleep2 = refused.lineage[0]!
    expect(refused.ok).toBe(false)
    expect(refused.policy).toEqual({ digest, rules: [] })
    const refusal = await mesh.get<{
      type: string, body: { reason: string, policy?: unknown }
    }>(n1, `/v1/dag/entries/${refused.lineage.at(-1)!}`)
    expect(refusal.type).toBe('exec.refuse')
    expect(refusal.body.policy).toEqual({ digest, rules: [] })
  })

  it('policy test names the rule that decided each request, offline', async () => {
    const reqs = join(mesh.root, 'requests.json')
    writeFileSync(reqs, JSON.stringify([
      { principal: 'local', action: 'echo', resource: 'jobs/1', zone: 'a' },
      { principal: 'local', action: 'echo', resource: 'secret/1', zone: 'a' },
      { principal: 'local', action: 'echo', resource: 'jobs/1', zone: 'b', fromZone: 'a' },
      { principal: 'local', action: 'echo', resource: 'jobs/1', zone: 'a', fromZone: 'b' },
      { principal: 'local', action: 'rm', resource: 'jobs/1', zone: 'a' }
    ]))
    const r = await govmesh(['policy', 'test', proposedPath, '--requests', reqs, '--json'])
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as {
      decisions: Array<{ request: unknown, allow: boolean, reason: string, rules: string[] }>
    }
    expect(out.decisions.map(d => [d.allow, d.reason, d.rules])).toEqual([
      [true, 'policy.allowed', ['echo-all']],
      [false, 'policy.denied', ['no-secret']],
      [true, 'policy.allowed', ['echo-all']],
      [false, 'zone.transition', []],
      [false, 'policy.denied', []]
    ])
    expect(Object.keys(out.decisions[0]!).sort()).toEqual(['allow', 'reason', 'request', 'rules'])
    const one = await govmesh(
      ['policy', 'test', proposedPath, '--request', '{"principal":"local","action":"sleep","resource":"x","zone":"b"}']
    )
    expect(one.stdout).toMatch(/allow\s+policy\.allowed\s+echo-all/)
    const bad = await govmesh(['policy', 'test', proposedPath, '--request', '{"principal":"local","action":"echo"}'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/request\.resource/)
    const api = await mesh.post(
      n2, '/v1/policy/test',
      { policy: PROPOSED, requests: [{ principal: 'local', action: 'echo', resource: 'secret/x', zone: 'b' }] }
    )
    expect(api.status).toBe(200)
    expect(api.body).toMatchObject({ decisions: [{ allow: false, reason: 'policy.denied', rules: ['no-secret'] }] })
  })

  it('policy diff shows, rule by rule, what changes against the live policy', async () => {
    const r = await govmesh(['policy', 'diff', proposedPath, '--data-dir', n1.dir, '--json'])
    expect(r.code).toBe(0)
    const d = JSON.parse(r.stdout) as {
      changed: boolean, rules: { added: Array<{ id: string }>, removed: unknown[], changed: Array<{ id: string }> }
    }
    expect(d.changed).toBe(true)
    expect(d.rules.added.map(x => x.id)).toEqual(['no-secret'])
    expect(d.rules.removed).toEqual([])
    expect(d.rules.changed.map(x => x.id)).toEqual(['echo-all'])
    const human = await govmesh(['policy', 'diff', proposedPath, '--data-dir', n1.dir])
    expect(human.stdout).toMatch(/\+ rule no-secret/)
    expect(human.stdout).toMatch(/~ rule echo-all: actions \["echo"\] → \["echo","sleep"\]/)
    const livePath = join(mesh.root, 'live.json')
    writeFileSync(livePath, JSON.stringify(LIVE))
    const same = await govmesh(['policy', 'diff', livePath, '--data-dir', n1.dir, '--json'])
    expect((JSON.parse(same.stdout) as { changed: boolean }).changed).toBe(false)
  })

  it('policy replay lists exactly the recorded requests whose verdict changes, on every node', async () => {
    await mesh.waitConverged([n1, n2])
    const expected = [recorded['local-secret'], recorded['remote-secret'], recorded.sleep, recorded.sleep2].sort()
    for (const n of [n1, n2]) {
      const r = await govmesh(['policy', 'replay', proposedPath, '--data-dir', n.dir, '--json'])
      expect(r.code, r.stderr).toBe(0)
      const out = JSON.parse(r.stdout) as ReplayJson
      // Seven requests: the five recorded first and the two of the rule-id test.
      expect(out.replayed).toBe(7)
      expect(out.changes.map(c => c.cid).sort()).toEqual(expected)
      const remote = out.changes.find(c => c.cid === recorded['remote-secret'])!
      expect(remote.before).toMatchObject({ allow: true, rules: ['echo-all'] })
      expect(remote.after).toMatchObject({ allow: false, reason: 'policy.denied', rules: ['no-secret'] })
    }
    const future = await govmesh(
      [
        'policy', 'replay', proposedPath, '--since', new Date(Date.now() + 60_000).toISOString(), '--data-dir', n1.dir,
        '--json'
      ]
    )
    expect(JSON.parse(future.stdout)).toMatchObject({ replayed: 0, changes: [] })
    const api = await mesh.post(n1, '/v1/policy/replay', { policy: PROPOSED })
    expect((api.body as ReplayJson).changes.length).toBe(4)
    const noToken = await mesh.post(n1, '/v1/policy/replay', { policy: PROPOSED }, null)
    expect(noToken.status).toBe(401)
    const badPolicy = await mesh.post(n1, '/v1/policy/diff', { policy: { rules: [{ id: 'x' }] } })
    expect(badPolicy.status).toBe(400)
  })
})
