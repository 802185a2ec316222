import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { CliError, emit, EXIT, table } from '../output.js'
import { nodePost, startNode, stopAll, stopNode } from '../testnet/control.js'
import { isTampered } from '../testnet/diagnose.js'
import { shortPeerId } from '../names.js'
import { statusRows } from '../testnet/rows.js'
import { alive, findNode, listNodes, type TestnetNode } from '../testnet/state.js'
import { up } from '../testnet/up.js'
import { cutLinks, healLinks, readLayout, removeNetns } from '../testnet/netns.js'

/** The measurement `testnet tamper` advertises: well formed, never in an allowlist. */
const TAMPERED_MEASUREMENT = 'bad'.repeat(2) + '0'.repeat(58)

async function waitStarted (n: TestnetNode): Promise<void> {
  const deadline = Date.now() + 60_000
  while (!existsSync(join(n.dir, 'node.json'))) {
    if (Date.now() > deadline) throw new CliError(
      `timed out waiting for ${n.name} to restart (see ${join(n.dir, 'node.log')})`
    )
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

export function registerTestnet (program: Command): void {
  const testnet = program.command('testnet').description('a local multi-node testnet on 127.0.0.1 for trying govmesh')
  testnet.command('up').description(
    'create (or resume) a testnet and start its nodes; waits until every node trusts every other'
  )
    .option('--nodes <n>', 'number of nodes (only when creating)', '5')
    .option('--dir <dir>', 'testnet state directory (keys, genesis.json, data dirs, logs, pids)', '.testnet')
    .option('--detach', 'leave the nodes running in the background and return', false)
    .option('--base-port <p>', 'fixed ports: API on P+i, libp2p on P+1000+i (default: random free ports)')
    .option('--timeout <s>', 'seconds to wait for every node to be trusted', '180')
    .option('--json', 'print the ready testnet as JSON', false)
    .option(
      '--netns', 'each node in its own Linux network namespace on a private bridge (root; needs ip and nft)', false
    )
    .action(up)

  testnet.command('status').description(
    'each node: PeerId, zone, API, token, status as its peers see it, policy digest, pid'
  )
    .option('--dir <dir>', 'testnet state directory', '.testnet')
    .option(
      '--json',
      'print {"nodes": [{"name", "peerId", "zone", "api", "token", "status", "reasons", "policyDigest", "pid"}]}', false
    )
    .option('-o, --output <format>', 'wide: every column in full (default: fit the terminal)')
    .action(async (opts: { dir: string, json: boolean, output?: string }) => {
      const nodes = listNodes(resolve(opts.dir))
      if (nodes.length === 0) throw new CliError(`no testnet in ${opts.dir}`)
      const rows = (await statusRows(nodes)).map(({ views: _views, ...r }) => r)
      const wide = opts.output === 'wide'
      emit(opts.json, { nodes: rows }, () => table([
        'NODE', 'PEER ID', 'ZONE', 'STATUS', 'POLICY', 'API', 'PID'
      ], rows.map(r => [
        r.name, wide ? r.peerId : shortPeerId(r.peerId), r.zone,
        r.status + (isTampered(nodes.find(n => n.name === r.name)!) ? ' (tampered)' : ''),
        wide ? r.policyDigest ?? '-' : r.policyDigest?.slice(
          0, 12
        ) ?? '-', r.api ?? '-', r.pid === null ? '-' : String(r.pid)
      ]), { wide }))
    })

  testnet.command('down').description('stop every node of the testnet (its data stays; `up` resumes it)')
    .option('--dir <dir>', 'testnet state directory', '.testnet')
    .option('--json', 'print {"stopped"}', false)
    .action(async (opts: { dir: string, json: boolean }) => {
      const dir = resolve(opts.dir)
      const stopped = await stopAll(dir)
      const namespaces = readLayout(dir) !== undefined ? removeNetns(dir) : 0
      emit(
        opts.json, { stopped, namespaces },
        () => {
          const removed = namespaces > 0 ? `, removed ${namespaces} network namespace(s) and the bridge` : ''
          return `stopped ${stopped} node(s)${removed}`
        }
      )
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
    .option('--undo', 'restart it with its real measurement (then `govmesh trust restore` lifts the quarantine)', false)
    .action(async (ref: string, opts: { dir: string, json: boolean, undo: boolean }) => {
      const dir = resolve(opts.dir)
      const nodes = listNodes(dir)
      const n = pick(dir, ref)
      const peer = nodes.find(x => x !== n && alive(x.pid) && x.addrs.length > 0)
      await stopNode(n)
      startNode(n, {
        genesis: join(
          dir, 'genesis.json'
        ), bootstrap: peer?.addrs.slice(0, 1) ?? [], apiPort: 0, p2pPort: 0, detach: true,
        measurement: opts.undo ? undefined : TAMPERED_MEASUREMENT
      })
      await waitStarted(n)
      const restore = `govmesh trust restore ${n.peerId} --governor ${join(dir, 'governor.key')} --data-dir ` +
        `${join(dir, 'node1')}`
      emit(opts.json, { node: n.name, tampered: !opts.undo }, () => opts.undo
        ? `${n.name} restarted with its real measurement; its peers stop reporting it. Lift the quarantine: ${restore}`
        : `${n.name} restarted with a tampered measurement; watch: govmesh trust status --data-dir ` +
          `${join(dir, 'node1')}`)
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
      const layout = readLayout(resolve(opts.dir))
      if (layout !== undefined) {
        // Real links: packets between the sides are dropped inside each namespace.
        for (const n of a) cutLinks(layout, n.name, b.map(x => x.name))
        for (const n of b) cutLinks(layout, n.name, a.map(x => x.name))
      } else {
        for (const n of a) await nodePost(n, '/v1/admin/block', { peers: b.map(x => x.peerId) })
        for (const n of b) await nodePost(n, '/v1/admin/block', { peers: a.map(x => x.peerId) })
      }
      emit(
        opts.json, { sideA: a.map(n => n.name), sideB: b.map(n => n.name) },
        () => `partitioned ${a.map(n => n.name).join(',')} | ${b.map(n => n.name).join(',')}`
      )
    })

  testnet.command('heal').description('restore connections after a partition')
    .option('--dir <dir>', 'testnet state directory', '.testnet')
    .option('--json', 'print JSON', false)
    .action(async (opts: { dir: string, json: boolean }) => {
      const nodes = listNodes(resolve(opts.dir)).filter(n => alive(n.pid))
      const layout = readLayout(resolve(opts.dir))
      if (layout !== undefined) for (const n of listNodes(resolve(opts.dir))) healLinks(layout, n.name)
      else for (const n of nodes) await nodePost(n, '/v1/admin/block', { peers: [] })
      // Reconnect everyone to the first node; heartbeats introduce the rest.
      const hub = nodes[0]!
      for (const n of nodes.slice(1)) await nodePost(n, '/v1/join', { multiaddr: hub.addrs[0] }).catch(() => undefined)
      emit(opts.json, { healed: nodes.map(n => n.name) }, () => `healed ${nodes.length} node(s)`)
    })
}
