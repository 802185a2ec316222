/**
 * A Dag resumed from its checkpoint over the same history is the Dag a full replay gives:
 * same checkpoint, same governance and verdicts, and it goes on accepting (and refusing)
 * exactly what the replayed one does.
 */
import { describe, expect, it } from 'vitest'
import { CheckpointMismatchError, createDag, decodeEntry, MemoryHistory, type Dag, type DagHistory } from '../src/index.js'
import { buildMesh, execBody, expectThrows, type Mesh } from './helpers.js'

function resumed (mesh: Mesh, source: Dag, history: DagHistory): Dag {
  const checkpoint = source.checkpoint()
  const kept = checkpoint.kept.map(id => decodeEntry(history.bytes(id)!, { crypto: mesh.crypto, verify: false }))
  return createDag({ genesis: mesh.genesis.bytes, crypto: mesh.crypto, history, resume: { checkpoint, kept } })
}

describe('checkpoint and resume', () => {
  it('resumes with the same derived state and the same verdicts on what comes next', () => {
    const mesh = buildMesh({ label: 'cp', members: 3 })
    const history = new MemoryHistory()
    const dag = createDag({ genesis: mesh.genesis.bytes, crypto: mesh.crypto, history })
    const g = mesh.author(mesh.governors[0]!, dag)
    const [m0, m1, m2] = mesh.members.map(k => mesh.author(k, dag))
    const outsider = mesh.outsider(1)
    g.write('member.admit', { member: outsider.publicKey, zone: 'b' })
    for (let i = 0; i < 5; i++) { m0!.exec(i); m1!.exec(100 + i) }
    m1!.fail(mesh.members[2]!)
    const stale = m2!.next('exec.request', execBody(7))
    g.write('member.remove', { member: mesh.members[2]!.publicKey, cut: 0, reason: 'decommissioned' })
    // An equivocation by m0: seq 1 again, on a replica that knows nothing.
    const twin = mesh.author(mesh.members[0]!, mesh.dag()).next('exec.request', execBody(99))
    expect(dag.add(twin.bytes).equivocations).toHaveLength(1)

    const copy = resumed(mesh, dag, history)
    expect(copy.checkpoint()).toEqual(dag.checkpoint())
    expect(copy.size).toBe(dag.size)
    expect(copy.currentGovernance()).toEqual(dag.currentGovernance())
    expect(copy.governanceHeads()).toEqual(dag.governanceHeads())
    expect(copy.entriesOfType('trust.fail').map(e => e.id)).toEqual(dag.entriesOfType('trust.fail').map(e => e.id))
    expect(copy.cuts()).toEqual(dag.cuts())

    // Both refuse the removed member's entry and accept the outsider (now admitted) alike.
    expectThrows(() => copy.add(stale.bytes), 'CutExceededError', 'entry.cut-exceeded')
    const admitted = mesh.author(outsider, copy).next('exec.request', execBody(5))
    expect(copy.add(admitted.bytes).status).toBe('accepted')
    const replayed = createDag({ genesis: mesh.genesis.bytes, crypto: mesh.crypto })
    for (const id of history.ids()) {
      if (id === admitted.id) continue
      replayed.add(history.bytes(id)!, { verified: true })
    }
    expect(replayed.add(admitted.bytes).status).toBe('accepted')
    expect(copy.checkpoint()).toEqual(replayed.checkpoint())
  })

  it('looks a new entry up in the history only at or below its author\'s frontier, after a resume too', () => {
    const mesh = buildMesh({ label: 'cp-lookups', members: 1 })
    const history = new MemoryHistory()
    const dag = createDag({ genesis: mesh.genesis.bytes, crypto: mesh.crypto, history })
    const m0 = mesh.author(mesh.members[0]!, dag)
    const written = [m0.exec(1), m0.exec(2)]
    const copy = resumed(mesh, dag, history)
    const looked: string[] = []
    const meta = history.meta.bind(history)
    history.meta = (id) => { looked.push(id); return meta(id) }
    const next = mesh.author(mesh.members[0]!, copy).next('exec.request', execBody(3))
    looked.length = 0
    expect(copy.add(next.bytes).status).toBe('accepted')
    expect(looked).not.toContain(next.id)
    // Held already (at or below the frontier): found, on the resumed DAG as on the first.
    for (const e of written) expect(copy.add(e.bytes).status).toBe('duplicate')
    expect(copy.add(mesh.genesis.bytes).status).toBe('duplicate')
    expect(dag.add(written[0]!.bytes).status).toBe('duplicate')
  })

  it('refuses a checkpoint whose kept entries do not match its ids', () => {
    const mesh = buildMesh({ label: 'cp2' })
    const dag = mesh.dag()
    const checkpoint = { ...dag.checkpoint(), kept: ['bafyreinotthegenesis'] }
    let caught: unknown
    try {
      createDag({ genesis: mesh.genesis.bytes, resume: { checkpoint, kept: [mesh.genesis] } })
    } catch (err) { caught = err }
    expect(caught).toBeInstanceOf(CheckpointMismatchError)
    expect((caught as CheckpointMismatchError).code).toBe('dag.checkpoint-mismatch')
  })
})
