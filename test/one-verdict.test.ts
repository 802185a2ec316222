import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import * as dagCbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeGenesisFile, verifyProof } from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { readProofCar } from '@govmesh/node'
import { readFileSync } from 'node:fs'
import { jsonText } from '../packages/core/test/json-arbitrary.js'
import { govmesh, TestMesh, waitFor, type NodeHandle } from './helpers/cluster.js'

/** Sum of govmesh_rejections_total samples. */
function rejectionCount (metrics: string): number {
  return metrics.split('\n').filter(l => l.startsWith('govmesh_rejections_total{'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0)
}

/** `n` arrays around 1: inside an exec.request body the 1 sits at depth 2 + n. */
function nested (n: number): unknown {
  let v: unknown = 1
  for (let i = 0; i < n; i++) v = [v]
  return v
}

const exec = (payload: string): string => `{"action":"echo","resource":"demo","target":"zone:a","payload":${payload}}`

describe('a node never signs what its peers would reject (one verdict)', () => {
  const mesh = new TestMesh()
  let n1: NodeHandle
  let n2: NodeHandle

  beforeAll(async () => {
    await mesh.create({ nodes: 2 })
    ;[n1, n2] = mesh.nodes as [NodeHandle, NodeHandle]
    await mesh.start(n1)
    await mesh.start(n2, { bootstrap: [n1] })
    await mesh.waitConverged([n1, n2])
  })
  afterAll(async () => { await mesh.cleanup() })

  const refused: Array<[string, string, string, string]> = [
    ['an array nested 70 levels deep', JSON.stringify(nested(70)), 'depth', 'payload'],
    ['2^64', '{"big":18446744073709551616}', 'integer-range', 'payload.big'],
    [
      '2^60, an integral number the encoder would write as a float', '[1152921504606846976]', 'integer-range',
      'payload[0]'
    ],
    ['-2^53', '-9007199254740992', 'integer-range', 'payload'],
    ['1e300', '{"x":[0.5,1e300]}', 'integer-range', 'payload.x[1]'],
    ['a lone surrogate', '{"s":"\\ud800"}', 'unicode', 'payload.s']
  ]
  for (const [what, payload, rule, field] of refused) {
    it(`POST /v1/exec with ${what} is refused with a 400 naming the field, before anything is signed`, async () => {
      const before = (await mesh.status(n1)).entries
      const res = await mesh.post(n1, '/v1/exec', exec(payload))
      expect(res.status, JSON.stringify(res.body)).toBe(400)
      expect(res.body.rule).toBe(rule)
      expect(res.body.field.startsWith(field)).toBe(true)
      expect((await mesh.status(n1)).entries).toBe(before)
    })
  }

  it('values at the limits are accepted, replicate, and peers reject nothing', async () => {
    const accepted = [
      JSON.stringify(nested(62)), '9007199254740991', '-9007199254740991', '[0.5,-0,1e-300,"😀",""]', '{"":{"é":null}}'
    ]
    for (const payload of accepted) {
      const res = await mesh.post(n1, '/v1/exec', exec(payload))
      expect(res.status, `${payload}: ${JSON.stringify(res.body)}`).toBe(200)
    }
    const { entries } = await mesh.waitConverged([n1, n2])
    expect(entries).toBeGreaterThan(accepted.length * 2)
    const m2 = await mesh.metrics(n2)
    expect(rejectionCount(m2), m2.split('\n').filter(l => l.startsWith('govmesh_rejections_total{')).join('\n')).toBe(0)
    // The origin counted each refused request of the tests above, and nothing else.
    expect(rejectionCount(await mesh.metrics(n1))).toBe(refused.length)
  })

  it('executor output a peer could not accept becomes an exec.result that says so', async () => {
    // 62 levels is the most a payload may hold; echo wraps it once more in its output.
    const res = await mesh.post(n1, '/v1/exec', exec(JSON.stringify(nested(62))))
    expect(res.status).toBe(200)
    const deeper = await mesh.post(n1, '/v1/exec', exec(JSON.stringify({ p: nested(61) })))
    expect(deeper.status, JSON.stringify(deeper.body)).toBe(200)
    expect(deeper.body.ok).toBe(false)
    expect(deeper.body.result.error).toBe('output-not-recordable')
    await mesh.waitConverged([n1, n2])
    expect(rejectionCount(await mesh.metrics(n2))).toBe(0)
  })

  it('fuzz over HTTP (seed 11): what the API accepts verifies as a proof and round-trips; what it refuses writes nothing', async () => {
    const genesis = decodeGenesisFile(readFileSync(mesh.genesisPath, 'utf8'))
    const texts = fc.sample(jsonText, { seed: 11, numRuns: 150 })
    let accepted = 0
    for (const text of texts) {
      const before = (await mesh.status(n1)).entries
      const res = await mesh.post(n1, '/v1/exec', exec(text))
      if (res.status !== 200) {
        expect([400, 413], `${text}: ${JSON.stringify(res.body)}`).toContain(res.status)
        expect((await mesh.status(n1)).entries).toBe(before)
        continue
      }
      accepted++
      const requestCid = res.body.lineage[0] as string
      const raw = await fetch(`${n1.api!}/v1/dag/export/${requestCid}`)
      const { root, blocks } = await readProofCar(new Uint8Array(await raw.arrayBuffer()))
      const verdict = verifyProof({ root, blocks, genesis, crypto: nodeCrypto })
      expect(verdict.valid, `${text}: ${verdict.message ?? ''}`).toBe(true)
      const own = blocks.find(b => b.cid.toString() === requestCid)!
      expect(dagCbor.encode(dagCbor.decode(own.bytes))).toEqual(own.bytes)
    }
    expect(accepted).toBeGreaterThan(20)
    await mesh.waitConverged([n1, n2])
    expect(rejectionCount(await mesh.metrics(n2))).toBe(0)
  })

  it('the node restarts on its own store after all of that', async () => {
    const before = await mesh.status(n1)
    await mesh.stop(n1)
    await mesh.start(n1, { bootstrap: [n2] })
    const after = await mesh.status(n1)
    expect(after.entries).toBe(before.entries)
    await mesh.waitConverged([n1, n2])
  })

  it('proofs of governance entries by a governor who is not a member verify, with --expect', async () => {
    const policy = join(mesh.root, 'policy2.json')
    writeFileSync(policy, JSON.stringify({ rules: [
      { id: 'echo-local', effect: 'allow', principals: ['local'], actions: ['echo'] },
      { id: 'ping-local', effect: 'allow', principals: ['local'], actions: ['ping'] }
    ] }))
    const applied = await govmesh(
      ['policy', 'apply', policy, '--governor', mesh.governorKeyPath(), '--data-dir', n1.dir, '--json']
    )
    expect(applied.code, applied.stderr).toBe(0)
    const update = JSON.parse(applied.stdout) as { cid: string }
    for (const cid of [update.cid, mesh.meshId]) {
      const car = join(mesh.root, `${cid}.car`)
      await waitFor('the entry on node 2', async () => (await fetch(`${n2.api!}/v1/dag/entries/${cid}`)).ok)
      const exported = await govmesh(['dag', 'export', cid, '--out', car, '--data-dir', n2.dir])
      expect(exported.code, exported.stderr).toBe(0)
      const verified = await govmesh(['proof', 'verify', car, '--genesis', mesh.genesisPath, '--expect', cid, '--json'])
      expect(verified.code, verified.stdout + verified.stderr).toBe(0)
      expect(JSON.parse(verified.stdout)).toMatchObject({ valid: true, root: cid })
      const wrong = await govmesh(
        [
          'proof', 'verify', car, '--genesis', mesh.genesisPath, '--expect',
          cid === mesh.meshId ? update.cid : mesh.meshId, '--json'
        ]
      )
      expect(wrong.code).toBe(1)
      expect(JSON.parse(wrong.stdout).reason).toBe('proof.unexpected-root')
    }
  })
})
