/**
 * History lives on disk: a node restarted on a store of 20,000+ entries resumes from its
 * checkpoint (no replay) into exactly the state a full replay gives, serves ancestry, log,
 * export and sync from level, and a peer that syncs from it converges. A checkpoint that
 * disagrees with the store is damage (reported, refused, never repaired); an older store
 * migrates once. The stores are built in this process through the node's own code (real
 * store, real ingest), then the node runs as a process on them.
 */
import { cpSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Level } from 'level'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CID, decodeGenesisFile, verifyProof } from '@govmesh/core'
import { readProofCar } from '@govmesh/node'
import { govmesh, govmeshJson, startRefused, TestMesh, type NodeHandle } from './helpers/cluster.js'
import { buildHistory, historyWriters, type WrittenHistory } from './helpers/history.js'

const ENTRIES = 20_000
const WRITERS = 20
/** The small store the damage and migration cases work on (each costs a full replay). */
const SMALL = 400

interface VerifyJson { ok: boolean, entries: number, schema: number, problems: string[] }

/** The `replayed` count of the node's last "node started" log line. */
function replayedAtStart (node: NodeHandle): number {
  const line = [...node.log].reverse().find(l => l.includes('"node started"'))
  if (line === undefined) throw new Error(`no start line in ${node.log.slice(-3).join('\n')}`)
  return (JSON.parse(line) as { replayed: number }).replayed
}

/** Edits a stopped node's store directly (what damage or an older version would leave). */
async function editStore (dir: string, edit: (db: Level<string, Uint8Array>) => Promise<void>): Promise<void> {
  const db = new Level<string, Uint8Array>(join(dir, 'db'), { valueEncoding: 'view' })
  await db.open()
  try { await edit(db) } finally { await db.close() }
}

/**
 * `dag verify --json` on a copy of `dir` with the last byte of the value at `key` flipped: what
 * damage on disk leaves.
 */
async function verifyWithFlippedByte (dir: string, copy: string, key: string): Promise<VerifyJson> {
  cpSync(dir, copy, { recursive: true })
  await editStore(copy, async (db) => {
    const value = (await db.get(key)).slice()
    value[value.length - 1]! ^= 1
    await db.put(key, value)
  })
  const r = await govmesh(['dag', 'verify', '--data-dir', copy, '--json'])
  expect(r.code).not.toBe(0)
  return JSON.parse(r.stdout) as VerifyJson
}

