import type { PolicyDocument, PolicyRule } from './policy-schema.js'

/** A change of one item: its value before and after. */
export interface Changed<T> { id: string, before: T, after: T }

/** What applying a proposed policy would change, item by item. */
export interface PolicyDiff {
  changed: boolean
  rules: { added: PolicyRule[], removed: PolicyRule[], changed: Array<Changed<PolicyRule>> }
  roles: { added: string[], removed: string[], changed: Array<Changed<string[]>> }
  transitions: { added: Array<[string, string]>, removed: Array<[string, string]> }
  measurements: { added: string[], removed: string[] }
  /** Timing values and the hop limit, by name (`heartbeatMs`, `staleMs`, `driftGraceMs`, `maxHops`). */
  settings: Array<Changed<number>>
}

function keyedDiff<T> (
  before: Map<string, T>, after: Map<string, T>
): { added: T[], removed: T[], changed: Array<Changed<T>> } {
  const added: T[] = []
  const removed: T[] = []
  const changed: Array<Changed<T>> = []
  for (const [id, b] of before) {
    const a = after.get(id)
    if (a === undefined) removed.push(b)
    else if (JSON.stringify(a) !== JSON.stringify(b)) changed.push({ id, before: b, after: a })
  }
  for (const [id, a] of after) if (!before.has(id)) added.push(a)
  return { added, removed, changed }
}

function setDiff (before: readonly string[], after: readonly string[]): { added: string[], removed: string[] } {
  const b = new Set(before)
  const a = new Set(after)
  return { added: [...a].filter(x => !b.has(x)).sort(), removed: [...b].filter(x => !a.has(x)).sort() }
}

/**
 * Rule by rule, what turning `live` into `proposed` changes (both canonical documents, e.g.
 * from `materialize` and `parsePolicyDocument`). Pure; equal documents give `changed: false`.
 *
 * @example
 * ```ts
 * const diff = diffPolicy(node.policy.document(), parsePolicyDocument(json))
 * for (const r of diff.rules.removed) console.log('- rule', r.id)
 * ```
 */
export function diffPolicy (live: PolicyDocument, proposed: PolicyDocument): PolicyDiff {
  const rules = keyedDiff(new Map(live.rules.map(r => [r.id, r])), new Map(proposed.rules.map(r => [r.id, r])))
  const roleDiff = keyedDiff(
    new Map(Object.entries(live.roles).map(([k, v]) => [k, { k, v }])),
    new Map(Object.entries(proposed.roles).map(([k, v]) => [k, { k, v }]))
  )
  const roles = {
    added: roleDiff.added.map(r => r.k),
    removed: roleDiff.removed.map(r => r.k),
    changed: roleDiff.changed.map(c => ({ id: c.id, before: c.before.v, after: c.after.v }))
  }
  const pair = (t: [string, string]): string => `${t[0]}>${t[1]}`
  const trans = setDiff(live.transitions.map(pair), proposed.transitions.map(pair))
  const unpair = (s: string): [string, string] => s.split('>') as [string, string]
  const transitions = { added: trans.added.map(unpair), removed: trans.removed.map(unpair) }
  const measurements = setDiff(live.measurements, proposed.measurements)
  const before = { ...live.timing, maxHops: live.maxHops }
  const after = { ...proposed.timing, maxHops: proposed.maxHops }
  const settings = (Object.keys(before) as Array<keyof typeof before>)
    .filter(k => before[k] !== after[k])
    .map(k => ({ id: k, before: before[k], after: after[k] }))
  const changed = rules.added.length + rules.removed.length + rules.changed.length +
    roles.added.length + roles.removed.length + roles.changed.length +
    transitions.added.length + transitions.removed.length +
    measurements.added.length + measurements.removed.length + settings.length > 0
  return { changed, rules, roles, transitions, measurements, settings }
}
