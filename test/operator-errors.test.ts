import { createServer, connect, type Server } from 'node:net'
import { existsSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { govmesh, TestMesh, type CliResult } from './helpers/cluster.js'

/** One clear line on stderr, no stack trace. */
function oneLine (r: CliResult): string {
  const lines = r.stderr.trim().split('\n')
  expect(lines, r.stderr).toHaveLength(1)
  expect(r.stderr).not.toMatch(/^\s+at /m)
  return lines[0]!
}

/** With --json the error is one JSON object on stderr. */
function jsonError (r: CliResult): { code: string, message: string, exitCode: number } {
  const parsed = JSON.parse(r.stderr) as { error: { code: string, message: string, exitCode: number } }
  expect(parsed.error.exitCode).toBe(r.code)
  return parsed.error
}

describe('operator errors: one clear line, a non-zero exit code, JSON with --json', () => {
  const mesh = new TestMesh()
  let busy: Server
  let busyPort = 0
  beforeAll(async () => {
    await mesh.create({ nodes: 2 })
    await mesh.start(mesh.nodes[0]!)
    busy = createServer()
    await new Promise<void>(resolve => busy.listen(0, '127.0.0.1', resolve))
    busyPort = (busy.address() as { port: number }).port
  }, 60_000)
  afterAll(async () => {
    busy.close()
    await mesh.cleanup()
  })

  it('a busy libp2p port', async () => {
    const args = ['start', '--data-dir', mesh.nodes[1]!.dir, '--genesis', mesh.genesisPath, '--api', '127.0.0.1:0',
      '--listen', `/ip4/127.0.0.1/tcp/${busyPort}`]
    const r = await govmesh(args)
    expect(r.code).toBe(1)
    expect(oneLine(r)).toBe(`govmesh: cannot listen on /ip4/127.0.0.1/tcp/${busyPort}: address already in use ` +
      '(another process holds the port); pick another port, or tcp/0 for any free port')
    const j = await govmesh([...args, '--json'])
    expect(j.code).toBe(1)
    expect(jsonError(j).code).toBe('cli.listen-failed')
  }, 60_000)

  it('a data dir in use by another process (with and without its node.json)', async () => {
    const n = mesh.nodes[0]!
    const args = ['start', '--data-dir', n.dir, '--genesis', mesh.genesisPath, '--api', '127.0.0.1:0']
    const r = await govmesh(args)
    expect(r.code).toBe(1)
    expect(oneLine(r)).toMatch(
      new RegExp(
        `^govmesh: data dir ${n.dir} is in use by another process \\(pid ${n.proc!.pid}, API http://127\\.0\\.0\\.1:\\d+\\)`
      )
    )
    // Without node.json only the store's lock tells: the same error.
    renameSync(join(n.dir, 'node.json'), join(n.dir, 'node.json.hidden'))
    try {
      const locked = await govmesh([...args, '--json'])
      expect(locked.code).toBe(1)
      const e = jsonError(locked)
      expect(e.code).toBe('cli.data-dir-in-use')
      expect(e.message).toMatch(/is in use by another process: stop that node first/)
    } finally {
      renameSync(join(n.dir, 'node.json.hidden'), join(n.dir, 'node.json'))
    }
  }, 60_000)

  it('status --data-dir of a missing dir: an error, not the default :7700', async () => {
    const missing = join(mesh.root, 'no-such-node')
    const r = await govmesh(['status', '--data-dir', missing])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(oneLine(r)).toBe(
      `govmesh: no node data dir at ${missing}: create one with \`govmesh init --data-dir ${missing}\``
    )
    expect(jsonError(await govmesh(['status', '--data-dir', missing, '--json'])).code).toBe('cli.no-data-dir')
  })

  it('status --data-dir of a stopped node says it is not running and how to start it', async () => {
    const n = mesh.nodes[1]!
    await mesh.start(n)
    await mesh.stop(n, 'SIGTERM')
    const expected = `govmesh: the node of ${n.dir} is not running: start it with \`govmesh start --data-dir ${n.dir} --genesis GENESIS.json\``
    const r = await govmesh(['status', '--data-dir', n.dir])
    expect(r.code).toBe(1)
    expect(oneLine(r)).toBe(expected)
    // After kill -9 the node.json stays behind, naming a dead pid: the same answer.
    await mesh.start(n)
    await mesh.stop(n, 'SIGKILL')
    expect(existsSync(join(n.dir, 'node.json'))).toBe(true)
    const k = await govmesh(['trust', 'status', '--data-dir', n.dir, '--json'])
    expect(k.code).toBe(1)
    expect(jsonError(k)).toMatchObject({ code: 'cli.not-running', message: expected.replace('govmesh: ', '') })
  }, 60_000)

  it('usage errors parse as JSON with --json', async () => {
    const r = await govmesh(['exec', '--resource', 'x', '--json'])
    expect(r.code).toBe(2)
    expect(jsonError(r).message).toMatch(/required option '--action <action>' not specified/)
    const plain = await govmesh(['exec', '--resource', 'x'])
    expect(plain.code).toBe(2)
    expect(plain.stderr).toMatch(/required option/)
  })

  it('the API closes a connection whose client is too slow to send its headers, and idle keep-alives', async () => {
    const url = new URL(mesh.nodes[0]!.api!)
    const closedAfter = async (send: string): Promise<{
      ms: number, reply: string
    }> => new Promise((resolve, reject) => {
      const t0 = Date.now()
      let reply = ''
      const socket = connect(Number(url.port), url.hostname, () => { socket.write(send) })
      socket.on('data', (d: Buffer) => { reply += d.toString() })
      socket.on('error', reject)
      socket.on('close', () => { resolve({ ms: Date.now() - t0, reply }) })
      setTimeout(() => { socket.destroy(); reject(new Error('connection still open after 20 s')) }, 20_000)
    })
    // Headers never finished: cut after the 10 s header limit (checked every second).
    const slow = await closedAfter('GET /v1/status HTTP/1.1\r\nHost: x\r\n')
    expect(slow.ms).toBeGreaterThanOrEqual(9_000)
    expect(slow.ms).toBeLessThan(15_000)
    // A complete request, then silence: the keep-alive connection closes after 5 s.
    const idle = await closedAfter('GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n')
    expect(idle.reply).toMatch(/^HTTP\/1\.1 200/)
    expect(idle.ms).toBeLessThan(9_000)
  }, 60_000)
})
