import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { TAMPERED_MARKER } from './diagnose.js'
import { inNamespace, nodeAddress, NETNS_API_PORT, NETNS_P2P_PORT, readLayout } from './netns.js'
import { alive, listNodes, type TestnetNode } from './state.js'

const BIN = fileURLToPath(new URL('../../bin/govmesh.js', import.meta.url))

export interface StartOptions {
  genesis: string
  bootstrap: string[]
  apiPort: number
  p2pPort: number
  detach: boolean
  extraArgs?: string[]
  /** Advertise this runtime measurement instead of the real one (`testnet tamper`). */
  measurement?: string
}

/** Starts one node process with its log in DIR/nodeN/node.log; returns the child. */
export function startNode (node: TestnetNode, opts: StartOptions): ChildProcess {
  rmSync(join(node.dir, 'node.json'), { force: true })
  const marker = join(node.dir, TAMPERED_MARKER)
  if (opts.measurement !== undefined) writeFileSync(marker, opts.measurement + '\n')
  else rmSync(marker, { force: true })
  const log = openSync(join(node.dir, 'node.log'), 'a')
  // In a netns testnet the node runs inside its namespace, on its own address and fixed ports.
  const layout = readLayout(dirname(node.dir))
  const host = layout !== undefined ? nodeAddress(layout, node.name) : '127.0.0.1'
  const apiPort = layout !== undefined ? NETNS_API_PORT : opts.apiPort
  const p2pPort = layout !== undefined ? NETNS_P2P_PORT : opts.p2pPort
  const args = [BIN, 'start', '--data-dir', node.dir, '--genesis', opts.genesis,
    '--api', `${host}:${apiPort}`, '--listen', `/ip4/${host}/tcp/${p2pPort}`, ...(opts.extraArgs ?? []),
    ...(opts.measurement !== undefined ? ['--measurement', opts.measurement] : [])]
  for (const b of opts.bootstrap) args.push('--bootstrap', b)
  // `ip netns exec` execs the node after entering the namespace: the pid is the node's.
  const [cmd, ...prefix] = layout !== undefined ? [
    ...inNamespace(layout, node.name), process.execPath
  ] : [process.execPath]
  const child = spawn(cmd, [...prefix, ...args], { stdio: ['ignore', log, log], detached: opts.detach })
  closeSync(log)
  writeFileSync(join(node.dir, 'pid'), String(child.pid) + '\n')
  if (opts.detach) child.unref()
  return child
}

/** Sends `signal` to a node's recorded process and waits until it is gone (SIGKILL after the grace period). */
export async function stopNode (
  node: TestnetNode, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000
): Promise<boolean> {
  if (!alive(node.pid)) {
    rmSync(join(node.dir, 'pid'), { force: true })
    return false
  }
  process.kill(node.pid!, signal)
  const deadline = Date.now() + graceMs
  while (alive(node.pid) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
  if (alive(node.pid)) process.kill(node.pid!, 'SIGKILL')
  while (alive(node.pid)) await new Promise(resolve => setTimeout(resolve, 20))
  rmSync(join(node.dir, 'pid'), { force: true })
  return true
}

export async function stopAll (dir: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
  const stopped = await Promise.all(listNodes(dir).map(n => stopNode(n, signal)))
  return stopped.filter(Boolean).length
}

/** GET a node API path as JSON, or undefined if the node does not answer. */
export async function nodeGet<T> (node: TestnetNode, path: string, timeoutMs = 2000): Promise<T | undefined> {
  if (node.api === null) return undefined
  try {
    const res = await fetch(node.api + path, { signal: AbortSignal.timeout(timeoutMs) })
    return res.ok ? await res.json() as T : undefined
  } catch {
    return undefined
  }
}

export async function nodePost<T> (node: TestnetNode, path: string, body: unknown): Promise<T> {
  const res = await fetch(node.api! + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${node.token ?? ''}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000)
  })
  const json = await res.json() as T & { message?: string }
  if (!res.ok) throw new Error(`${node.name} ${path}: ${res.status} ${json.message ?? ''}`)
  return json
}
