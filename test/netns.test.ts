import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { govmesh, waitFor } from './helpers/cluster.js'
import { killMentioning, processesMentioning } from './helpers/procs.js'

interface Row { name: string, api: string, status: string, pid: number | null }

const root = process.getuid?.() === 0

describe.skipIf(!root)('govmesh testnet up --netns: nodes on separate network hosts', () => {
  const base = mkdtempSync(join(tmpdir(), 'govmesh-netns-'))
  const dir = join(base, 'net')
  const status = async (): Promise<Row[]> => {
    const r = await govmesh(['testnet', 'status', '--dir', dir, '--json'])
    if (r.code !== 0) throw new Error(r.stderr)
    return (JSON.parse(r.stdout) as { nodes: Row[] }).nodes
  }
  const layout = (): {
    tag: string, bridge: string, namespaces: Record<string, string>
  } => JSON.parse(readFileSync(join(dir, 'netns.json'), 'utf8'))
  const leftovers = (): string[] => {
    const { tag, bridge } = layout()
    const ns = execFileSync('ip', ['netns', 'list']).toString().split('\n').filter(l => l.includes(`gm${tag}-`))
    const links = execFileSync('ip', ['-o', 'link', 'show']).toString().split('\n').filter(
      l => l.includes(bridge) || l.includes(`gm${tag}v`)
    )
    return [...ns, ...links]
  }
  afterAll(async () => {
    await govmesh(['testnet', 'down', '--dir', dir])
    killMentioning(base)
    rmSync(base, { recursive: true, force: true })
  })

  it('up --netns --nodes 5: every node in its own namespace and address, all trusted', async () => {
    const r = await govmesh(
      ['testnet', 'up', '--netns', '--nodes', '5', '--dir', dir, '--detach', '--json', '--timeout', '240']
    )
    expect(r.code, r.stderr).toBe(0)
    const rows = await status()
    expect(rows.every(x => x.status === 'trusted')).toBe(true)
    const { namespaces } = layout()
    expect(Object.keys(namespaces)).toHaveLength(5)
    for (const [i, row] of rows.entries()) {
      // Each node's API is on its own address, reached over the bridge, and its process runs in its namespace.
      expect(row.api).toMatch(new RegExp(`^http://10\\.213\\.\\d+\\.${i + 1}:7700$`))
      const inNs = execFileSync('ip', ['netns', 'pids', namespaces[row.name]!]).toString().split('\n').map(Number)
      expect(inNs).toContain(row.pid)
    }
  }, 300_000)

  it('partition drops real traffic; both sides advance; heal converges', async () => {
    const p = await govmesh(['testnet', 'partition', '--dir', dir, 'node1', 'node4'])
    expect(p.code, p.stderr).toBe(0)
    // Over the real links, node1 loses its heartbeats from the other side: it sees them stale.
    await waitFor('node1 sees node3 stale', async () => {
      const t = await (await fetch(`${(await status())[0]!.api}/v1/trust`)).json() as {
        peers: Array<{ key: string, status: string, peerId: string }>
      }
      const node3 = JSON.parse(readFileSync(join(dir, 'node3', 'node.key'), 'utf8')) as { peerId: string }
      return t.peers.find(x => x.peerId === node3.peerId)?.status === 'stale'
    }, 60_000, 500)
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
    await waitFor('every node holds both sides\' entries and trusts every other', async () => {
      const rows = await status()
      const seen = await Promise.all(
        rows.flatMap(x => ids.map(async id => (await fetch(`${x.api}/v1/dag/entries/${id}`)).status))
      )
      return seen.every(s => s === 200) && rows.every(x => x.status === 'trusted')
    }, 90_000, 500)
  }, 200_000)

  it('down removes every namespace, link and process it made', async () => {
    expect(leftovers().length).toBeGreaterThan(0)
    const d = await govmesh(['testnet', 'down', '--dir', dir, '--json'])
    expect(d.code, d.stderr).toBe(0)
    expect(JSON.parse(d.stdout)).toEqual({ stopped: 5, namespaces: 5 })
    expect(leftovers()).toEqual([])
    expect(processesMentioning(dir)).toEqual([])
  }, 60_000)
})

describe('govmesh testnet up --netns without its tools', () => {
  it('says what is missing and how to install it', async () => {
    const r = await govmesh(
      ['testnet', 'up', '--netns', '--dir', join(tmpdir(), 'govmesh-netns-none'), '--json'], { PATH: '/nonexistent' }
    )
    expect(r.code).toBe(1)
    const { error } = JSON.parse(r.stderr) as { error: { code: string, message: string } }
    expect(error.code).toBe('cli.netns')
    expect(error.message).toMatch(root ? /needs `ip` \(iproute2\): apt-get install iproute2/ : /needs root/)
  })
})
