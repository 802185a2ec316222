import type { GovernorRemoveBody } from './bodies.js'
import { toHex } from './bytes.js'
import type { SignedEntry } from './entry.js'

/** A membership entry to fold, with the number of membership entries strictly in its past. */
export interface FoldItem { id: string, signed: SignedEntry, ancestors: number }

/** Author → lowest cut among the `governor.remove` entries given. */
function governorCuts (items: readonly FoldItem[]): Map<string, number> {
  const cuts = new Map<string, number>()
  for (const { signed } of items) {
    if (signed.entry.type !== 'governor.remove') continue
    const body = signed.entry.body as GovernorRemoveBody
    const key = toHex(body.governor)
    cuts.set(key, Math.min(body.cut, cuts.get(key) ?? body.cut))
  }
  return cuts
}

function pastCut (item: FoldItem, cuts: ReadonlyMap<string, number>): boolean {
  const cut = cuts.get(toHex(item.signed.entry.author))
  return cut !== undefined && item.signed.entry.seq > cut
}

/**
 * The order in which membership entries are folded into a governance state: fewer ancestors first
 * (a topological order), ties broken by id, so every node folds the same set alike. A removed
 * governor's entries past its cut are left out, whether the node learned of the removal before
 * or after it accepted them: otherwise the state would depend on arrival order. A removal by a
 * governor itself cut counts only when no other removal cuts it first.
 *
 * @example
 * ```ts
 * for (const signed of foldOrder(items)) state = applyMembership(state, signed)
 * ```
 */
export function foldOrder (items: readonly FoldItem[]): SignedEntry[] {
  const all = governorCuts(items)
  const cuts = all.size === 0 ? all : governorCuts(items.filter(i => !pastCut(i, all)))
  return items
    .filter(i => !pastCut(i, cuts))
    .sort((x, y) => x.ancestors !== y.ancestors ? x.ancestors - y.ancestors : (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))
    .map(i => i.signed)
}
