import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'
import { createGenesis, encodeGenesisFile, generateKeyPair, parsePolicyDocument, policyUpdateFor } from '@govmesh/core'
import { measureRuntime } from '@govmesh/node'
import { writeKeyFile } from '../keyfile.js'
import { CliError, emit, EXIT, table } from '../output.js'
import { nodeGet, nodePost, startNode, stopAll, stopNode } from '../testnet/control.js'
import { alive, findNode, listNodes, ZONES, type TestnetNode } from '../testnet/state.js'

const DEMO_POLICY = fileURLToPath(new URL('../../../../testnet/policies/demo.json', import.meta.url))
const FALLBACK_POLICY = {
  rules: [{ id: 'echo-local-operator', effect: 'allow', principals: ['local'], actions: ['echo'], resources: ['*'], zones: ['a', 'b', 'c'] }],
  transitions: [['a', 'b'], ['b', 'c']],
  maxHops: 4
}

interface UpOptions { nodes: string, dir: string, detach: boolean, basePort?: string, json: boolean, timeout: string }
interface NodeStatusRow { name: string, peerId: string, zone: string, api: string | null, token: string | null, status: string, policyDigest: string | null, pid: number | null }

const say = (json: boolean, line: string): void => { if (!json) process.stderr.write(line + '\n') }

/** Creates keys, genesis and data dirs for a new testnet. */
function create (dir: string, count: number): void {
  mkdirSync(dir, { recursive: true })
  const governor = generateKeyPair()
  writeKeyFile(join(dir, 'governor.key'), governor, false)
  const zones: Record<string, string> = {}
  const members = []
  for (let i = 1; i <= count; i++) {
    const name = `node${i}`
    mkdirSync(join(dir, name), { recursive: true, mode: 0o700 })
    const keys = generateKeyPair()
    writeKeyFile(join(dir, name, 'node.key'), keys, false)
    zones[name] = ZONES[(i - 1) % ZONES.length]!
    members.push({ key: keys.publicKey, zone: zones[name] })
  }
  const base = existsSync(DEMO_POLICY) ? JSON.parse(readFileSync(DEMO_POLICY, 'utf8')) as Record<string, unknown> : FALLBACK_POLICY
  // Larger meshes gossip more heartbeats: slow them down so 20 nodes idle lightly on 2 cores.
  const heartbeatMs = count > 8 ? 2000 : 1000
  const policyJson = { ...base, measurements: [measureRuntime()], timing: { heartbeatMs, staleMs: heartbeatMs * 6, driftGraceMs: heartbeatMs * 5 } }
  const policy = parsePolicyDocument(policyJson)
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(policyJson, null, 2) + '\n')
  const genesis = createGenesis({ name: 'testnet', governors: [governor.publicKey], members, policy: policyUpdateFor(null, policy) ?? new Uint8Array() }, governor)
  writeFileSync(join(dir, 'genesis.json'), JSON.stringify(encodeGenesisFile(genesis), null, 2) + '\n')
  writeFileSync(join(dir, 'zones.json'), JSON.stringify(zones, null, 2) + '\n')
}

