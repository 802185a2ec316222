import { toHex } from './bytes.js'
import type {
  GenesisBody, GovernorAddBody, GovernorQuorumBody, GovernorRemoveBody, MemberAdmitBody, MemberRemoveBody
} from './bodies.js'
import type { SignedEntry } from './entry.js'

/** A member's record in a governance state. */
export interface MemberInfo {
  /** Hex of the member's Ed25519 public key. */
  key: string
  zone: string
  /** The genesis label of a founding member, if it has one. */
  name?: string
}

/**
 * Who may write, as of some set of membership entries. Immutable: each applied
 * entry yields a new state, so states can be cached by the set of heads they
 * were computed from.
 */
export interface GovernanceState {
  meshName: string
  /** Hex public keys of governors: the founders, then as `governor.add` / `governor.remove` change them. */
  governors: ReadonlySet<string>
  /** Governor keys removed, with the cut (last valid seq) each removal recorded. Removal is final. */
  removedGovernors: ReadonlyMap<string, number>
  /** Current members by hex public key. */
  members: ReadonlyMap<string, MemberInfo>
  /** Keys removed, with the cut (last valid seq) each removal recorded. */
  removed: ReadonlyMap<string, number>
  /**
   * As set at genesis or by the last `governor.quorum` folded in. `policy` is the governance quorum:
   * the approvals a `policy.update` or a `governor.*` entry needs. Use {@link effectiveQuorum}.
   */
  quorums: { fail: number, restore: number, policy: number }
}

/**
 * A quorum as it applies: never more than the governors there are (a removal cannot freeze
 * governance), never less than 1.
 *
 * @example
 * ```ts
 * effectiveQuorum(gov, 'policy') // 2 with 3 governors and a policy quorum of 2
 * ```
 */
export function effectiveQuorum (state: GovernanceState, which: 'policy' | 'restore'): number {
  return Math.max(1, Math.min(state.quorums[which], state.governors.size))
}

/** The state a genesis entry establishes. */
export function genesisState (body: GenesisBody): GovernanceState {
  const members = new Map<string, MemberInfo>()
  for (const m of body.members) {
    const key = toHex(m.key)
    members.set(key, m.name !== undefined ? { key, zone: m.zone, name: m.name } : { key, zone: m.zone })
  }
  return {
    meshName: body.name,
    governors: new Set(body.governors.map(toHex)),
    removedGovernors: new Map(),
    members,
    removed: new Map(),
    quorums: { fail: body.quorums.fail, restore: body.quorums.restore, policy: body.quorums.policy ?? 1 }
  }
}

/** A copy of `cuts` with `key` cut at `cut`, or lower if it already was: cuts only decrease. */
function withCut (cuts: ReadonlyMap<string, number>, key: string, cut: number): Map<string, number> {
  const next = new Map(cuts)
  const prior = next.get(key)
  next.set(key, prior === undefined ? cut : Math.min(prior, cut))
  return next
}

/**
 * Applies one membership entry. Removal is final: a removed key stays removed even
 * if a concurrent or later admit names it, so every order of the same entries agrees.
 */
export function applyMembership (state: GovernanceState, signed: SignedEntry): GovernanceState {
  const { entry } = signed
  if (entry.type === 'member.admit') {
    const body = entry.body as MemberAdmitBody
    const key = toHex(body.member)
    if (state.removed.has(key)) return state
    const members = new Map(state.members)
    const name = state.members.get(key)?.name
    members.set(key, name !== undefined ? { key, zone: body.zone, name } : { key, zone: body.zone })
    return { ...state, members }
  }
  if (entry.type === 'member.remove') {
    const body = entry.body as MemberRemoveBody
    const key = toHex(body.member)
    const members = new Map(state.members)
    members.delete(key)
    return { ...state, members, removed: withCut(state.removed, key, body.cut) }
  }
  if (entry.type === 'governor.add') {
    const key = toHex((entry.body as GovernorAddBody).governor)
    if (state.removedGovernors.has(key) || state.governors.has(key)) return state
    return { ...state, governors: new Set([...state.governors, key]) }
  }
  if (entry.type === 'governor.remove') {
    const body = entry.body as GovernorRemoveBody
    const key = toHex(body.governor)
    const governors = new Set(state.governors)
    governors.delete(key)
    return { ...state, governors, removedGovernors: withCut(state.removedGovernors, key, body.cut) }
  }
  if (entry.type === 'governor.quorum') {
    const body = entry.body as GovernorQuorumBody
    return { ...state, quorums: { ...state.quorums, policy: body.policy, restore: body.restore } }
  }
  return state
}

export function isGovernor (state: GovernanceState, keyHex: string): boolean {
  return state.governors.has(keyHex)
}

export function isMember (state: GovernanceState, keyHex: string): boolean {
  return state.members.has(keyHex)
}
