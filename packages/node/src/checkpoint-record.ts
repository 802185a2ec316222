import type { DagCheckpoint, EquivocationEvidence } from '@govmesh/core'

/**
 * The DAG checkpoint as stored (schema 3, docs/STORAGE.md): what the node resumes from instead
 * of replaying its history. Written in the same level batch as the entries it counts, so it
 * never runs ahead of or behind them.
 *
 * - `k!state`: JSON `{ v: 1, entries, heads, cuts, kept, evidence }` (`kept` and `evidence` are
 *   counts), rewritten with every batch; it grows with heads and cut authors, not with history.
 * - `k!kept!<n>`: the n-th governance or `trust.fail` entry's CID, written once (append-only).
 * - `k!ev!<n>`: the n-th equivocation evidence, written once.
 * - The frontier is the integrity record's author map (`m!integrity`): the same numbers, kept once.
 */
export interface CheckpointState {
  entries: number
  heads: string[]
  cuts: Record<string, number>
  kept: number
  evidence: number
}

export const CHECKPOINT_KEY = 'k!state'
export const KEPT_PREFIX = 'k!kept!'
export const EVIDENCE_PREFIX = 'k!ev!'
const STATE_VERSION = 1

/** A checkpoint record that does not decode. */
export class CheckpointRecordError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'CheckpointRecordError'
  }
}

const pad = (n: number): string => n.toString(16).padStart(12, '0')
export const keptKey = (n: number): string => KEPT_PREFIX + pad(n)
export const evidenceKey = (n: number): string => EVIDENCE_PREFIX + pad(n)

export function encodeCheckpointState (s: CheckpointState): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ v: STATE_VERSION, ...s }))
}

export function decodeCheckpointState (bytes: Uint8Array): CheckpointState {
  let v: Partial<CheckpointState> & { v?: number }
  try {
    v = JSON.parse(new TextDecoder().decode(bytes)) as typeof v
  } catch {
    throw new CheckpointRecordError(`${CHECKPOINT_KEY} is not JSON`)
  }
  const count = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0
  if (v.v !== STATE_VERSION || !count(v.entries) || !count(v.kept) || !count(v.evidence) ||
    !Array.isArray(v.heads) || typeof v.cuts !== 'object' || v.cuts === null) {
    throw new CheckpointRecordError(`${CHECKPOINT_KEY} is malformed`)
  }
  return { entries: v.entries, heads: v.heads, cuts: v.cuts, kept: v.kept, evidence: v.evidence }
}

/** Evidence bytes: length of `a` (u32), `a`, then `b`. */
export function encodeEvidence (ev: EquivocationEvidence): Uint8Array {
  const out = new Uint8Array(4 + ev.a.length + ev.b.length)
  new DataView(out.buffer).setUint32(0, ev.a.length)
  out.set(ev.a, 4)
  out.set(ev.b, 4 + ev.a.length)
  return out
}

export function decodeEvidence (bytes: Uint8Array): EquivocationEvidence {
  if (bytes.length < 4) throw new CheckpointRecordError('equivocation evidence record is truncated')
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0)
  if (4 + n > bytes.length) throw new CheckpointRecordError('equivocation evidence record is truncated')
  return { a: bytes.slice(4, 4 + n), b: bytes.slice(4 + n) }
}

/** The stored checkpoint in the core's terms, with the frontier taken from the integrity record. */
export function toDagCheckpoint (
  s: CheckpointState, frontier: ReadonlyMap<string, number>, kept: string[], evidence: EquivocationEvidence[]
): DagCheckpoint {
  return {
    entries: s.entries,
    frontier: Object.fromEntries([...frontier].sort(([a], [b]) => a < b ? -1 : 1)),
    heads: [...s.heads].sort(),
    cuts: Object.fromEntries(Object.entries(s.cuts).sort(([a], [b]) => a < b ? -1 : 1)),
    kept,
    evidence
  }
}
