import * as Y from 'yjs'
import * as dagCbor from '@ipld/dag-cbor'
import { equalBytes, toHex } from './bytes.js'
import { nobleCrypto, type CryptoProvider } from './crypto.js'
import { PolicySchemaError } from './errors.js'
import {
  parsePolicyDocument, DEFAULT_MAX_HOPS, DEFAULT_TIMING, type PolicyDocument, type PolicyRule
} from './policy-schema.js'

// Y.Doc layout: one Y.Map per concern, one key per item, so concurrent edits by
// different governors to different rules, roles or allowlist items all survive the merge.
const RULES = 'rules'
const ROLES = 'roles'
const TRANSITIONS = 'transitions'
const MEASUREMENTS = 'measurements'
const SETTINGS = 'settings'
const SETTING_KEYS = ['heartbeatMs', 'staleMs', 'driftGraceMs', 'maxHops'] as const

/**
 * The replicated policy: a Y.Doc built from the Yjs updates of `policy.update`
 * entries (and the genesis policy), in any order. The materialized document and
 * its digest are cached until the next update.
 *
 * @example
 * ```ts
 * const policy = createPolicyState()
 * policy.apply(update)
 * console.log(policy.digest(), policy.document().rules.length)
 * ```
 */
export class PolicyState {
  readonly doc: Y.Doc
  private appliedCount = 0
  private cachedDoc: PolicyDocument | undefined
  private cachedDigest: string | undefined
  private readonly crypto: CryptoProvider

  constructor (crypto: CryptoProvider = nobleCrypto) {
    this.crypto = crypto
    this.doc = new Y.Doc({ gc: true })
  }

  /** True once any non-empty update has been applied; a node without policy refuses everything. */
  get hasPolicy (): boolean { return this.appliedCount > 0 }

  /** Applies one Yjs update. Idempotent and commutative (Yjs). */
  apply (update: Uint8Array): void {
    if (update.length === 0) return
    try {
      Y.applyUpdate(this.doc, update)
    } catch (err) {
      throw new PolicySchemaError(`policy update is not a valid Yjs update: ${(err as Error).message}`)
    }
    this.appliedCount++
    this.cachedDoc = undefined
    this.cachedDigest = undefined
  }

  /** The canonical materialized policy. */
  document (): PolicyDocument {
    this.cachedDoc ??= materialize(this.doc)
    return this.cachedDoc
  }

  /** Hex SHA-256 of the dag-cbor encoding of {@link document}: equal on every replica with the same updates. */
  digest (): string {
    this.cachedDigest ??= policyDigest(this.document(), this.crypto)
    return this.cachedDigest
  }

  /** The whole Yjs state as one update (what a new replica needs). */
  encodeState (): Uint8Array {
    return Y.encodeStateAsUpdate(this.doc)
  }
}

export function createPolicyState (
  init: { updates?: Iterable<Uint8Array>, crypto?: CryptoProvider } = {}
): PolicyState {
  const p = new PolicyState(init.crypto)
  for (const u of init.updates ?? []) p.apply(u)
  return p
}

/** Digest of a canonical policy document. */
export function policyDigest (doc: PolicyDocument, crypto: CryptoProvider = nobleCrypto): string {
  return toHex(crypto.sha256(dagCbor.encode(doc)))
}

function plain (v: unknown): unknown {
  return v instanceof Y.AbstractType ? v.toJSON() : v
}

/**
 * Reads a Y.Doc into a canonical policy document. Items a hostile or buggy writer
 * made invalid are skipped one by one (deterministically), so one bad rule cannot
 * hide the rest.
 */
