import { CID } from 'multiformats/cid'
import * as Y from 'yjs'
import { ed25519 } from '@noble/curves/ed25519.js'
import { compareBytes } from './bytes.js'
import { REFUSAL_REASONS } from './decide.js'
import type { ExecHopBody, ExecRefuseBody, ExecRequestBody, ExecResultBody } from './exec.js'
import { MAX_PATH, MAX_ROUTE, ZONE_PATTERN } from './limits.js'

/** Every entry type of protocol version 1. */
export const ENTRY_TYPES = [
  'mesh.genesis', 'member.admit', 'member.remove', 'policy.update',
  'trust.fail', 'trust.restore',
  'exec.request', 'exec.hop', 'exec.refuse', 'exec.result',
  'governor.add', 'governor.remove', 'governor.quorum'
] as const
export type EntryType = typeof ENTRY_TYPES[number]

/** Types only governors may author; they also form the governance sub-DAG. */
export const GOVERNANCE_TYPES: ReadonlySet<EntryType> = new Set([
  'mesh.genesis', 'member.admit', 'member.remove', 'policy.update', 'trust.restore',
  'governor.add', 'governor.remove', 'governor.quorum'
])
/** Types that change who may write or the quorums, so they drive the causal governance state. */
export const MEMBERSHIP_TYPES: ReadonlySet<EntryType> = new Set([
  'mesh.genesis', 'member.admit', 'member.remove', 'governor.add', 'governor.remove', 'governor.quorum'
])
/** Types valid only with the approvals of the governance (policy) quorum of governors. */
export const QUORUM_TYPES: ReadonlySet<EntryType> = new Set(
  ['policy.update', 'governor.add', 'governor.remove', 'governor.quorum']
)

export function isEntryType (t: unknown): t is EntryType {
  return typeof t === 'string' && (ENTRY_TYPES as readonly string[]).includes(t)
}

/** A founding member; `name` is an optional label shown beside its PeerId (signed like the rest). */
export interface GenesisMember { key: Uint8Array, zone: string, name?: string }

/** Member names: a short label, like a host name. */
export const MEMBER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
export interface GenesisBody {
  name: string
  governors: Uint8Array[]
  members: GenesisMember[]
  /** `policy`: governors whose approvals a `policy.update` or `governor.*` entry needs (absent: 1). */
  quorums: { fail: number, restore: number, policy?: number }
  policy: Uint8Array
}
export interface MemberAdmitBody { member: Uint8Array, zone: string }
export interface MemberRemoveBody { member: Uint8Array, cut: number, reason: string }
/** A governor's signature over a governance statement (`trust.restore`, or the entry types of QUORUM_TYPES). */
export interface GovernanceApproval { governor: Uint8Array, sig: Uint8Array }
/** `approvals` may be absent when the policy quorum is 1: the author's signature is the one approval. */
export interface PolicyUpdateBody { update: Uint8Array, approvals?: GovernanceApproval[] }
/**
 * `base`: the governance heads the first approver saw (also parents of the entry), so the
 * approvals are bound to one view of the governance and cannot be carried to another.
 */
export interface GovernorAddBody { governor: Uint8Array, base: CID[], approvals: GovernanceApproval[] }
/** `cut`: the removed governor's highest seq in the proposer's view; its later entries are invalid everywhere. */
export interface GovernorRemoveBody { governor: Uint8Array, cut: number, base: CID[], approvals: GovernanceApproval[] }
export interface GovernorQuorumBody { policy: number, restore: number, base: CID[], approvals: GovernanceApproval[] }
export interface TrustFailBody {
  subject: Uint8Array, reason: string, detector: string, evidence: Record<string, unknown> | null
}
export type RestoreApproval = GovernanceApproval
export interface TrustRestoreBody { subject: Uint8Array, clears: CID[], approvals: RestoreApproval[] }

export interface BodyByType {
  'mesh.genesis': GenesisBody
  'member.admit': MemberAdmitBody
  'member.remove': MemberRemoveBody
  'policy.update': PolicyUpdateBody
  'trust.fail': TrustFailBody
  'trust.restore': TrustRestoreBody
  'exec.request': ExecRequestBody
  'exec.hop': ExecHopBody
  'exec.refuse': ExecRefuseBody
  'exec.result': ExecResultBody
  'governor.add': GovernorAddBody
  'governor.remove': GovernorRemoveBody
  'governor.quorum': GovernorQuorumBody
}
export type EntryBody<T extends EntryType = EntryType> = BodyByType[T]

export { ZONE_PATTERN }
const MAX_TEXT = 1024

