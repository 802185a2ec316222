import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CliError, EXIT } from '../output.js'

/**
 * A testnet whose nodes each live in their own Linux network namespace, with their own
 * address on a private bridge, so they talk over real interfaces as separate hosts would.
 * The bridge lives in the host namespace with the address `.254`, through which the CLI
 * reaches each node's API. Partitions drop packets with nftables inside the namespaces.
 */
export interface NetnsLayout {
  /** Short tag in every name this testnet creates (namespaces, bridge, veths). */
  tag: string
  /** The first three octets of the private /24, e.g. "10.213.7". */
  subnet: string
  bridge: string
  /** Namespace per node name. */
  namespaces: Record<string, string>
}

const FILE = 'netns.json'
export const NETNS_P2P_PORT = 4001
export const NETNS_API_PORT = 7700

function run (cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 }).toString()
  } catch (err) {
    const e = err as { stderr?: Buffer, message: string }
    throw new CliError(
      `${cmd} ${args.join(' ')}: ${(e.stderr?.toString() ?? e.message).trim().split('\n')[0] ?? ''}`, EXIT.error,
      'cli.netns'
    )
  }
}

function has (cmd: string, versionFlag: string): boolean {
  try {
    execFileSync(cmd, [versionFlag], { stdio: 'ignore', timeout: 5000 })
    return true
  } catch {
    return false
  }
}

/** Refuses early, with the fix, when namespaces cannot be made here. */
export function checkNetnsSupport (): void {
  if (process.getuid?.() !== 0) throw new CliError(
    'testnet --netns needs root (network namespaces): run it with sudo', EXIT.error, 'cli.netns'
  )
  if (!has('ip', '-V')) throw new CliError(
    'testnet --netns needs `ip` (iproute2): apt-get install iproute2', EXIT.error, 'cli.netns'
  )
  if (!has('nft', '--version')) throw new CliError(
    'testnet --netns needs `nft` for partitions (nftables): apt-get install nftables', EXIT.error, 'cli.netns'
  )
}

/** The layout recorded in a testnet directory, if it runs in namespaces. */
export function readLayout (dir: string): NetnsLayout | undefined {
  const path = join(dir, FILE)
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) as NetnsLayout : undefined
}

/** The address of the i-th node (1-based). */
export function nodeAddress (layout: NetnsLayout, name: string): string {
  return `${layout.subnet}.${Number(name.slice(4))}`
}

function nsExists (ns: string): boolean {
  return run('ip', ['netns', 'list']).split('\n').some(l => l.split(' ')[0] === ns)
}

/** Creates (or re-creates after a reboot) the bridge and one namespace per node; records the layout. */
export function createNetns (dir: string, names: string[]): NetnsLayout {
  checkNetnsSupport()
  const hash = createHash('sha256').update(dir).digest()
  const tag = hash.toString('hex').slice(0, 5)
  const layout: NetnsLayout = readLayout(dir) ?? {
    tag, subnet: `10.213.${hash[5]! % 250}`, bridge: `gm${tag}br`, namespaces: Object.fromEntries(
      names.map(n => [n, `gm${tag}-${n}`])
    )
  }
  writeFileSync(join(dir, FILE), JSON.stringify(layout, null, 2) + '\n')
  const links = run('ip', ['-o', 'link', 'show'])
  if (!links.includes(` ${layout.bridge}:`)) {
    run('ip', ['link', 'add', layout.bridge, 'type', 'bridge'])
    run('ip', ['addr', 'add', `${layout.subnet}.254/24`, 'dev', layout.bridge])
    run('ip', ['link', 'set', layout.bridge, 'up'])
  }
  for (const [name, ns] of Object.entries(layout.namespaces)) {
    if (nsExists(ns)) continue
    const i = Number(name.slice(4))
    const host = `gm${layout.tag}v${i}`
    run('ip', ['netns', 'add', ns])
    run('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns])
    run('ip', ['link', 'set', host, 'master', layout.bridge])
    run('ip', ['link', 'set', host, 'up'])
    run('ip', ['-n', ns, 'addr', 'add', `${nodeAddress(layout, name)}/24`, 'dev', 'eth0'])
    run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up'])
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
  }
  return layout
}

/** The command prefix that runs a program inside a node's namespace. */
export function inNamespace (layout: NetnsLayout, name: string): string[] {
  const ns = layout.namespaces[name]
  if (ns === undefined) throw new CliError(`${name} has no network namespace in this testnet`)
  return ['ip', 'netns', 'exec', ns]
}

/**
 * Drops every packet between the node and the given peers' addresses, inside its namespace (the API host stays
 * reachable).
 */
export function cutLinks (layout: NetnsLayout, name: string, peers: string[]): void {
  const ns = layout.namespaces[name]!
  const addrs = peers.map(p => nodeAddress(layout, p)).join(', ')
  healLinks(layout, name)
  if (peers.length === 0) return
  const rules = [
    'table inet govmesh_partition {',
    `  chain input { type filter hook input priority 0; ip saddr { ${addrs} } drop; }`,
    `  chain output { type filter hook output priority 0; ip daddr { ${addrs} } drop; }`,
    '}'
  ].join('\n')
  const file = join('/tmp', `govmesh-nft-${ns}.conf`)
  writeFileSync(file, rules + '\n')
  try {
    run('ip', ['netns', 'exec', ns, 'nft', '-f', file])
  } finally {
    rmSync(file, { force: true })
  }
}

/** Removes the node's partition rules, if any. */
export function healLinks (layout: NetnsLayout, name: string): void {
  const ns = layout.namespaces[name]!
  const tables = run('ip', ['netns', 'exec', ns, 'nft', 'list', 'tables'])
  if (tables.includes('govmesh_partition')) run(
    'ip', ['netns', 'exec', ns, 'nft', 'delete', 'table', 'inet', 'govmesh_partition']
  )
}

/** Deletes every namespace (with its veth pair) and the bridge this testnet made; returns how many namespaces. */
export function removeNetns (dir: string): number {
  const layout = readLayout(dir)
  if (layout === undefined) return 0
  let removed = 0
  const links = run('ip', ['-o', 'link', 'show'])
  for (const [name, ns] of Object.entries(layout.namespaces)) {
    // The kernel frees a deleted namespace's veth pair asynchronously; deleting the host end first is immediate.
    const host = `gm${layout.tag}v${Number(name.slice(4))}`
    if (links.includes(` ${host}@`)) run('ip', ['link', 'delete', host])
    if (nsExists(ns)) { run('ip', ['netns', 'delete', ns]); removed++ }
  }
  if (links.includes(` ${layout.bridge}:`)) run('ip', ['link', 'delete', layout.bridge])
  // The layout stays: `testnet up` re-creates the same namespaces and addresses.
  return removed
}
