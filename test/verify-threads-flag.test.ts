/**
 * `govmesh start --verify-threads N` reaches the node: the verify pool runs N workers (0: signatures
 * are checked on the main thread), a node with either setting catches up over sync, and a bad value
 * is a usage error (exit 2) before anything starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toBase64 } from '@govmesh/core'
import { govmesh, MemberWriter, TestMesh, waitFor, type NodeHandle } from './helpers/cluster.js'

/** The `verifyThreads` field of the node's `node started` log line (JSON logs: not a terminal). */
function startedThreads (node: NodeHandle): number | undefined {
  for (const line of node.log) {
    if (!line.includes('"node started"')) continue
    return (JSON.parse(line) as { verifyThreads?: number }).verifyThreads
  }
  return undefined
}

describe('govmesh start --verify-threads', () => {
  const mesh = new TestMesh()
  const writer = new MemberWriter()
  beforeAll(async () => {
    await mesh.create({ nodes: 2, extraMembers: [{ keys: writer.keys, zone: 'a' }] })
    writer.open(mesh.genesisPath)
  }, 60_000)
  afterAll(async () => { await mesh.cleanup() })

  it('refuses what is not an integer from 0 to 64, as a usage error', async () => {
    for (const bad of ['-1', '1.5', '65']) {
      const r = await govmesh(['start', '--genesis', mesh.genesisPath, '--verify-threads', bad, '--json'])
      expect(r.code, r.stderr).toBe(2)
      const err = (JSON.parse(r.stderr) as { error: { code: string, message: string } }).error
      expect(err.code).toBe('cli.usage')
      expect(err.message).toBe(`--verify-threads ${bad}: expected an integer from 0 to 64`)
    }
  }, 60_000)

  it('runs the pool with the threads asked for, and both settings sync', async () => {
    const [a, b] = mesh.nodes as [NodeHandle, NodeHandle]
    await mesh.start(a, { extraArgs: ['--verify-threads', '2'] })
    const entries = writer.next(300)
    for (let i = 0; i < entries.length; i += 100) {
      const res = await mesh.post(a, '/v1/entries', { entries: entries.slice(i, i + 100).map(e => toBase64(e.bytes)) })
      expect(res.status).toBe(200)
    }
    await mesh.start(b, { bootstrap: [a], extraArgs: ['--verify-threads', '0'] })
    expect(startedThreads(a)).toBe(2)
    expect(startedThreads(b)).toBe(0)
    const target = (await mesh.status(a)).entries
    await waitFor('B to sync every entry of A', async () => (await mesh.status(b)).entries >= target, 60_000)
    // And the other way round: a pool node catches up what a main-thread node holds.
    await mesh.stop(a)
    const more = writer.next(200)
    const res = await mesh.post(b, '/v1/entries', { entries: more.slice(0, 100).map(e => toBase64(e.bytes)) })
    expect(res.status).toBe(200)
    await mesh.post(b, '/v1/entries', { entries: more.slice(100).map(e => toBase64(e.bytes)) })
    await mesh.start(a, { bootstrap: [b], extraArgs: ['--verify-threads', '1'] })
    expect(startedThreads(a)).toBe(1)
    const all = (await mesh.status(b)).entries
    await waitFor('A to sync what B took while it was down', async () => (await mesh.status(a)).entries >= all, 60_000)
  }, 120_000)
})