export function materialize (doc: Y.Doc): PolicyDocument {
  const rules: PolicyRule[] = []
  doc.getMap(RULES).forEach((value, id) => {
    try {
      const parsed = parsePolicyDocument({ rules: [{ ...(plain(value) as object), id }] })
      rules.push(parsed.rules[0]!)
    } catch { /* skipped: invalid rule */ }
  })
  rules.sort((a, b) => a.id < b.id ? -1 : 1)
  const roles: Record<string, string[]> = {}
  const roleMap = doc.getMap(ROLES)
  for (const name of [...roleMap.keys()].sort()) {
    try {
      const parsed = parsePolicyDocument({ roles: { [name]: plain(roleMap.get(name)) } })
      roles[name] = parsed.roles[name]!
    } catch { /* skipped: invalid role */ }
  }
  const transitions: Array<[string, string]> = []
  for (const key of [...doc.getMap(TRANSITIONS).keys()].sort()) {
    if (key.split('>').length !== 2) continue // exactly `from>to`; anything else is an invalid item
    const [from, to] = key.split('>')
    try {
      transitions.push(parsePolicyDocument({ transitions: [[from, to]] }).transitions[0]!)
    } catch { /* skipped */ }
  }
  const measurements = [...doc.getMap(MEASUREMENTS).keys()].filter(m => /^[0-9a-f]{2,128}$/.test(m)).sort()
  const settings = doc.getMap(SETTINGS)
  const num = (k: string, dflt: number): number => {
    const v = settings.get(k)
    return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : dflt
  }
  return {
    rules,
    roles,
    transitions,
    measurements,
    timing: {
      heartbeatMs: num('heartbeatMs', DEFAULT_TIMING.heartbeatMs),
      staleMs: num('staleMs', DEFAULT_TIMING.staleMs),
      driftGraceMs: num('driftGraceMs', DEFAULT_TIMING.driftGraceMs)
    },
    maxHops: num('maxHops', DEFAULT_MAX_HOPS)
  }
}

/**
 * The Yjs update that turns `current` into `target` (only the keys that differ),
 * or null when nothing changes. `current` is not modified.
 *
 * @example
 * ```ts
 * const update = policyUpdateFor(node.policy, parsePolicyDocument(json))
 * if (update) submit(createEntry({ type: 'policy.update', body: { update }, ... }, governor))
 * ```
 */
export function policyUpdateFor (current: PolicyState | Uint8Array | null, target: PolicyDocument): Uint8Array | null {
  const doc = new Y.Doc()
  const state = current instanceof PolicyState ? current.encodeState() : current
  if (state !== null && state.length > 0) Y.applyUpdate(doc, state)
  const before = Y.encodeStateVector(doc)
  const existing = materialize(doc)
  // The delete set always rides along; an update equal to the no-op one changes nothing.
  const unchanged = Y.encodeStateAsUpdate(doc, before)
  doc.transact(() => {
    const rules = doc.getMap(RULES)
    const wanted = new Map(target.rules.map(r => [r.id, r]))
    for (const id of [...rules.keys()]) if (!wanted.has(id)) rules.delete(id)
    for (const r of target.rules) {
      const old = existing.rules.find(x => x.id === r.id)
      if (old === undefined || JSON.stringify(old) !== JSON.stringify(r) || !rules.has(r.id)) {
        const { id: _id, ...rest } = r
        rules.set(r.id, rest)
      }
    }
    const roles = doc.getMap(ROLES)
    for (const name of [...roles.keys()]) if (!(name in target.roles)) roles.delete(name)
    for (const [name, list] of Object.entries(target.roles)) {
      if (JSON.stringify(existing.roles[name]) !== JSON.stringify(list)) roles.set(name, list)
    }
    syncKeySet(doc.getMap(TRANSITIONS), new Set(target.transitions.map(([a, b]) => `${a}>${b}`)))
    syncKeySet(doc.getMap(MEASUREMENTS), new Set(target.measurements))
    const settings = doc.getMap(SETTINGS)
    const values: Record<typeof SETTING_KEYS[number], number> = { ...target.timing, maxHops: target.maxHops }
    for (const k of SETTING_KEYS) if (settings.get(k) !== values[k]) settings.set(k, values[k])
  })
  const update = Y.encodeStateAsUpdate(doc, before)
  return equalBytes(update, unchanged) ? null : update
}

function syncKeySet (map: Y.Map<unknown>, wanted: Set<string>): void {
  for (const k of [...map.keys()]) if (!wanted.has(k)) map.delete(k)
  for (const k of wanted) if (!map.has(k)) map.set(k, true)
}
