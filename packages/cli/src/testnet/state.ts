import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** One node of a local testnet, as recorded in its directory. */
export interface TestnetNode {
  name: string
  dir: string
  zone: string
  peerId: string
  api: string | null
  token: string | null
  addrs: string[]
  pid: number | null
}

export const ZONES = ['a', 'b', 'c']

function read (path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return null
  }
}

/** True while a process with this pid exists. */
export function alive (pid: number | null): boolean {
  if (pid === null) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** The nodes of a testnet directory, in order (node1, node2, ...). */
export function listNodes (dir: string): TestnetNode[] {
  if (!existsSync(join(dir, 'genesis.json'))) return []
  const names = readdirSync(dir).filter(n => /^node\d+$/.test(n)).sort(
    (a, b) => Number(a.slice(4)) - Number(b.slice(4))
  )
  const zones = JSON.parse(read(join(dir, 'zones.json')) ?? '{}') as Record<string, string>
  return names.map(name => {
    const nodeDir = join(dir, name)
    const key = JSON.parse(read(join(nodeDir, 'node.key')) ?? '{}') as { peerId?: string }
    const info = JSON.parse(read(join(nodeDir, 'node.json')) ?? '{}') as { addrs?: string[], api?: string }
    const pid = Number(read(join(nodeDir, 'pid')) ?? NaN)
    return {
      name,
      dir: nodeDir,
      zone: zones[name] ?? '?',
      peerId: key.peerId ?? '?',
      api: read(join(nodeDir, 'api-url')) ?? info.api ?? null,
      token: read(join(nodeDir, 'api-token')),
      addrs: info.addrs ?? [],
      pid: Number.isInteger(pid) ? pid : null
    }
  })
}

/** Resolves NODE given as a name (node3), an index (3) or a PeerId. */
export function findNode (nodes: TestnetNode[], ref: string): TestnetNode | undefined {
  return nodes.find(n => n.name === ref || n.name === `node${ref}` || n.peerId === ref)
}