type Fail = (msg: string) => Error

function isMap (v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) && CID.asCID(v) === null
}

/** Checks a map has exactly the named keys; reports the first unknown or missing one. */
function fields (
  v: unknown, where: string, names: string[], fail: Fail, optional: string[] = []
): Record<string, unknown> {
  if (!isMap(v)) throw fail(`${where}: expected a map`)
  for (const k of Object.keys(v)) if (
    !names.includes(k) && !optional.includes(k)
  ) throw fail(`${where}: unknown field "${k}"`)
  for (const k of names) if (!(k in v)) throw fail(`${where}: missing field "${k}"`)
  return v
}

function key32 (v: unknown, where: string, fail: Fail): void {
  if (!(v instanceof Uint8Array) || v.length !== 32) throw fail(`${where}: expected a 32-byte key`)
}

/**
 * A key that will be allowed to write: it must be a canonical Ed25519 point of
 * large order, so every verifier (noble, OpenSSL) treats its signatures alike.
 */
function writerKey (v: unknown, where: string, fail: Fail): void {
  key32(v, where, fail)
  try {
    const point = ed25519.Point.fromBytes(v as Uint8Array)
    if (point.isSmallOrder()) throw new Error('small order')
  } catch {
    throw fail(`${where}: not a valid Ed25519 public key`)
  }
}

function text (v: unknown, where: string, fail: Fail, max = MAX_TEXT): void {
  if (typeof v !== 'string' || v.length > max) throw fail(`${where}: expected a string of at most ${max} characters`)
}

function zone (v: unknown, where: string, fail: Fail): void {
  if (typeof v !== 'string' || !ZONE_PATTERN.test(v)) throw fail(
    `${where}: expected a zone name matching ${ZONE_PATTERN.source}`
  )
}

function uint (v: unknown, where: string, fail: Fail, min = 0): void {
  if (
    typeof v !== 'number' || !Number.isSafeInteger(v) || v < min
  ) throw fail(`${where}: expected an integer >= ${min}`)
}

function peerIds (v: unknown, where: string, max: number, fail: Fail): void {
  if (!Array.isArray(v) || v.length > max) throw fail(`${where}: expected at most ${max} PeerIds`)
  v.forEach((r, i) => { text(r, `${where}[${i}]`, fail, 128) })
}

/** A non-empty list of governor approvals (at most 64). */
function approvals (v: unknown, where: string, fail: Fail): void {
  if (!Array.isArray(v) || v.length === 0 || v.length > 64) throw fail(`${where}: expected 1 to 64 approvals`)
  v.forEach((a, i) => {
    const aa = fields(a, `${where}[${i}]`, ['governor', 'sig'], fail)
    key32(aa.governor, `${where}[${i}].governor`, fail)
    if (!(aa.sig instanceof Uint8Array) || aa.sig.length !== 64) throw fail(`${where}[${i}].sig: expected 64 bytes`)
  })
}

/** The governance heads a quorum entry was proposed against: 1 to 64 CIDs, sorted by bytes. */
function governanceBase (v: unknown, where: string, fail: Fail): void {
  if (!Array.isArray(v) || v.length === 0 || v.length > 64) throw fail(`${where}: expected 1 to 64 CIDs`)
  v.forEach((c, i) => { if (CID.asCID(c) === null) throw fail(`${where}[${i}]: expected a CID`) })
  sortedUnique((v as CID[]).map(c => c.bytes), where, fail)
}

/** `{ digest, rules }` of a hop or refusal: a policy digest and at most 64 rule ids. */
function policyEvidence (v: unknown, where: string, fail: Fail): void {
  const p = fields(v, where, ['digest', 'rules'], fail)
  if (
    typeof p.digest !== 'string' || !/^[0-9a-f]{64}$/.test(p.digest)
  ) throw fail(`${where}.digest: expected a hex SHA-256 digest`)
  if (!Array.isArray(p.rules) || p.rules.length > 64) throw fail(`${where}.rules: expected at most 64 rule ids`)
  p.rules.forEach((r, i) => { text(r, `${where}.rules[${i}]`, fail, 128) })
}

function sortedUnique (items: Uint8Array[], where: string, fail: Fail): void {
  for (let i = 1; i < items.length; i++) {
    if (compareBytes(items[i - 1]!, items[i]!) >= 0) throw fail(`${where}: must be sorted by bytes without duplicates`)
  }
}

/**
 * Validates the body of an entry of the given type. `unknownType` builds the error
 * for an unknown type, `malformed` the one for a bad body, so callers get typed errors.
 */
