import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { shortPeerId } from '../names.js'
import { CliError, emit, EXIT, table } from '../output.js'
import { createTestnet } from './create.js'
import { startNode, stopAll } from './control.js'
import { diagnose, renderDiagnosis } from './diagnose.js'
import { checkNetnsSupport, createNetns, readLayout } from './netns.js'
import { statusRows } from './rows.js'
import { alive, listNodes, type TestnetNode } from './state.js'

export interface UpOptions {
  nodes: string, dir: string, detach: boolean, basePort?: string, json: boolean, timeout: string, netns: boolean
}

/** `testnet up` timed out: names each node not trusted, why, and the fix. */
export class TestnetNotReadyError extends CliError {
  readonly untrusted: ReturnType<typeof diagnose>[]
  constructor (message: string, untrusted: ReturnType<typeof diagnose>[]) {
    super(message)
    this.name = 'TestnetNotReadyError'
    this.untrusted = untrusted
  }
}

const say = (json: boolean, line: string): void => { if (!json) process.stderr.write(line + '\n') }

async function poll<T> (
  check: () => Promise<T | undefined>, timeoutMs: number, what: string, intervalMs = 200
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new CliError(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, intervalMs))
  }
}

function ports (basePort: number | undefined, index: number): { api: number, p2p: number } {
  return basePort === undefined ? { api: 0, p2p: 0 } : { api: basePort + index, p2p: basePort + 1000 + index }
}

/** Starts every node that is not running: the first alone, then the rest bootstrapping to it. */
async function startMissing (dir: string, opts: UpOptions, basePort: number | undefined): Promise<void> {
  const genesis = join(dir, 'genesis.json')
  const startOne = async (n: TestnetNode, i: number, bootstrap: string[]): Promise<void> => {
    if (alive(n.pid)) return
    startNode(
      n, { genesis, bootstrap, apiPort: ports(basePort, i).api, p2pPort: ports(basePort, i).p2p, detach: opts.detach }
    )
    // A node loading on a machine busy with the ones before it may take long; --timeout bounds it too.
    await poll(
      async () => existsSync(join(n.dir, 'node.json')) ? true : undefined, Math.max(60, Number(opts.timeout)) * 1000,
      `${n.name} to start (see ${join(n.dir, 'node.log')})`
    )
  }
  let nodes = listNodes(dir)
  await startOne(nodes[0]!, 0, [])
  nodes = listNodes(dir)
  const bootstrap = nodes[0]!.addrs.slice(0, 1)
  // At most a few loading at a time (twenty processes loading at once starve two cores), and the next
  // starts as soon as one is up rather than when the slowest of a wave is.
  let next = 1
  let started = 1
  const worker = async (): Promise<void> => {
    while (next < nodes.length) {
      const i = next++
      await startOne(nodes[i]!, i, bootstrap)
      started++
      if (started % 4 === 0 || started === nodes.length) say(opts.json, `started ${started}/${nodes.length} nodes`)
    }
  }
  await Promise.all(Array.from({ length: Math.min(STARTING_AT_ONCE, nodes.length - 1) }, worker))
}

/** How many nodes load at the same time while a testnet starts. */
const STARTING_AT_ONCE = 4

/**
 * How often to ask every node for its trust view while waiting: each round is two requests per node,
 * and on 50 nodes asking every 200 ms would itself keep two cores busy.
 */
function statusPollMs (nodes: number): number {
  return Math.max(200, nodes * 25)
}