async function waitFor<T> (check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new CliError(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

function ports (basePort: number | undefined, index: number): { api: number, p2p: number } {
  return basePort === undefined ? { api: 0, p2p: 0 } : { api: basePort + index, p2p: basePort + 1000 + index }
}

/** How the other running nodes see each node: the status they agree on, or `down`. */
async function statusRows (nodes: TestnetNode[]): Promise<NodeStatusRow[]> {
  const trust = await Promise.all(nodes.map(async n => alive(n.pid) ? await nodeGet<{ self: { status: string }, peers: Array<{ peerId: string, status: string }> }>(n, '/v1/trust') : undefined))
  const status = await Promise.all(nodes.map(async n => alive(n.pid) ? await nodeGet<{ policyDigest: string }>(n, '/v1/status') : undefined))
  return nodes.map((n, i) => {
    let s = 'down'
    const own = trust[i]
    if (own !== undefined) {
      const seen = trust.filter((t, j) => j !== i && t !== undefined).map(t => t!.peers.find(p => p.peerId === n.peerId)?.status ?? 'unknown')
      s = own.self.status !== 'trusted' ? own.self.status : seen.length === 0 ? 'trusted' : seen.every(x => x === seen[0]) ? seen[0]! : `mixed(${[...new Set(seen)].join(',')})`
    }
    return { name: n.name, peerId: n.peerId, zone: n.zone, api: n.api, token: n.token, status: s, policyDigest: status[i]?.policyDigest ?? null, pid: alive(n.pid) ? n.pid : null }
  })
}

async function up (opts: UpOptions): Promise<void> {
  const dir = resolve(opts.dir)
  const count = Number(opts.nodes)
  if (!Number.isInteger(count) || count < 1 || count > 64) throw new CliError('--nodes: expected 1..64', EXIT.usage)
  const basePort = opts.basePort !== undefined ? Number(opts.basePort) : undefined
  if (basePort !== undefined && (!Number.isInteger(basePort) || basePort < 1024 || basePort > 60000)) throw new CliError('--base-port: expected 1024..60000', EXIT.usage)
  const t0 = Date.now()
  const resumed = existsSync(join(dir, 'genesis.json'))
  if (!resumed) {
    say(opts.json, `creating a ${count}-node testnet in ${dir}`)
    create(dir, count)
  } else {
    say(opts.json, `resuming the testnet in ${dir}`)
  }
  const genesis = join(dir, 'genesis.json')
  let nodes = listNodes(dir)
  const children = []
  const first = nodes[0]!
  const startOne = async (n: TestnetNode, i: number, bootstrap: string[]): Promise<void> => {
    if (alive(n.pid)) return
    children.push(startNode(n, { genesis, bootstrap, apiPort: ports(basePort, i).api, p2pPort: ports(basePort, i).p2p, detach: opts.detach }))
    await waitFor(async () => existsSync(join(n.dir, 'node.json')) ? true : undefined, 60_000, `${n.name} to start (see ${join(n.dir, 'node.log')})`)
  }
  await startOne(first, 0, [])
  nodes = listNodes(dir)
  const bootstrap = nodes[0]!.addrs.slice(0, 1)
  // Start in small waves: twenty processes loading at once starve two cores.
  for (let i = 1; i < nodes.length; i += 4) {
    await Promise.all(nodes.slice(i, i + 4).map((n, j) => startOne(n, i + j, bootstrap)))
    say(opts.json, `started ${Math.min(i + 4, nodes.length)}/${nodes.length} nodes`)
  }
  nodes = listNodes(dir)
  let last = ''
  await waitFor(async () => {
    const rows = await statusRows(nodes)
    const trusted = rows.filter(r => r.status === 'trusted').length
    const digests = new Set(rows.map(r => r.policyDigest))
    const line = `${trusted}/${rows.length} nodes trusted by every peer, ${digests.size} policy digest(s)`
    if (line !== last) { say(opts.json, line); last = line }
    return trusted === rows.length && digests.size === 1 ? true : undefined
  }, Number(opts.timeout) * 1000, 'every node to trust every other')
  const rows = await statusRows(nodes)
  const seconds = (Date.now() - t0) / 1000
  // The token rides in the fragment, which the browser never sends: the console keeps it for the tab.
  const consoleUrl = rows[0]!.api === null ? null : `${rows[0]!.api}/#token=${rows[0]!.token}`
  emit(opts.json, { dir, seconds, console: consoleUrl, nodes: rows.map((r, i) => ({ ...r, multiaddr: nodes[i]!.addrs[0] ?? null })) }, () => [
    `testnet ready in ${seconds.toFixed(1)} s: ${rows.length} nodes, policy ${rows[0]!.policyDigest?.slice(0, 16) ?? '?'}…`,
    `web console of node1: ${consoleUrl ?? '-'}`,
    table(['NODE', 'PEER ID', 'ZONE', 'API', 'MULTIADDR'], rows.map((r, i) => [r.name, r.peerId, r.zone, r.api ?? '-', nodes[i]!.addrs[0] ?? '-'])),
    '',
    'try next:',
    `  npx govmesh status --data-dir ${join(dir, 'node1')}`,
    `  npx govmesh exec --action echo --resource demo --target zone:b --data-dir ${join(dir, 'node1')}`,
    `  npx govmesh exec --action deploy --resource demo --target zone:b --data-dir ${join(dir, 'node1')}   # denied`,
    `  npx govmesh testnet tamper --dir ${dir} node2`,
    `  npx govmesh trust status --data-dir ${join(dir, 'node1')}`,
    `  npx govmesh testnet status --dir ${dir}`,
    opts.detach ? `  npx govmesh testnet down --dir ${dir}` : '  (Ctrl-C stops every node this command started)'
  ].join('\n'))
  if (opts.detach) return
  await new Promise<void>((resolvePromise) => {
    const stop = (): void => {
      say(opts.json, 'stopping the testnet…')
      void stopAll(dir).then(() => { resolvePromise() })
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
}

export function registerTestnet (program: Command): void {
  const testnet = program.command('testnet').description('a local multi-node testnet on 127.0.0.1 for trying govmesh')
  testnet.command('up').description('create (or resume) a testnet and start its nodes; waits until every node trusts every other')
    .option('--nodes <n>', 'number of nodes (only when creating)', '5')
    .option('--dir <dir>', 'testnet state directory (keys, genesis.json, data dirs, logs, pids)', '.testnet')
    .option('--detach', 'leave the nodes running in the background and return', false)
    .option('--base-port <p>', 'fixed ports: API on P+i, libp2p on P+1000+i (default: random free ports)')
    .option('--timeout <s>', 'seconds to wait for every node to be trusted', '180')
    .option('--json', 'print the ready testnet as JSON', false)
    .action(up)

  testnet.command('status').description('each node: PeerId, zone, API, token, status as its peers see it, policy digest, pid')
    .option('--dir <dir>', 'testnet state directory', '.testnet')
    .option('--json', 'print {"nodes": [{"name", "peerId", "zone", "api", "token", "status", "policyDigest", "pid"}]}', false)
    .action(async (opts: { dir: string, json: boolean }) => {
      const nodes = listNodes(resolve(opts.dir))
      if (nodes.length === 0) throw new CliError(`no testnet in ${opts.dir}`)
      const rows = await statusRows(nodes)
      emit(opts.json, { nodes: rows }, () => table(['NODE', 'PEER ID', 'ZONE', 'STATUS', 'POLICY', 'API', 'PID'], rows.map(r => [
        r.name, r.peerId, r.zone, r.status, r.policyDigest?.slice(0, 12) ?? '-', r.api ?? '-', r.pid === null ? '-' : String(r.pid)])))
    })

  testnet.command('down').description('stop every node of the testnet (its data stays; `up` resumes it)')
    .option('--dir <dir>', 'testnet state directory', '.testnet')
    .option('--json', 'print {"stopped"}', false)
    .action(async (opts: { dir: string, json: boolean }) => {
      const stopped = await stopAll(resolve(opts.dir))
      emit(opts.json, { stopped }, () => `stopped ${stopped} node(s)`)
    })

  const one = (name: string, description: string): Command => testnet.command(name).description(description)
    .argument('<node>', 'node name (node3), index (3) or PeerId')
    .option('--dir <dir>', 'testnet state directory', '.testnet')
    .option('--json', 'print JSON', false)
  const pick = (dir: string, ref: string): TestnetNode => {
    const n = findNode(listNodes(resolve(dir)), ref)
    if (n === undefined) throw new CliError(`no node ${ref} in ${dir}`, EXIT.usage)
    return n
  }

  one('kill', 'SIGKILL a node (restart it with `testnet up`; no acknowledged entry is lost)')
    .action(async (ref: string, opts: { dir: string, json: boolean }) => {
      const n = pick(opts.dir, ref)
      const killed = await stopNode(n, 'SIGKILL')
      emit(opts.json, { node: n.name, killed }, () => killed ? `killed ${n.name}` : `${n.name} was not running`)
    })

  one('tamper', 'restart a node advertising a runtime measurement outside the allowlist; its peers quarantine it')
    .action(async (ref: string, opts: { dir: string, json: boolean }) => {
      const dir = resolve(opts.dir)
      const nodes = listNodes(dir)
      const n = pick(dir, ref)
      const peer = nodes.find(x => x !== n && alive(x.pid) && x.addrs.length > 0)
      await stopNode(n)
      startNode(n, { genesis: join(dir, 'genesis.json'), bootstrap: peer?.addrs.slice(0, 1) ?? [], apiPort: 0, p2pPort: 0, detach: true, extraArgs: ['--measurement', 'bad'.repeat(2) + '0'.repeat(58)] })
      await waitFor(async () => existsSync(join(n.dir, 'node.json')) ? true : undefined, 60_000, `${n.name} to restart`)
      emit(opts.json, { node: n.name, tampered: true }, () => `${n.name} restarted with a tampered measurement; watch: govmesh trust status --data-dir ${join(dir, 'node1')}`)
    })

  testnet.command('partition').description('cut connections between the named nodes and all the others')
    .argument('<nodes...>', 'nodes of one side')
    .option('--dir <dir>', 'testnet state directory', '.testnet')
    .option('--json', 'print JSON', false)
    .action(async (refs: string[], opts: { dir: string, json: boolean }) => {
      const nodes = listNodes(resolve(opts.dir)).filter(n => alive(n.pid))
      const side = refs.map(r => pick(opts.dir, r).name)
      const a = nodes.filter(n => side.includes(n.name))
      const b = nodes.filter(n => !side.includes(n.name))
      for (const n of a) await nodePost(n, '/v1/admin/block', { peers: b.map(x => x.peerId) })
      for (const n of b) await nodePost(n, '/v1/admin/block', { peers: a.map(x => x.peerId) })
      emit(opts.json, { sideA: a.map(n => n.name), sideB: b.map(n => n.name) }, () => `partitioned ${a.map(n => n.name).join(',')} | ${b.map(n => n.name).join(',')}`)
    })

  testnet.command('heal').description('restore connections after a partition')
    .option('--dir <dir>', 'testnet state directory', '.testnet')
    .option('--json', 'print JSON', false)
    .action(async (opts: { dir: string, json: boolean }) => {
      const nodes = listNodes(resolve(opts.dir)).filter(n => alive(n.pid))
      for (const n of nodes) await nodePost(n, '/v1/admin/block', { peers: [] })
      // Reconnect everyone to the first node; heartbeats introduce the rest.
      const hub = nodes[0]!
      for (const n of nodes.slice(1)) await nodePost(n, '/v1/join', { multiaddr: hub.addrs[0] }).catch(() => undefined)
      emit(opts.json, { healed: nodes.map(n => n.name) }, () => `healed ${nodes.length} node(s)`)
    })
}
