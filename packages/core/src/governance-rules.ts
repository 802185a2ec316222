import type { RestoreApproval } from './bodies.js'
import { toHex } from './bytes.js'

/**
 * The cut a `member.remove` records: the removed author's highest contiguous seq in
 * the remover's view, so everything it wrote after that is invalid everywhere.
 *
 * @example
 * ```ts
 * const cut = removalCut(dag.frontier(), memberHex)
 * ```
 */
export function removalCut (frontier: Readonly<Record<string, number>>, member: string): number {
  return frontier[member] ?? 0
}

/**
 * Distinct governors among the approvals, and whether they reach the restore quorum
 * (the DAG's `trust.restore` rule and the CLI's "submit now?" both ask this).
 *
 * @example
 * ```ts
 * if (restoreQuorum(approvals, gov.quorums.restore).reached) submit()
 * ```
 */
export function restoreQuorum (
  approvals: ReadonlyArray<Pick<RestoreApproval, 'governor'> | { governor: string }>, quorum: number
):
{ approvers: number, reached: boolean } {
  const distinct = new Set(approvals.map(a => typeof a.governor === 'string' ? a.governor : toHex(a.governor)))
  return { approvers: distinct.size, reached: distinct.size >= quorum }
}