export function validateBody (type: unknown, body: unknown, unknownType: Fail, malformed: Fail): void {
  if (!isEntryType(type)) throw unknownType(`unknown entry type ${JSON.stringify(type)}`)
  const where = `body(${type})`
  switch (type) {
    case 'mesh.genesis': {
      const b = fields(body, where, ['name', 'governors', 'members', 'quorums', 'policy'], malformed)
      text(b.name, `${where}.name`, malformed, 128)
      if (
        !Array.isArray(b.governors) || b.governors.length === 0
      ) throw malformed(`${where}.governors: expected a non-empty array`)
      b.governors.forEach((g, i) => { writerKey(g, `${where}.governors[${i}]`, malformed) })
      sortedUnique(b.governors as Uint8Array[], `${where}.governors`, malformed)
      if (!Array.isArray(b.members)) throw malformed(`${where}.members: expected an array`)
      b.members.forEach((m, i) => {
        const mm = fields(m, `${where}.members[${i}]`, ['key', 'zone'], malformed, ['name'])
        writerKey(mm.key, `${where}.members[${i}].key`, malformed)
        zone(mm.zone, `${where}.members[${i}].zone`, malformed)
        if ('name' in mm && (typeof mm.name !== 'string' || !MEMBER_NAME_PATTERN.test(mm.name))) {
          throw malformed(`${where}.members[${i}].name: expected a name matching ${MEMBER_NAME_PATTERN.source}`)
        }
      })
      sortedUnique((b.members as GenesisMember[]).map(m => m.key), `${where}.members`, malformed)
      const q = fields(b.quorums, `${where}.quorums`, ['fail', 'restore'], malformed, ['policy'])
      uint(q.fail, `${where}.quorums.fail`, malformed, 1)
      uint(q.restore, `${where}.quorums.restore`, malformed, 1)
      if ((q.restore as number) > b.governors.length) throw malformed(
        `${where}.quorums.restore: exceeds the number of governors`
      )
      if ('policy' in q) {
        uint(q.policy, `${where}.quorums.policy`, malformed, 1)
        if ((q.policy as number) > b.governors.length) throw malformed(
          `${where}.quorums.policy: exceeds the number of governors`
        )
      }
      if (!(b.policy instanceof Uint8Array)) throw malformed(`${where}.policy: expected bytes (a Yjs update)`)
      if (b.policy.length > 0) {
        try {
          Y.decodeUpdate(b.policy)
        } catch {
          throw malformed(`${where}.policy: not a valid Yjs update`)
        }
      }
      return
    }
    case 'member.admit': {
      const b = fields(body, where, ['member', 'zone'], malformed)
      writerKey(b.member, `${where}.member`, malformed)
      zone(b.zone, `${where}.zone`, malformed)
      return
    }
    case 'member.remove': {
      const b = fields(body, where, ['member', 'cut', 'reason'], malformed)
      key32(b.member, `${where}.member`, malformed)
      uint(b.cut, `${where}.cut`, malformed)
      text(b.reason, `${where}.reason`, malformed)
      return
    }
    case 'policy.update': {
      const b = fields(body, where, ['update'], malformed, ['approvals'])
      if ('approvals' in b) approvals(b.approvals, `${where}.approvals`, malformed)
      if (
        !(b.update instanceof Uint8Array) || b.update.length === 0
      ) throw malformed(`${where}.update: expected non-empty bytes`)
      try {
        Y.decodeUpdate(b.update)
      } catch {
        throw malformed(`${where}.update: not a valid Yjs update`)
      }
      return
    }
    case 'trust.fail': {
      const b = fields(body, where, ['subject', 'reason', 'detector', 'evidence'], malformed)
      key32(b.subject, `${where}.subject`, malformed)
      text(b.reason, `${where}.reason`, malformed)
      text(b.detector, `${where}.detector`, malformed, 64)
      if (b.evidence !== null && !isMap(b.evidence)) throw malformed(`${where}.evidence: expected a map or null`)
      return
    }
    case 'trust.restore': {
      const b = fields(body, where, ['subject', 'clears', 'approvals'], malformed)
      key32(b.subject, `${where}.subject`, malformed)
      if (!Array.isArray(b.clears) || b.clears.length === 0) throw malformed(
        `${where}.clears: expected a non-empty array of CIDs`
      )
      b.clears.forEach(
        (c, i) => { if (CID.asCID(c) === null) throw malformed(`${where}.clears[${i}]: expected a CID`) }
      )
      sortedUnique((b.clears as CID[]).map(c => c.bytes), `${where}.clears`, malformed)
      approvals(b.approvals, `${where}.approvals`, malformed)
      return
    }
    case 'governor.add': {
      const b = fields(body, where, ['governor', 'base', 'approvals'], malformed)
      writerKey(b.governor, `${where}.governor`, malformed)
      governanceBase(b.base, `${where}.base`, malformed)
      approvals(b.approvals, `${where}.approvals`, malformed)
      return
    }
    case 'governor.remove': {
      const b = fields(body, where, ['governor', 'cut', 'base', 'approvals'], malformed)
      key32(b.governor, `${where}.governor`, malformed)
      uint(b.cut, `${where}.cut`, malformed)
      governanceBase(b.base, `${where}.base`, malformed)
      approvals(b.approvals, `${where}.approvals`, malformed)
      return
    }
    case 'governor.quorum': {
      const b = fields(body, where, ['policy', 'restore', 'base', 'approvals'], malformed)
      uint(b.policy, `${where}.policy`, malformed, 1)
      uint(b.restore, `${where}.restore`, malformed, 1)
      governanceBase(b.base, `${where}.base`, malformed)
      approvals(b.approvals, `${where}.approvals`, malformed)
      return
    }
    case 'exec.request': {
      // `path` is optional: requests recorded before route planning, or refused before a path was found, lack it.
      const names = ['principal', 'action', 'resource', 'target', 'route', 'payload', 'parent', 'nonce', 'agent']
      const b = fields(body, where, isMap(body) && 'path' in body ? [...names, 'path'] : names, malformed)
      if (
        typeof b.principal !== 'string' || !(b.principal === 'local' || /^[0-9a-f]{64}$/.test(b.principal))
      ) throw malformed(`${where}.principal: expected "local" or a hex key`)
      text(b.action, `${where}.action`, malformed, 128)
      text(b.resource, `${where}.resource`, malformed)
      text(b.target, `${where}.target`, malformed, 128)
      peerIds(b.route, `${where}.route`, MAX_ROUTE, malformed)
      if ('path' in b) peerIds(b.path, `${where}.path`, MAX_PATH, malformed)
      if (b.parent !== null && CID.asCID(b.parent) === null) throw malformed(`${where}.parent: expected a CID or null`)
      text(b.nonce, `${where}.nonce`, malformed, 64)
      if (b.agent !== null) {
        const a = fields(b.agent, `${where}.agent`, ['key', 'sig'], malformed)
        writerKey(a.key, `${where}.agent.key`, malformed)
        if (
          !(a.sig instanceof Uint8Array) || a.sig.length !== 64
        ) throw malformed(`${where}.agent.sig: expected 64 bytes`)
      } else if (b.principal !== 'local') {
        throw malformed(`${where}.principal: an unsigned request must be "local"`)
      }
      return
    }
    case 'exec.hop': {
      const b = fields(body, where, ['request', 'hop', 'from', 'zone', 'next'], malformed, ['policy'])
      if ('policy' in b) policyEvidence(b.policy, `${where}.policy`, malformed)
      if (CID.asCID(b.request) === null) throw malformed(`${where}.request: expected a CID`)
      uint(b.hop, `${where}.hop`, malformed, 1)
      text(b.from, `${where}.from`, malformed, 128)
      zone(b.zone, `${where}.zone`, malformed)
      if (b.next !== null) text(b.next, `${where}.next`, malformed, 128)
      return
    }
    case 'exec.refuse': {
      const b = fields(body, where, ['request', 'hop', 'reason', 'detail'], malformed, ['policy'])
      if ('policy' in b) policyEvidence(b.policy, `${where}.policy`, malformed)
      if (CID.asCID(b.request) === null) throw malformed(`${where}.request: expected a CID`)
      uint(b.hop, `${where}.hop`, malformed)
      if (
        typeof b.reason !== 'string' || !(REFUSAL_REASONS as readonly string[]).includes(b.reason)
      ) throw malformed(`${where}.reason: expected one of ${REFUSAL_REASONS.join(', ')}`)
      text(b.detail, `${where}.detail`, malformed)
      return
    }
    case 'exec.result': {
      const b = fields(body, where, ['request', 'ok', 'executor', 'output', 'durationMs'], malformed)
      if (CID.asCID(b.request) === null) throw malformed(`${where}.request: expected a CID`)
      if (typeof b.ok !== 'boolean') throw malformed(`${where}.ok: expected a boolean`)
      text(b.executor, `${where}.executor`, malformed, 64)
      uint(b.durationMs, `${where}.durationMs`, malformed)
      return
    }
  }
}
