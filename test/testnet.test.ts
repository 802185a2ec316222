import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { govmesh, waitFor } from './helpers/cluster.js'

interface Row {
  name: string, peerId: string, zone: string, api: string, token: string, status: string, policyDigest: string | null,
  pid: number | null
}

const alive = (pid: number | null): boolean => {
  if (pid === null) return false
  try { process.kill(pid, 0); return true } catch { return false }
}

describe('govmesh testnet', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'govmesh-testnet-')), 'net')
  let pids: number[] = []
  const status = async (): Promise<Row[]> => {
    const r = await govmesh(['testnet', 'status', '--dir', dir, '--json'])
    if (r.code !== 0) throw new Error(r.stderr)
    return (JSON.parse(r.stdout) as { nodes: Row[] }).nodes
  }
  afterAll(async () => {
    await govmesh(['testnet', 'down', '--dir', dir])
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL')
    rmSync(join(dir, '..'), { recursive: true, force: true })
  })

  it('up --detach starts 5 nodes that all trust each other with one policy digest', async () => {
    const r = await govmesh(['testnet', 'up', '--nodes', '5', '--dir', dir, '--detach', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const rows = await status()
    pids = rows.map(x => x.pid!).filter(Boolean)
    expect(rows).toHaveLength(5)
    expect(rows.every(x => x.status === 'trusted')).toBe(true)
    expect(new Set(rows.map(x => x.policyDigest)).size).toBe(1)
    expect(rows.map(x => x.zone)).toEqual(['a', 'b', 'c', 'a', 'b'])
    expect(rows.every(x => typeof x.token === 'string' && x.api.startsWith('http://127.0.0.1:'))).toBe(true)
  })

  it('tamper: every other node quarantines the node and refuses executions to it', async () => {
    const r = await govmesh(['testnet', 'tamper', '--dir', dir, 'node2'])
    expect(r.code, r.stderr).toBe(0)
    await waitFor(
      'node2 quarantined', async () => (await status()).find(x => x.name === 'node2')!.status === 'quarantined', 30_000,
      200
    )
    const rows = await status()
    const node2 = rows.find(x => x.name === 'node2')!
    for (const from of ['node1', 'node3']) {
      const e = await govmesh(
        [
          'exec', '--action', 'echo', '--resource', 'x', '--target', node2.peerId, '--data-dir', join(dir, from),
          '--json'
        ]
      )
      expect(e.code).toBe(3)
      expect((JSON.parse(e.stdout) as { reason: string }).reason).toBe('trust.quarantined')
    }
  })

  it('partition + heal: both sides advance, then converge', async () => {
    const p = await govmesh(['testnet', 'partition', '--dir', dir, 'node1', 'node4'])
    expect(p.code, p.stderr).toBe(0)
    const a = await govmesh(
      [
        'exec', '--action', 'echo', '--resource', 'side-a', '--target', 'zone:a', '--data-dir', join(dir, 'node1'),
        '--json'
      ]
    )
    const b = await govmesh(
      [
        'exec', '--action', 'echo', '--resource', 'side-b', '--target', 'zone:c', '--data-dir', join(dir, 'node3'),
        '--json'
      ]
    )
    const ids = [a, b].map(x => (JSON.parse(x.stdout) as { lineage: string[] }).lineage.at(-1)!)
    const h = await govmesh(['testnet', 'heal', '--dir', dir])
    expect(h.code, h.stderr).toBe(0)
    await waitFor('every running node holds both sides\' entries', async () => {
      const rows = (await status()).filter(x => x.pid !== null)
      const seen = await Promise.all(
        rows.flatMap(x => ids.map(async id => (await fetch(`${x.api}/v1/dag/entries/${id}`)).status))
      )
      return seen.every(s => s === 200)
    }, 30_000, 200)
  })

  // A restarted node loads while four others run: on a starved CI machine that alone can take tens of seconds.
  it('kill + up: the killed node resumes with every acknowledged entry', async () => {
    const e = await govmesh(
      [
        'exec', '--action', 'echo', '--resource', 'before-kill', '--target', 'zone:c', '--data-dir', join(dir, 'node3'),
        '--json'
      ]
    )
    const acked = (JSON.parse(e.stdout) as { lineage: string[] }).lineage
    expect(acked.length).toBeGreaterThan(1)
    const k = await govmesh(['testnet', 'kill', '--dir', dir, 'node3'])
    expect(k.code, k.stderr).toBe(0)
    expect((await status()).find(x => x.name === 'node3')!.status).toBe('down')
    // node2 stays quarantined, so `up` restarts node3 but cannot report every node trusted.
    const up = await govmesh(['testnet', 'up', '--dir', dir, '--detach', '--timeout', '5'])
    expect(up.code, up.stderr).toBe(1)
    expect(up.stderr).toMatch(/timed out waiting for every node to trust every other after 5 s: node2 \(quarantined\)/)
    // It names why and the fix, and says the detached nodes are left running.
    expect(up.stderr).toMatch(/node2 \(\w{8}\): quarantined — runs a tampered measurement/)
    expect(up.stderr).toMatch(/runtime measurement \w+… is not in the policy allowlist/)
    expect(up.stderr).toContain(`fix: govmesh testnet tamper --undo --dir ${dir} node2`)
    expect(up.stderr).toMatch(/fix: govmesh trust restore 12D3KooW\w+ --governor /)
    expect(up.stderr).toMatch(/the nodes are left running/)
    await waitFor('node3 back', async () => (await status()).find(x => x.name === 'node3')!.pid !== null, 30_000, 200)
    const node3 = (await status()).find(x => x.name === 'node3')!
    for (const cid of acked) await waitFor(
      `entry ${cid}`, async () => (await fetch(`${node3.api}/v1/dag/entries/${cid}`)).status === 200, 30_000, 100
    )
    pids = (await status()).map(x => x.pid!).filter(Boolean)
  }, 120_000)

  it('tamper --undo, then trust restore: the node is trusted again and stays so', async () => {
    const u = await govmesh(['testnet', 'tamper', '--undo', '--dir', dir, 'node2', '--json'])
    expect(u.code, u.stderr).toBe(0)
    expect(JSON.parse(u.stdout)).toEqual({ node: 'node2', tampered: false })
    const node2 = (await status()).find(x => x.name === 'node2')!
    const r = await govmesh(
      ['trust', 'restore', node2.peerId, '--governor', join(dir, 'governor.key'), '--data-dir', join(dir, 'node1')]
    )
    expect(r.code, r.stderr).toBe(0)
    await waitFor(
      'node2 trusted', async () => (await status()).find(x => x.name === 'node2')!.status === 'trusted', 30_000, 200
    )
    // Its peers do not report it again: a resumed `up` finds every node trusted.
    const up = await govmesh(['testnet', 'up', '--dir', dir, '--detach', '--timeout', '30'])
    expect(up.code, up.stderr).toBe(0)
    pids = (await status()).map(x => x.pid!).filter(Boolean)
  }, 120_000)

  it('down leaves no process behind', async () => {
    const before = (await status()).map(x => x.pid).filter((p): p is number => p !== null)
    expect(before.length).toBeGreaterThan(0)
    const d = await govmesh(['testnet', 'down', '--dir', dir])
    expect(d.code, d.stderr).toBe(0)
    expect(before.filter(alive)).toEqual([])
    expect((await status()).every(x => x.status === 'down')).toBe(true)
    writeFileSync(join(dir, 'done'), '')
  })
})
