import type { EntryType } from './bodies.js'

/** What accepting an entry of a type changes beyond the DAG itself. */
export interface EntryEffects {
  /** The trust view (quarantines, the fail quorum, who is a member) must be derived again. */
  trust: boolean
  /** Who may connect may have changed: connection admission and its backoff start afresh. */
  membership: boolean
  /** Connections to peers that are no longer members must be closed. */
  dropConnections: boolean
  /** The entry's body carries a policy update to apply. */
  policy: boolean
}

const NONE: EntryEffects = { trust: false, membership: false, dropConnections: false, policy: false }

const EFFECTS: Partial<Record<EntryType, EntryEffects>> = {
  'trust.fail': { ...NONE, trust: true },
  'trust.restore': { ...NONE, trust: true },
  'member.admit': { ...NONE, trust: true, membership: true },
  'member.remove': { trust: true, membership: true, dropConnections: true, policy: false },
  'policy.update': { ...NONE, policy: true },
  // Who governs decides which restores and quorums count: the trust view is derived again.
  'governor.add': { ...NONE, trust: true },
  'governor.remove': { ...NONE, trust: true },
  'governor.quorum': { ...NONE, trust: true }
}

/**
 * The effects of accepting an entry of `type`, the one place that says which entry types touch
 * the trust view, membership and policy.
 *
 * @example
 * ```ts
 * if (entryEffects(e.entry.type).trust) trust.invalidate()
 * ```
 */
export function entryEffects (type: EntryType): EntryEffects {
  return EFFECTS[type] ?? NONE
}
