import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CID, createDag, createEntry, decodeGenesisFile, execRequestBody, decodeKeyFile, generateKeyPair, keyPairFromSecret,
  nextEntry,
  peerIdFromPublicKey, toBase64, type Dag, type KeyPair, type SignedEntry
} from '@govmesh/core'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests index into arbitrary API JSON
type AnyJson = any

export const BIN = new URL('../../packages/cli/bin/govmesh.js', import.meta.url).pathname

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T> (
  what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000, everyMs = 50
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const v = await check()
      if (v !== undefined && v !== false) return v
    } catch (err) {
      lastError = err
    }
    if (Date.now() > deadline) throw new Error(
      `timed out after ${timeoutMs} ms waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`
    )
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
}

export interface CliResult { code: number, stdout: string, stderr: string }

/** Runs the govmesh CLI as a child process. */
export async function govmesh (args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024
    }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (
        err as { code?: unknown }
      ).code === 'number' ? (err as { code: number }).code : 1
      resolve({ code, stdout, stderr })
    })
  })
}

/** govmesh with --json, parsed; throws with stderr on a non-zero exit. */
export async function govmeshJson<T> (args: string[]): Promise<T> {
  const r = await govmesh([...args, '--json'])
  if (r.code !== 0) throw new Error(`govmesh ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return JSON.parse(r.stdout) as T
}

export interface NodeHandle {
  name: string
  dir: string
  peerId: string
  keys: KeyPair
  proc?: ChildProcess
  api?: string
  token?: string
  addrs: string[]
  log: string[]
  exited?: Promise<number | null>
}

export interface MeshInit {
  nodes: number
  zones?: string[]
  policy?: unknown
  failQuorum?: number
  restoreQuorum?: number
  /** Governor approvals a policy.update or governor change needs (genesis --policy-quorum). */
  policyQuorum?: number
  governors?: number
  /** Extra member keys (e.g. a MemberWriter's) named in the genesis. */
  extraMembers?: Array<{ keys: KeyPair, zone: string }>
}

/**
 * A mesh of real `govmesh start` processes in a temporary directory. Tracks every
 * process it starts and kills only those.
 */
export class TestMesh {
  readonly root: string
  readonly nodes: NodeHandle[] = []
  readonly governors: KeyPair[] = []
  genesisPath = ''
  meshId = ''

  constructor () {
    this.root = mkdtempSync(join(tmpdir(), 'govmesh-test-'))
  }

  async create (init: MeshInit): Promise<void> {
    for (let g = 0; g < (init.governors ?? 1); g++) {
      const path = join(this.root, `governor${g + 1}.key`)
      await govmeshJson(['keygen', '--out', path])
      this.governors.push(decodeKeyFile(readFileSync(path, 'utf8')))
    }
    for (let i = 0; i < init.nodes; i++) await this.initNode()
    const policyPath = join(this.root, 'policy.json')
    writeFileSync(
      policyPath,
      JSON.stringify(
        init.policy ?? { rules: [{ id: 'echo-local', effect: 'allow', principals: ['local'], actions: ['echo'] }] }
      )
    )
    const zones = init.zones ?? this.nodes.map(() => 'a')
    this.genesisPath = join(this.root, 'genesis.json')
    const args = ['genesis', '--out', this.genesisPath, '--policy', policyPath,
      '--fail-quorum', String(init.failQuorum ?? 1), '--restore-quorum', String(init.restoreQuorum ?? 1),
      ...(init.policyQuorum !== undefined ? ['--policy-quorum', String(init.policyQuorum)] : [])]
    for (let g = 0; g < this.governors.length; g++) args.push('--governor', join(this.root, `governor${g + 1}.key`))
    this.nodes.forEach((n, i) => args.push('--member', `${n.peerId}=${zones[i] ?? 'a'}`))
    for (const m of init.extraMembers ?? []) args.push('--member', `${peerIdFromPublicKey(m.keys.publicKey)}=${m.zone}`)
    const out = await govmeshJson<{ meshId: string }>(args)
    this.meshId = out.meshId
  }

  governorKeyPath (i = 0): string { return join(this.root, `governor${i + 1}.key`) }

  /** Creates a node data dir (not a member unless the genesis or an admit names it). */
  async initNode (): Promise<NodeHandle> {
    const name = `node${this.nodes.length + 1}`
    const dir = join(this.root, name)
    const r = await govmeshJson<{ peerId: string }>(['init', '--data-dir', dir])
    const keys = decodeKeyFile(readFileSync(join(dir, 'node.key'), 'utf8'))
    const handle: NodeHandle = { name, dir, peerId: r.peerId, keys, addrs: [], log: [] }
    this.nodes.push(handle)
    return handle
  }

  /** Starts `govmesh start` for a node and waits until its API answers. */
  async start (
    node: NodeHandle,
    opts: { bootstrap?: NodeHandle[], extraArgs?: string[], nodeArgs?: string[], timeoutMs?: number } = {}
  ): Promise<NodeHandle> {
    rmSync(join(node.dir, 'node.json'), { force: true })
    const args = [...(
      opts.nodeArgs ?? []
    ), BIN, 'start', '--data-dir', node.dir, '--genesis', this.genesisPath, '--api', '127.0.0.1:0',
      '--listen', '/ip4/127.0.0.1/tcp/0', ...(opts.extraArgs ?? [])]
    for (const b of opts.bootstrap ?? []) for (const a of b.addrs) args.push('--bootstrap', a)
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    node.proc = proc
    node.log = []
    const collect = (chunk: Buffer): void => {
      for (const line of chunk.toString().split('\n')) if (line.length > 0) node.log.push(line)
    }
    proc.stdout.on('data', collect)
    proc.stderr.on('data', collect)
    node.exited = new Promise(resolve => proc.once('exit', (code) => { resolve(code) }))
    await waitFor(`${node.name} to start`, () => {
      if (proc.exitCode !== null) throw new Error(
        `${node.name} exited ${proc.exitCode}: ${node.log.slice(-5).join('\n')}`
      )
      return existsSync(join(node.dir, 'node.json'))
    }, opts.timeoutMs ?? 30_000)
    const info = JSON.parse(readFileSync(join(node.dir, 'node.json'), 'utf8')) as { api: string, addrs: string[] }
    node.api = info.api
    node.addrs = info.addrs
    node.token = readFileSync(join(node.dir, 'api-token'), 'utf8').trim()
    return node
  }

  /** Stops a node with a signal and waits for it to exit. */
  async stop (node: NodeHandle, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const proc = node.proc
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return proc?.exitCode ?? null
    proc.kill(signal)
    const code = await node.exited
    node.proc = undefined
    return code ?? null
  }

  async get<T> (node: NodeHandle, path: string): Promise<T> {
    const res = await fetch(node.api! + path)
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`)
    return await res.json() as T
  }

  async post (
    node: NodeHandle, path: string, body: unknown, token: string | null = node.token ?? null
  ): Promise<{ status: number, body: AnyJson }> {
    const res = await fetch(node.api! + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token !== null ? { authorization: `Bearer ${token}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body)
    })
    const text = await res.text()
    let parsed: unknown = text
    try { parsed = JSON.parse(text) } catch { /* not JSON */ }
    return { status: res.status, body: parsed }
  }

  async status (node: NodeHandle): Promise<{
    peerId: string, policyDigest: string, heads: string[], entries: number, peers: number, frontier: Record<string,
    number>, meshId: string, addrs: string[]
  }> {
    return this.get(node, '/v1/status')
  }

  async metrics (node: NodeHandle): Promise<string> {
    const res = await fetch(node.api! + '/metrics')
    return res.text()
  }

  /** Waits until every given node reports the same heads and policy digest. */
  async waitConverged (nodes: NodeHandle[], timeoutMs = 30_000): Promise<{
    heads: string[], policyDigest: string, entries: number
  }> {
    return waitFor('nodes to converge', async () => {
      const all = await Promise.all(nodes.map(n => this.status(n)))
      const first = all[0]!
      const same = all.every(
        s => s.policyDigest === first.policyDigest && JSON.stringify(s.heads) === JSON.stringify(first.heads)
      )
      return same ? { heads: first.heads, policyDigest: first.policyDigest, entries: first.entries } : undefined
    }, timeoutMs, 100)
  }

  async cleanup (): Promise<void> {
    for (const n of this.nodes) {
      if (n.proc !== undefined && n.proc.exitCode === null && n.proc.signalCode === null) {
        n.proc.kill('SIGKILL')
        await n.exited
      }
    }
    rmSync(this.root, { recursive: true, force: true })
  }
}

/**
 * Writes entries as a member key held by the test (admitted by a governor through
 * the API), keeping a local DAG mirror to number them.
 */
export class MemberWriter {
  readonly keys: KeyPair
  readonly peerId: string

  private dag!: Dag

  constructor (keys: KeyPair = generateKeyPair()) {
    this.keys = keys
    this.peerId = peerIdFromPublicKey(keys.publicKey)
  }

  /** Binds the writer to a mesh's genesis (after the genesis file exists). */
  open (genesisPath: string): this {
    this.dag = createDag({ genesis: decodeGenesisFile(readFileSync(genesisPath, 'utf8')) })
    return this
  }

  meshId (): string { return this.dag.meshIdString }

  /** Mirrors an entry the writer must build on (e.g. the admit naming it) with its ancestry, fetched from a node. */
  async learn (mesh: TestMesh, node: NodeHandle, cid: string): Promise<void> {
    const { entries } = await mesh.get<{ entries: Array<{ cid: string }> }>(node, `/v1/dag/ancestry/${cid}`)
    for (const { cid: id } of entries.reverse()) {
      const res = await fetch(`${node.api!}/v1/dag/entries/${id}?format=raw`)
      this.dag.add(new Uint8Array(await res.arrayBuffer()))
    }
  }

  /** The next `count` exec.request entries, already added to the mirror. */
  next (count: number): SignedEntry[] {
    const out: SignedEntry[] = []
    for (let i = 0; i < count; i++) {
      const e = nextEntry(
        this.dag, this.keys,
        {
          type: 'exec.request',
          body: execRequestBody({ action: 'echo', resource: `test/${i}`, target: 'zone:a', payload: { i } })
        }
      )
      this.dag.add(e, { verified: true })
      out.push(e)
    }
    return out
  }
}

/**
 * Runs `govmesh start` on a data dir that must be refused; its exit code and output. The process is
 * killed if it still runs after `killAfterMs` (a start that was not refused), so none is left behind.
 */
export async function startRefused (
  mesh: TestMesh, dir: string, killAfterMs = 30_000
): Promise<{ code: number | null, output: string }> {
  const proc = spawn(process.execPath, [BIN, 'start', '--data-dir', dir, '--genesis', mesh.genesisPath,
    '--api', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  proc.stdout.on('data', (c: Buffer) => { output += c.toString() })
  proc.stderr.on('data', (c: Buffer) => { output += c.toString() })
  const exited = new Promise<number | null>(resolve => proc.once('exit', resolve))
  const timer = setTimeout(() => { proc.kill('SIGKILL') }, killAfterMs)
  const code = await exited
  clearTimeout(timer)
  return { code, output }
}

/** Admits a key as a member through a node's API, signed by the governor; returns the admit entry. */
export async function admitMember (mesh: TestMesh, via: NodeHandle, key: KeyPair, zone = 'a'): Promise<SignedEntry> {
  const gov = mesh.governors[0]!
  const pos = await mesh.get<{ mesh: string, seq: number, prev: string | null, parents: string[] }>(
    via, `/v1/dag/next?author=${Buffer.from(gov.publicKey).toString('hex')}`
  )
  const entry = createEntry({
    mesh: CID.parse(pos.mesh), seq: pos.seq, prev: pos.prev === null ? null : CID.parse(pos.prev),
    parents: pos.parents.map(p => CID.parse(p)), type: 'member.admit', body: {
      member: key.publicKey, zone
    }, time: Date.now()
  }, gov)
  const res = await mesh.post(via, '/v1/entries', { entry: toBase64(entry.bytes) })
  if (res.status !== 200) throw new Error(`admit failed: ${res.status} ${JSON.stringify(res.body)}`)
  return entry
}

export { keyPairFromSecret }
