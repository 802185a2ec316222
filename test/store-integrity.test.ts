import { createHash } from 'node:crypto'
import { cpSync, existsSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toBase64, toHex } from '@govmesh/core'
import { admitMember, govmesh, MemberWriter, startRefused, TestMesh, waitFor, type NodeHandle } from './helpers/cluster.js'

/** Name → sha256 of every file in a directory: proves a command left it byte for byte unchanged. */
function snapshot (dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of readdirSync(dir).sort()) {
    out[name] = createHash('sha256').update(readFileSync(join(dir, name))).digest('hex')
  }
  return out
}

interface VerifyJson {
  ok: boolean
  entries: number
  expected: number
  missing: { entries: number, ranges: Array<{ author: string, from: number, to: number }> }
  problems: string[]
}

describe('store integrity: damage in a copy of a stopped node', () => {
  const mesh = new TestMesh()
  const writer = new MemberWriter()
  let n1!: NodeHandle
  let n2!: NodeHandle
  let writerHex = ''
  const written: string[] = []

  async function post (entries: string[]): Promise<void> {
    const r = await mesh.post(n1, '/v1/entries', { entries })
    expect(r.status, JSON.stringify(r.body)).toBe(200)
  }

  async function cids (node: NodeHandle): Promise<string[]> {
    const { entries } = await mesh.get<{ entries: Array<{ cid: string }> }>(node, '/v1/dag/log?limit=10000')
    return entries.map(e => e.cid).sort()
  }

  beforeAll(async () => {
    await mesh.create({ nodes: 2 })
    writer.open(mesh.genesisPath)
    writerHex = toHex(writer.keys.publicKey)
    ;[n1, n2] = mesh.nodes as [NodeHandle, NodeHandle]
    await mesh.start(n1)
    await mesh.start(n2, { bootstrap: [n1] })
    const admit = await admitMember(mesh, n1, writer.keys)
    await writer.learn(mesh, n1, admit.id)
    // Phase 1, then a restart: LevelDB turns the write-ahead log into an .ldb table when it reopens.
    for (let i = 0; i < 10; i++) {
      const batch = writer.next(4)
      written.push(...batch.map(e => e.id))
      await post(batch.map(e => toBase64(e.bytes)))
    }
    await mesh.stop(n1)
    await mesh.start(n1, { bootstrap: [n2] })
    // Phase 2 stays in the write-ahead log: batches spanning several 32 KiB log blocks.
    for (let i = 0; i < 30; i++) {
      const batch = writer.next(4)
      written.push(...batch.map(e => e.id))
      await post(batch.map(e => toBase64(e.bytes)))
    }
    // The node itself authors too (exec.request, exec.result): a rebuilt node must not reuse those seqs.
    for (let i = 0; i < 3; i++) {
      const r = await mesh.post(n1, '/v1/exec', { action: 'echo', resource: `jobs/${i}`, target: 'zone:a' })
      expect(r.status, JSON.stringify(r.body)).toBe(200)
    }
    written.push(...await cids(n1))
    await waitFor('n2 to hold every entry', async () => {
      const held = new Set(await cids(n2))
      return written.every(id => held.has(id))
    }, 30_000)
    await mesh.stop(n1)
    const db = join(n1.dir, 'db')
    expect(readdirSync(db).some(f => f.endsWith('.ldb')), readdirSync(db).join(' ')).toBe(true)
    expect(statSync(join(db, readdirSync(db).find(f => f.endsWith('.log'))!)).size).toBeGreaterThan(64 * 1024)
  }, 120_000)

  afterAll(async () => { await mesh.cleanup() })

  /**
   * Checks one damaged copy: verify names the loss and changes nothing, start refuses, rebuild + sync
   * recovers every entry. With `checkRefill`, also the human output and the rebuilt node's refusal to author.
   */
  async function damagedCopy (
    name: string, damage: (db: string) => void, opts: { checkRefill?: boolean } = {}
  ): Promise<VerifyJson> {
    const dir = join(mesh.root, name)
    cpSync(n1.dir, dir, { recursive: true })
    const db = join(dir, 'db')
    damage(db)
    const before = snapshot(db)

    const verify = await govmesh(['dag', 'verify', '--data-dir', dir, '--json'])
    expect(verify.code, verify.stdout + verify.stderr).toBe(1)
    const report = JSON.parse(verify.stdout) as VerifyJson
    expect(report.ok).toBe(false)
    expect(snapshot(db)).toEqual(before)
    if (opts.checkRefill === true) {
      const human = await govmesh(['dag', 'verify', '--data-dir', dir])
      expect(human.code).toBe(1)
      expect(human.stdout).toMatch(/^store damaged: \d+ of \d+ entries missing\n/)
      expect(human.stdout).toMatch(/\n {2}missing: author 12D3KooW\w+ \([0-9a-f]{16}…\) seq \d+-\d+\n/)
      expect(human.stdout).toContain(`govmesh store rebuild --data-dir ${dir}`)
      expect(snapshot(db)).toEqual(before)
    }

    const refused = await startRefused(mesh, dir)
    expect(refused.code, refused.output).toBe(1)
    expect(refused.output).toContain(`govmesh store rebuild --data-dir ${dir}`)
    expect(refused.output).not.toMatch(/\n\s+at /)

    const key = readFileSync(join(dir, 'node.key'), 'utf8')
    const rebuilt = await govmesh(['store', 'rebuild', '--data-dir', dir, '--json'])
    expect(rebuilt.code, rebuilt.stdout + rebuilt.stderr).toBe(0)
    const moved = (JSON.parse(rebuilt.stdout) as { movedTo: string }).movedTo
    expect(snapshot(moved)).toEqual(before)
    expect(existsSync(db)).toBe(false)
    expect(readFileSync(join(dir, 'node.key'), 'utf8')).toBe(key)

    const copy: NodeHandle = { name, dir, peerId: n1.peerId, keys: n1.keys, addrs: [], log: [] }
    mesh.nodes.push(copy)
    const ownKey = toHex(n1.keys.publicKey)
    const ownSeq = (await mesh.status(n2)).frontier[ownKey]!
    if (opts.checkRefill === true) {
      // Alone, the rebuilt node cannot get its own chain back, so it refuses to author.
      expect(JSON.parse(readFileSync(join(dir, 'refill.json'), 'utf8'))).toMatchObject({ author: ownKey, seq: ownSeq })
      await mesh.start(copy)
      const refused = await mesh.post(copy, '/v1/exec', { action: 'echo', resource: 'jobs/x', target: 'zone:a' })
      expect(refused.body, JSON.stringify(refused.body)).toMatchObject({ error: 'node.refilling' })
      await mesh.stop(copy)
    }
    await mesh.start(copy, { bootstrap: [n2] })
    const expected = await cids(n2)
    const same = async (): Promise<boolean> => JSON.stringify(await cids(copy)) === JSON.stringify(expected)
    await waitFor(`${name} to refill every entry from n2`, same, 30_000)
    for (const id of written) expect(expected).toContain(id)
    if (opts.checkRefill === true) {
      await waitFor('the refill marker to clear', () => !existsSync(join(dir, 'refill.json')))
      const again = await mesh.post(copy, '/v1/exec', { action: 'echo', resource: 'jobs/y', target: 'zone:a' })
      expect(again.status, JSON.stringify(again.body)).toBe(200)
      // Its next entries continue its chain: n2 accepts them with no second entry at any seq.
      await waitFor('n2 to accept the new entries', async () => (await mesh.status(n2)).frontier[ownKey]! > ownSeq)
      const log = await mesh.get<{ entries: Array<{ seq: number }> }>(n2, `/v1/dag/log?author=${ownKey}&limit=10000`)
      const seqs = log.entries.map(e => e.seq).sort((a, b) => a - b)
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1))
    }
    await mesh.stop(copy)
    const after = await govmesh(['dag', 'verify', '--data-dir', dir, '--json'])
    expect(after.code, after.stdout + after.stderr).toBe(0)
    return report
  }

  it('a garbled write-ahead log: verify names the lost entries, start refuses, rebuild refills', async () => {
    const report = await damagedCopy('garbled-wal', (db) => {
      const log = join(db, readdirSync(db).find(f => f.endsWith('.log'))!)
      const bytes = readFileSync(log)
      // Inside the first 32 KiB block: LevelDB drops the rest of that block and keeps the later ones.
      for (let i = 12_000; i < 12_040; i++) bytes[i] = bytes[i]! ^ 0xff
      writeFileSync(log, bytes)
    }, { checkRefill: true })
    expect(report.missing.entries).toBeGreaterThan(0)
    expect(report.expected).toBe(report.entries + report.missing.entries)
    const phase2 = new Set(Array.from({ length: 120 }, (_, i) => 41 + i))
    for (const r of report.missing.ranges) {
      expect(r.author).toBe(writerHex)
      for (let s = r.from; s <= r.to; s++) expect(phase2.has(s), `seq ${s}`).toBe(true)
    }
    expect(report.missing.ranges.reduce((n, r) => n + r.to - r.from + 1, 0)).toBe(report.missing.entries)
  }, 90_000)

  it('a truncated .ldb table: verify names the loss, start refuses, rebuild refills from a peer', async () => {
    const report = await damagedCopy('truncated-ldb', (db) => {
      for (const f of readdirSync(db).filter(f => f.endsWith('.ldb'))) {
        truncateSync(join(db, f), Math.floor(statSync(join(db, f)).size / 2))
      }
    })
    // Phase 1 (writer seq 1-40) lived in the table; the newest integrity record, in the log, still names it.
    expect(report.missing.ranges).toContainEqual(expect.objectContaining({ author: writerHex, from: 1, to: 40 }))
    expect(report.problems.join('\n')).toMatch(/table \d+\.ldb has \d+ of its \d+ bytes/)
  }, 90_000)
})