/** Waits until every node trusts every other with one policy digest; on timeout, explains each node that is not. */
async function waitTrusted (dir: string, opts: UpOptions): Promise<void> {
  const nodes = listNodes(dir)
  let last = ''
  try {
    await poll(async () => {
      const rows = await statusRows(nodes)
      const trusted = rows.filter(r => r.status === 'trusted').length
      const digests = new Set(rows.map(r => r.policyDigest))
      const line = `${trusted}/${rows.length} nodes trusted by every peer, ${digests.size} policy digest(s)`
      if (line !== last) { say(opts.json, line); last = line }
      return trusted === rows.length && digests.size === 1 ? true : undefined
    }, Number(opts.timeout) * 1000, 'every node to trust every other', statusPollMs(nodes.length))
  } catch (err) {
    if (!(err instanceof CliError)) throw err
    const rows = await statusRows(listNodes(dir))
    const untrusted = rows.filter(r => r.status !== 'trusted').map(
      r => diagnose(dir, nodes.find(n => n.name === r.name)!, r.status, r.views)
    )
    if (!opts.detach) await stopAll(dir)
    const left = opts.detach ? `the nodes are left running (govmesh testnet down --dir ${dir} stops them)` :
      'stopped the nodes it started'
    say(opts.json, ['not trusted by every peer:', ...renderDiagnosis(untrusted)].join('\n'))
    const names = untrusted.map(u => `${u.name} (${u.status})`).join(', ')
    throw new TestnetNotReadyError(
      `timed out waiting for every node to trust every other after ${opts.timeout} s: ` +
        `${names || 'policy digests differ'}; ${left}`,
      untrusted
    )
  }
}

/** `govmesh testnet up`: creates (or resumes) a testnet, starts its nodes and waits until every node is trusted. */
export async function up (opts: UpOptions): Promise<void> {
  const dir = resolve(opts.dir)
  const count = Number(opts.nodes)
  if (!Number.isInteger(count) || count < 1 || count > 64) throw new CliError('--nodes: expected 1..64', EXIT.usage)
  const basePort = opts.basePort !== undefined ? Number(opts.basePort) : undefined
  if (
    basePort !== undefined && (!Number.isInteger(basePort) || basePort < 1024 || basePort > 60000)
  ) throw new CliError('--base-port: expected 1024..60000', EXIT.usage)
  if (opts.netns) checkNetnsSupport()
  const t0 = Date.now()
  if (!existsSync(join(dir, 'genesis.json'))) {
    say(opts.json, `creating a ${count}-node testnet in ${dir}`)
    createTestnet(dir, count)
  } else {
    say(opts.json, `resuming the testnet in ${dir}`)
  }
  if (opts.netns || readLayout(dir) !== undefined) {
    const layout = createNetns(dir, listNodes(dir).map(n => n.name))
    say(
      opts.json,
      `network namespaces: ${Object.values(layout.namespaces).join(', ')} on bridge ${layout.bridge} ` +
        `(${layout.subnet}.0/24)`
    )
  }
  await startMissing(dir, opts, basePort)
  await waitTrusted(dir, opts)
  const nodes = listNodes(dir)
  const rows = await statusRows(nodes)
  const seconds = (Date.now() - t0) / 1000
  // The token rides in the fragment, which the browser never sends: the console keeps it for the tab.
  const consoleUrl = rows[0]!.api === null ? null : `${rows[0]!.api}/#token=${rows[0]!.token}`
  const json = {
    dir, seconds, console: consoleUrl,
    nodes: rows.map(({ views: _views, ...r }, i) => ({ ...r, multiaddr: nodes[i]!.addrs[0] ?? null }))
  }
  emit(opts.json, json, () => [
    `testnet ready in ${seconds.toFixed(1)} s: ${rows.length} nodes, policy ` +
      `${rows[0]!.policyDigest?.slice(0, 16) ?? '?'}…`,
    `web console of node1: ${consoleUrl ?? '-'}`,
    // The multiaddr ends in the PeerId: the column that shrinks first.
    table(['NODE', 'PEER ID', 'ZONE', 'API', 'MULTIADDR'], rows.map(
      (r, i) => [r.name, shortPeerId(r.peerId), r.zone, r.api ?? '-', nodes[i]!.addrs[0] ?? '-']
    ),
      { shrink: [4] }),
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
