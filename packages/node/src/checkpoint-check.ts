import { equalBytes, type DagCheckpoint, type EntryMeta } from '@govmesh/core'

const json = (v: unknown): string => JSON.stringify(v)
const short = (v: unknown): string => {
  const s = json(v)
  return s.length > 120 ? `${s.slice(0, 117)}...` : s
}

/**
 * Where a stored checkpoint disagrees with the one a full re-derivation gives (`dag verify`),
 * one line per field; empty when they agree. A disagreement is damage: it is reported, never
 * repaired (the node refuses to resume from a checkpoint it cannot trust).
 *
 * @example
 * ```ts
 * const problems = compareCheckpoints(stored, replayed.checkpoint())
 * ```
 */
export function compareCheckpoints (stored: DagCheckpoint, derived: DagCheckpoint): string[] {
  const problems: string[] = []
  const differ = (field: string, a: unknown, b: unknown): void => {
    problems.push(`checkpoint ${field} is ${short(a)}, a full replay gives ${short(b)}`)
  }
  if (stored.entries !== derived.entries) differ('entries', stored.entries, derived.entries)
  if (json(stored.frontier) !== json(derived.frontier)) differ('frontier', stored.frontier, derived.frontier)
  if (json(stored.heads) !== json(derived.heads)) differ('heads', stored.heads, derived.heads)
  if (json(stored.cuts) !== json(derived.cuts)) differ('cuts', stored.cuts, derived.cuts)
  if (json(stored.kept) !== json(derived.kept)) differ('governance and trust entries', stored.kept, derived.kept)
  const sameEvidence = stored.evidence.length === derived.evidence.length &&
    stored.evidence.every((e, i) => equalBytes(e.a, derived.evidence[i]!.a) && equalBytes(e.b, derived.evidence[i]!.b))
  if (!sameEvidence) differ('equivocation evidence (count)', stored.evidence.length, derived.evidence.length)
  return problems
}

/** Where an entry's stored metadata record disagrees with the re-derived one, or undefined. */
export function compareMeta (stored: EntryMeta | undefined, derived: EntryMeta): string | undefined {
  if (stored === undefined) return `entry ${derived.id} has no metadata record`
  for (const field of ['author', 'seq', 'type', 'prev', 'time', 'index'] as const) {
    if (stored[field] !== derived[field]) {
      return `metadata record of ${derived.id}: ${field} is ${short(stored[field])}, not ${short(derived[field])}`
    }
  }
  if (json(stored.parents) !== json(derived.parents)) return `metadata record of ${derived.id}: parents differ`
  if (json([...stored.govHeads].sort()) !== json([...derived.govHeads].sort())) {
    return `metadata record of ${derived.id}: governance context ${short(stored.govHeads)}, ` +
      `a full replay gives ${short(derived.govHeads)}`
  }
  return undefined
}
