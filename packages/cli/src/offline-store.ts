// The offline store tools behind `dag verify` and `store rebuild`. They open level, so the
// command definitions import this module only when one of them runs.
import { existsSync, readFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { createDag, decodeKeyFile, equalBytes, GovmeshError, toHex, type Dag } from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import {
  CHAIN_SCHEMA, compareCheckpoints, compareMeta, decodeMetaRecord, SCHEMA_VERSION, seqSpan, Store, StoreDamagedError,
  writeRefillMarker,
  type InspectedStore, type IntegrityReport
} from '@govmesh/node'
import { CliError } from './output.js'

/** The one-line way out of a damaged store, named by `dag verify` and by `start`'s refusal. */
export function rebuildHint (dataDir: string): string {
  return `run \`govmesh store rebuild --data-dir ${dataDir}\` to move it aside (kept) and refill it from peers`
}

/** Refuses to work on a data dir whose node is running (its node.json names a live pid). */
function refuseRunning (dataDir: string): void {
  let pid: number
  try {
    pid = (JSON.parse(readFileSync(join(dataDir, 'node.json'), 'utf8')) as { pid: number }).pid
  } catch {
    return
  }
  try {
    process.kill(pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return
  }
  throw new CliError(`a node (pid ${pid}) is running on ${dataDir}: stop it first ` +
    `(or remove a stale ${dataDir}/node.json)`)
}

export interface VerifyResult {
  ok: boolean
  meshId: string | null
  schema: number | null
  entries: number
  expected: number
  accepted: number
  missing: IntegrityReport['missing']
  wal: { files: string[], damage: Array<{ file: string, offset: number, bytes: number, reason: string }> }
  problems: string[]
}

interface DeepCheck { entries: number, accepted: number, problems: string[] }

const NAMED_PER_KIND = 3

/**
 * Problems of one kind (say damaged author index keys): the first three named, the rest counted
 * in one `and K more …` line, so a widely damaged store gives a readable report.
 */
class ProblemsOfAKind {
  private count = 0
  constructor (private readonly problems: string[], private readonly kind: string) {}

  add (problem: string): void {
    if (this.count++ < NAMED_PER_KIND) this.problems.push(problem)
  }

  /** Adds the count of those not named, if any. */
  end (): void {
    if (this.count > NAMED_PER_KIND) this.problems.push(`and ${this.count - NAMED_PER_KIND} more ${this.kind}`)
  }
}


/** Replays the copy into a fresh DAG: every signature, chain and writer, and the author index. */
async function deepCheck (opened: InspectedStore, json: boolean): Promise<DeepCheck> {
  const { store, meshId } = opened
  const problems: string[] = []
  let entries = 0
  const none = (problem: string): DeepCheck => ({ entries, accepted: 0, problems: [problem] })
  if (meshId === undefined) return none('entries not replayed: the mesh record is unreadable')
  let genesisBytes
  try {
    genesisBytes = await store.getEntry(meshId)
  } catch (err) {
    return none(`entries not replayed: the genesis entry is unreadable: ${(err as Error).message}`)
  }
  if (genesisBytes === undefined) return none(`the store has no genesis entry ${meshId}`)
  const d = createDag({ genesis: genesisBytes, crypto: nodeCrypto })
  try {
    for await (const bytes of store.replay()) {
      entries++
      try {
        const r = d.add(bytes)
        for (const rej of r.rejected) problems.push(`${rej.id}: ${rej.error.code}: ${rej.error.message}`)
      } catch (err) {
        const code = err instanceof GovmeshError ? err.code : 'invalid'
        problems.push(`entry #${entries}: ${code}: ${(err as Error).message}`)
      }
      if (!json && entries % 1000 === 0) process.stderr.write(`checked ${entries} entries\n`)
    }
    const waiting = d.pending()
    // Entries after a loss wait for it: one line says so, not one per entry.
    const waitingProblems = new ProblemsOfAKind(problems, 'entries wait for entries the store does not hold')
    for (const p of waiting) {
      waitingProblems.add(`${p.id}: waits for ${p.missing.join(', ')}, which the store does not hold`)
    }
    waitingProblems.end()
    const checkpoint = opened.schema >= 3 ? await store.dagCheckpoint() : undefined
    const metaProblems = new ProblemsOfAKind(problems, 'metadata records disagree with a full replay')
    const indexProblems = new ProblemsOfAKind(problems, 'author index keys point to entries that do not match')
    let chainEntries = 0
    for await (const [author, seq, cid] of store.authorIndex()) {
      chainEntries++
      const m = d.meta(cid)
      if (m === undefined || m.author !== author || m.seq !== seq) {
        indexProblems.add(`author index ${author.slice(0, 16)}…/${seq} points to ${cid}, which does not match`)
        continue
      }
      const bad = checkpoint === undefined ? undefined : compareMeta(store.storedMeta(cid), m)
      if (bad !== undefined) metaProblems.add(bad)
    }
    indexProblems.end()
    metaProblems.end()
    if (opened.schema >= CHAIN_SCHEMA) problems.push(...await checkChainRecords(store, d, chainEntries))
    // The checkpoint the node resumes from must be what a replay from scratch derives.
    if (checkpoint !== undefined) problems.push(...compareCheckpoints(checkpoint, d.checkpoint()))
  } catch (err) {
    problems.push(err instanceof StoreDamagedError ? err.summary : `store unreadable: ${(err as Error).message}`)
  }
  return { entries, accepted: d.size, problems }
}

/**
 * Every chain record (schema 4, packed or not since schema 5) against the replay: the entry the
 * author/seq index names there, exactly its bytes, and its metadata record as re-derived; one per
 * author/seq index key.
 */
async function checkChainRecords (store: InspectedStore['store'], d: Dag, indexed: number): Promise<string[]> {
  const problems: string[] = []
  let records = 0
  const bad = new ProblemsOfAKind(problems, 'chain records disagree with a full replay')
  for await (const [author, seq, r] of store.chainRecords()) {
    records++
    const m = d.meta(r.id)
    const bytes = d.getBytes(r.id)
    if (m === undefined || m.author !== author || m.seq !== seq || d.entryAt(author, seq)?.id !== r.id) {
      bad.add(`chain record ${author.slice(0, 16)}…/${seq} holds ${r.id}, which is not the chain's entry there`)
    } else if (bytes === undefined || !equalBytes(bytes, r.bytes)) {
      bad.add(`chain record ${author.slice(0, 16)}…/${seq} holds other bytes than entry ${r.id}`)
    } else {
      const differs = compareMeta(r.meta === undefined ? undefined : decodeMetaRecord(r.id, r.meta), m)
      if (differs !== undefined) bad.add(`chain record ${author.slice(0, 16)}…/${seq}: ${differs}`)
    }
  }
  bad.end()
  if (records !== indexed) {
    problems.push(`the store holds ${records} chain records for ${indexed} author/seq index keys`)
  }
  return problems
}

/** The human report of `dag verify`. */
export function renderVerify (r: VerifyResult, dataDir: string): string {
  if (r.ok) {
    const note = r.schema === 1
      ? ' (schema 1 store: no integrity record yet, it is written at the next start)'
      : r.schema !== null && r.schema < 3
        ? ` (schema ${r.schema} store: no checkpoint yet, it is written at the next start)`
        : r.schema !== null && r.schema < CHAIN_SCHEMA
          ? ` (schema ${r.schema} store: entries are moved to chain records at the next start)`
          : r.schema !== null && r.schema < SCHEMA_VERSION
            ? ` (schema ${r.schema} store: its schema is raised to ${SCHEMA_VERSION} at the next start)`
            : ''
    const checked = r.schema !== null && r.schema >= 3 ? ', checkpoint equal to a full replay' : ''
    return `store ok: ${r.entries} entries of ${r.expected} vouched for, mesh ${r.meshId ?? '?'}, ` +
      `every signature, chain and writer checked${checked}${note}`
  }
  const head = r.missing.entries > 0
    ? `store damaged: ${r.missing.entries} of ${r.expected} entries missing`
    : 'store damaged'
  const lines = [head]
  for (const m of r.missing.ranges.slice(0, 50)) {
    lines.push(`  missing: author ${m.authorPeerId} (${m.author.slice(0, 16)}…) seq ${seqSpan(m)}`)
  }
  for (const p of r.problems.slice(0, 50)) lines.push(`  ${p}`)
  lines.push(rebuildHint(dataDir))
  return lines.join('\n')
}

/** `dag verify`: the store's integrity record, its logs, and a full replay of a copy. */
export async function verifyStore (dataDir: string, json: boolean): Promise<VerifyResult> {
  const dbPath = join(dataDir, 'db')
  if (!existsSync(dbPath)) throw new CliError(`${dbPath} does not exist`)
  refuseRunning(dataDir)
  const empty = { entries: 0, ranges: [] }
  let opened: InspectedStore
  try {
    opened = await Store.inspect(dbPath)
  } catch (err) {
    if (!(err instanceof StoreDamagedError)) throw new CliError((err as Error).message)
    const wal = { files: [], damage: [] }
    const none = { meshId: null, schema: null, entries: 0, expected: 0, accepted: 0 }
    return { ok: false, ...none, missing: empty, wal, problems: [err.summary] }
  }
  try {
    const deep = await deepCheck(opened, json)
    const { report, logs } = opened
    const problems = [...report.problems, ...deep.problems]
    return {
      ok: report.ok && problems.length === 0,
      meshId: opened.meshId ?? null,
      schema: opened.schema,
      entries: deep.entries,
      expected: report.expected,
      accepted: deep.accepted,
      missing: report.missing,
      wal: { files: logs.files, damage: logs.damage.map(({ entries: _, ...range }) => range) },
      problems
    }
  } finally {
    await opened.close()
  }
}

/** This node's highest seq the damaged store vouches for (its record, or entries legible in a damaged log). */
async function ownLastSeq (dbPath: string, author: string): Promise<number | undefined> {
  let opened: InspectedStore
  try {
    opened = await Store.inspect(dbPath)
  } catch {
    return undefined
  }
  try {
    const ranges = opened.report.missing.ranges.filter(r => r.author === author).map(r => r.to)
    return Math.max(opened.record.authors.get(author) ?? 0, ...ranges)
  } finally {
    await opened.close()
  }
}

export interface RebuildResult { dataDir: string, movedTo: string, keyKept: boolean, ownSeq: number | null }

/** `rebuild`: the damaged database moves to db.damaged-<time>, next to the key, which stays. */
export async function rebuildStore (dataDir: string): Promise<RebuildResult> {
  const dbPath = join(dataDir, 'db')
  let keyText: string
  try {
    keyText = readFileSync(join(dataDir, 'node.key'), 'utf8')
  } catch {
    throw new CliError(`${dataDir}/node.key not found: not a node data dir`)
  }
  if (!existsSync(dbPath)) throw new CliError(`${dbPath} does not exist: nothing to rebuild (start creates it)`)
  refuseRunning(dataDir)
  const author = toHex(decodeKeyFile(keyText, nodeCrypto).publicKey)
  const ownSeq = await ownLastSeq(dbPath, author)
  const movedTo = join(dataDir, `db.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`)
  try {
    renameSync(dbPath, movedTo)
  } catch (err) {
    throw new CliError(`cannot move ${dbPath} aside: ${(err as Error).message}`)
  }
  // Until sync brings the node's own chain back, it must not sign at a seq it already used.
  if (ownSeq !== undefined && ownSeq > 0) writeRefillMarker(dataDir, { author, seq: ownSeq, damagedStore: movedTo })
  return { dataDir, movedTo, keyKept: true, ownSeq: ownSeq ?? null }
}

