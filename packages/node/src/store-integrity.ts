import { peerIdFromPublicKey } from '@govmesh/core'
import { describeLogDamage, type LogScan } from './leveldb-log.js'

/**
 * The integrity record: what the store vouches it holds. One key, `m!integrity`, rewritten in
 * the same level batch as the entries it counts, so it never claims an entry that was not
 * written with it; being one key, its newest version is found by a point read even when older
 * tables are lost. It grows with the number of authors (40 bytes each), not with history.
 */
export interface IntegrityRecord {
  /** Entries accepted in total: the length of the order index. */
  entries: number
  /** Author (hex) → highest accepted seq; an author's accepted seqs are 1..last. */
  authors: Map<string, number>
}

export const INTEGRITY_KEY = 'm!integrity'
const RECORD_VERSION = 1

/**
 * Bytes: version (u8), entries (f64), then per author: key (32 bytes), last seq (f64).
 * Float64 holds every integer below 2^53 exactly, which bounds seqs and counts anyway.
 */
export function encodeIntegrityRecord (r: IntegrityRecord): Uint8Array {
  const out = new Uint8Array(9 + r.authors.size * 40)
  const dv = new DataView(out.buffer)
  out[0] = RECORD_VERSION
  dv.setFloat64(1, r.entries)
  let at = 9
  for (const [author, seq] of r.authors) {
    out.set(Buffer.from(author, 'hex'), at)
    dv.setFloat64(at + 32, seq)
    at += 40
  }
  return out
}

export function decodeIntegrityRecord (bytes: Uint8Array): IntegrityRecord {
  if (bytes[0] !== RECORD_VERSION || (bytes.length - 9) % 40 !== 0) throw new Error('the integrity record is malformed')
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const authors = new Map<string, number>()
  for (let at = 9; at < bytes.length; at += 40) {
    authors.set(Buffer.from(bytes.subarray(at, at + 32)).toString('hex'), dv.getFloat64(at + 32))
  }
  return { entries: dv.getFloat64(1), authors }
}

/** Entries of one author that the record vouches for and the store does not hold. */
export interface SeqRange {
  author: string
  authorPeerId: string
  from: number
  to: number
}

export interface IntegrityReport {
  ok: boolean
  /** Entries the integrity record vouches for. */
  expected: number
  /** Entries the order index holds. */
  present: number
  missing: { entries: number, ranges: SeqRange[] }
  /** One line per problem, for humans. */
  problems: string[]
}

/** What the author/seq index holds, read once in key order. */
export interface IndexScan {
  /** Gaps per author against the record (filled by {@link scanAuthorIndex}). */
  ranges: SeqRange[]
  /** Authors whose index runs past the record's last seq: the record was lost. */
  ahead: Array<{ author: string, held: number, record: number }>
}

const MAX_RANGES = 1000

const peerOf = (author: string): string => {
  try {
    return peerIdFromPublicKey(Buffer.from(author, 'hex'))
  } catch {
    return author
  }
}

/** Seqs `from`..`to` of one author, all held (a run of the author/seq index). */
export type SeqRun = readonly [author: string, from: number, to: number]

/**
 * Compares the author/seq index (runs of held seqs in key order: by author, then seq, in
 * batches) with the record, streaming: memory is bounded by the number of gaps reported, not by
 * history.
 */
export async function scanAuthorIndex (
  batches: AsyncIterable<readonly SeqRun[]>, record: IntegrityRecord
): Promise<IndexScan> {
  const out: IndexScan = { ranges: [], ahead: [] }
  const gap = (author: string, from: number, to: number): void => {
    if (to < from || out.ranges.length >= MAX_RANGES) return
    out.ranges.push({ author, authorPeerId: peerOf(author), from, to })
  }
  const seen = new Set<string>()
  let author: string | undefined
  let held = 0
  const endAuthor = (): void => {
    if (author === undefined) return
    const last = record.authors.get(author) ?? 0
    if (held > last) out.ahead.push({ author, held, record: last })
    gap(author, held + 1, last)
  }
  for await (const runs of batches) {
    for (const [a, from, to] of runs) {
      if (a !== author) {
        endAuthor()
        author = a
        held = 0
        seen.add(a)
      }
      gap(a, held + 1, from - 1)
      held = to
    }
  }
  endAuthor()
  for (const [a, last] of record.authors) if (!seen.has(a)) gap(a, 1, last)
  return out
}

/** `4` or `4-6`. */
export const seqSpan = (r: { from: number, to: number }): string =>
  r.from === r.to ? String(r.from) : `${r.from}-${r.to}`

/** Human summary of a report's loss, one line. */
export function describeLoss (report: IntegrityReport): string {
  const parts: string[] = []
  if (report.missing.entries > 0) {
    const byAuthor = report.missing.ranges.slice(0, 4).map(r => `${peerOf(r.author)} seq ${seqSpan(r)}`)
    const more = report.missing.ranges.length > 4 ? `, and ${report.missing.ranges.length - 4} more range(s)` : ''
    parts.push(`${report.missing.entries} of ${report.expected} entries missing (${byAuthor.join(', ')}${more})`)
  }
  for (const p of report.problems) if (parts.length < 3) parts.push(p)
  return parts.join('; ')
}

/**
 * Builds the report from an index scan, the order index count, read errors and the log scan.
 * `logLost` are entries legible in damaged log bytes that the store lacks: those past the
 * record's last seq extend what the record vouches for (the record was in the lost bytes too).
 */
export function integrityReport (init: {
  record: IntegrityRecord
  index?: IndexScan
  /** Undefined when the order index cannot be read. */
  present: number | undefined
  readErrors: string[]
  logs?: LogScan
  logLost?: Array<{ author: string, seq: number }>
}): IntegrityReport {
  const problems = [...init.readErrors]
  const ranges = [...(init.index?.ranges ?? [])]
  let expected = init.record.entries
  for (const d of init.logs?.damage ?? []) {
    problems.push(`${describeLogDamage(d)}; LevelDB drops them at open`)
  }
  const beyond = new Map<string, number>()
  for (const e of init.logLost ?? []) {
    const last = init.record.authors.get(e.author) ?? 0
    if (e.seq > last) beyond.set(e.author, Math.max(e.seq, beyond.get(e.author) ?? 0))
  }
  for (const [author, to] of beyond) {
    const from = (init.record.authors.get(author) ?? 0) + 1
    ranges.push({ author, authorPeerId: peerOf(author), from, to })
    expected += to - from + 1
  }
  for (const a of init.index?.ahead ?? []) {
    problems.push(`author ${peerOf(a.author)} holds seq 1-${a.held} but the integrity record says ${a.record}: ` +
      'the record was lost')
  }
  const inRanges = ranges.reduce((n, r) => n + r.to - r.from + 1, 0)
  const present = init.present ?? expected - inRanges
  if (present < expected && inRanges === 0) {
    problems.push(`the order index holds ${present} of the ${expected} entries the integrity record vouches for`)
  }
  if (present > expected) {
    problems.push(`the order index holds ${present} entries but the integrity record vouches for ${expected}`)
  }
  const missing = Math.max(inRanges, expected - present)
  const ok = problems.length === 0 && missing === 0
  return { ok, expected, present, missing: { entries: missing, ranges }, problems }
}
