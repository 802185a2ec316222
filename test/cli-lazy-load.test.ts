import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { govmesh, TestMesh, type NodeHandle } from './helpers/cluster.js'
import { ModuleRecorder } from './helpers/module-recorder.js'

// Client commands only talk HTTP to a node: loading the daemon's packages would cost each of them
// about a second (issue 10, "Fast CLI").
describe('client commands load none of the daemon\'s packages', () => {
  const mesh = new TestMesh()
  let recorder: ModuleRecorder
  let node: NodeHandle

  beforeAll(async () => {
    recorder = new ModuleRecorder(mesh.root)
    await mesh.create({ nodes: 1 })
    node = await mesh.start(mesh.nodes[0]!, { nodeArgs: [recorder.importOption('start')] })
  })
  afterAll(async () => { await mesh.cleanup() })

  it('the recorder sees libp2p, level and fastify in the node itself', () => {
    const daemon = recorder.daemonPackages('start')
    for (const p of ['libp2p', 'level', 'fastify']) expect(daemon).toContain(p)
  })

  const commands: Array<[string, (n: NodeHandle) => string[]]> = [
    ['--version', () => ['--version']],
    ['status', n => ['status', '--json', '--data-dir', n.dir]],
    ['peers', n => ['peers', '--json', '--data-dir', n.dir]],
    ['dag heads', n => ['dag', 'heads', '--json', '--data-dir', n.dir]],
    ['dag log', n => ['dag', 'log', '--data-dir', n.dir]],
    ['trust status', n => ['trust', 'status', '--data-dir', n.dir]],
    ['exec', n => ['exec', '--action', 'echo', '--resource', 'demo', '--payload', '{"hi":1}', '--target', n.peerId,
      '--json', '--data-dir', n.dir]]
  ]
  for (const [name, args] of commands) {
    it(`${name} succeeds without them`, async () => {
      const list = name.replace(/\W+/g, '-')
      const r = await govmesh(args(node), { NODE_OPTIONS: recorder.importOption(list) })
      expect(r.code, r.stderr).toBe(0)
      expect(recorder.packages(list)).toContain('commander')
      expect(recorder.daemonPackages(list)).toEqual([])
    })
  }
})