describe('history on disk', () => {
  const mesh = new TestMesh()
  const writers = historyWriters(WRITERS)
  let n1!: NodeHandle
  let n2!: NodeHandle
  let small!: NodeHandle
  let written!: WrittenHistory
  let smallWritten!: WrittenHistory

  beforeAll(async () => {
    await mesh.create({ nodes: 3, extraMembers: writers.map(keys => ({ keys, zone: 'a' })) })
    n1 = mesh.nodes[0]!
    n2 = mesh.nodes[1]!
    small = mesh.nodes[2]!
    written = await buildHistory(mesh, n1, writers, ENTRIES, { sampleEvery: 997 })
    smallWritten = await buildHistory(mesh, small, writers.slice(0, 4), SMALL)
  }, 90_000)

  afterAll(async () => { await mesh.cleanup() })

  it('dag verify re-derives everything from scratch and finds the checkpoint equal', async () => {
    expect(written.state.entries).toBe(ENTRIES + 1)
    const r = await govmeshJson<VerifyJson>(['dag', 'verify', '--data-dir', n1.dir])
    expect(r.problems).toEqual([])
    expect(r).toMatchObject({ ok: true, entries: ENTRIES + 1, schema: 5 })
  }, 60_000)

  it('a restart resumes from the checkpoint without a replay, in the state a full replay gives', async () => {
    await mesh.start(n1)
    expect(replayedAtStart(n1)).toBe(0)
    const after = await mesh.status(n1)
    const { heads, frontier, entries, policyDigest } = after
    expect({ heads, frontier, entries, policyDigest }).toEqual(written.state)
  })

  it('serves ancestry, the log and proof export from level', async () => {
    const last = written.last[3]!
    const { entries } = await mesh.get<{ entries: Array<{ cid: string, seq: number }> }>(
      n1, `/v1/dag/ancestry/${last}?limit=30`
    )
    const top = ENTRIES / WRITERS
    expect(entries.map(e => e.seq)).toEqual(Array.from({ length: 30 }, (_, i) => top - i))
    const author = Buffer.from(writers[3]!.publicKey).toString('hex')
    const log = await mesh.get<{ entries: Array<{ cid: string }> }>(n1, `/v1/dag/log?limit=3&author=${author}`)
    expect(log.entries[0]!.cid).toBe(last)

    const root = written.sample[1]!
    const res = await fetch(`${n1.api!}/v1/dag/export/${root}`)
    expect(res.status).toBe(200)
    const car = await readProofCar(new Uint8Array(await res.arrayBuffer()))
    const genesis = decodeGenesisFile(readFileSync(mesh.genesisPath, 'utf8'))
    const verdict = verifyProof({ root: car.root, blocks: car.blocks, genesis, expect: CID.parse(root) })
    expect(verdict).toMatchObject({ valid: true })
    // The root's whole ancestry: its chain down to seq 1, and the genesis.
    const { seq } = await mesh.get<{ seq: number }>(n1, `/v1/dag/entries/${root}`)
    expect(seq).toBeGreaterThan(1)
    expect(car.blocks).toHaveLength(seq + 1)
  })

  it('a peer that syncs from the restarted node converges', async () => {
    await mesh.start(n2, { bootstrap: [n1] })
    // The peer verifies every signature it receives: tens of seconds on a loaded machine, seconds otherwise.
    const converged = await mesh.waitConverged([n1, n2], 100_000)
    expect(converged.entries).toBe(ENTRIES + 1)
    expect(converged.heads).toEqual(written.state.heads)
    await mesh.stop(n2)
    await mesh.stop(n1)
  }, 120_000)

  it('a checkpoint that disagrees with the store is damage: verify names it, start refuses', async () => {
    const copy = join(mesh.root, 'damaged')
    cpSync(small.dir, copy, { recursive: true })
    await editStore(copy, async (db) => {
      const state = JSON.parse(new TextDecoder().decode(await db.get('k!state'))) as { heads: string[] }
      state.heads = state.heads.slice(1)
      await db.put('k!state', new TextEncoder().encode(JSON.stringify(state)))
    })
    const r = await govmesh(['dag', 'verify', '--data-dir', copy, '--json'])
    expect(r.code).not.toBe(0)
    const verify = JSON.parse(r.stdout) as VerifyJson
    expect(verify.ok).toBe(false)
    expect(verify.problems.join('\n')).toMatch(/checkpoint heads is .*, a full replay gives/)
    const refused = await startRefused(mesh, copy)
    expect(refused.code).not.toBe(0)
    expect(refused.output).toMatch(/store .* is damaged/)
  }, 60_000)

  it('entries lost from the middle of a chain: start refuses, naming them (checked while the checkpoint loads)', async () => {
    const copy = join(mesh.root, 'lost-middle')
    cpSync(small.dir, copy, { recursive: true })
    const author = Buffer.from(writers[2]!.publicKey).toString('hex')
    // What a log block dropped by an earlier open leaves: every key of those entries, the newer record kept.
    await editStore(copy, async (db) => {
      const lost: string[] = []
      for (const seq of [20, 21, 22]) {
        const at = `${author}!${seq.toString(16).padStart(12, '0')}`
        const cid = new TextDecoder().decode(await db.get(`a!${at}`))
        lost.push(`a!${at}`, `h!${at}`, `x!${cid}`)
      }
      await db.batch(lost.map(key => ({ type: 'del' as const, key })))
    })
    const refused = await startRefused(mesh, copy)
    expect(refused.code).not.toBe(0)
    expect(refused.output).toMatch(/store .* is damaged: 3 of \d+ entries missing \(12D3KooW\w+ seq 20-22\)/)
  }, 60_000)

  it('a chain record holding other bytes is damage: dag verify names it', async () => {
    const author = Buffer.from(writers[1]!.publicKey).toString('hex')
    // Seq 98 of a chain of 100: in the newest block, which is not complete, so not packed. The
    // record's last byte is the entry's last byte (its signature's).
    const key = `h!${author}!${(98).toString(16).padStart(12, '0')}`
    const verify = await verifyWithFlippedByte(small.dir, join(mesh.root, 'garbled'), key)
    expect(verify.ok).toBe(false)
    // Its entry is refused by the replay (and those after it wait): chain records disagree with the
    // replay, the first three in key order named (by the writers' random keys: another writer's records
    // whose place in acceptance order moved may come first), the rest counted.
    expect(verify.problems.join('\n')).toMatch(/chain record [0-9a-f]{16}…\/\d+: |chain record [0-9a-f]{16}…\/\d+ holds/)
    expect(verify.problems.join('\n')).toMatch(/more chain records disagree with a full replay/)
  }, 60_000)

  it('a flipped byte in a chain pack is damage: dag verify names the pack', async () => {
    const author = Buffer.from(writers[1]!.publicKey).toString('hex')
    // Seqs 17-32 of the writer: a complete block, packed.
    const key = `g!${author}!${(1).toString(16).padStart(12, '0')}`
    const verify = await verifyWithFlippedByte(small.dir, join(mesh.root, 'garbled-pack'), key)
    expect(verify.ok).toBe(false)
    expect(verify.problems.join('\n')).toContain(`chain pack ${key} does not hash to its digest`)
  }, 60_000)

  it('an older store (schema 2) migrates once: one replay writes the checkpoint, the next start resumes', async () => {
    await editStore(small.dir, async (db) => {
      // Schema 2 kept every entry's bytes by CID, and had no metadata records or checkpoint.
      const ops: Array<{ type: 'put', key: string, value: Uint8Array } | { type: 'del', key: string }> = []
      const unpack = (record: Uint8Array): void => {
        const cidLength = record[1]!
        const cid = new TextDecoder().decode(record.subarray(2, 2 + cidLength))
        const metaLength = (record[2 + cidLength]! << 8) | record[3 + cidLength]!
        ops.push({ type: 'put', key: `e!${cid}`, value: record.slice(4 + cidLength + metaLength) })
      }
      for await (const [k, record] of db.iterator({ gte: 'h!', lt: 'h"' })) {
        unpack(record)
        ops.push({ type: 'del', key: k })
      }
      // A chain pack (schema 5): version, count, digest (34 bytes), then length-prefixed chain records.
      for await (const [k, pack] of db.iterator({ gte: 'g!', lt: 'g"' })) {
        const view = new DataView(pack.buffer, pack.byteOffset, pack.byteLength)
        for (let at = 34; at < pack.length; at += 4 + view.getUint32(at)) {
          unpack(pack.subarray(at + 4, at + 4 + view.getUint32(at)))
        }
        ops.push({ type: 'del', key: k })
      }
      for await (const k of db.keys({ gte: 'k!', lt: 'k"' })) ops.push({ type: 'del', key: k })
      for await (const k of db.keys({ gte: 'x!', lt: 'x"' })) ops.push({ type: 'del', key: k })
      ops.push({ type: 'put', key: 'm!schema', value: new TextEncoder().encode('2') })
      await db.batch(ops)
    })
    await mesh.start(small)
    expect(replayedAtStart(small)).toBe(SMALL + 1)
    await mesh.stop(small)
    await mesh.start(small)
    expect(replayedAtStart(small)).toBe(0)
    expect((await mesh.status(small)).heads).toEqual(smallWritten.state.heads)
    await mesh.stop(small)
    const r = await govmeshJson<VerifyJson>(['dag', 'verify', '--data-dir', small.dir])
    expect(r).toMatchObject({ ok: true, schema: 5, problems: [] })
  }, 90_000)
})
