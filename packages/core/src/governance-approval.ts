import * as dagCbor from '@ipld/dag-cbor'
import type { CID } from 'multiformats/cid'
import {
  validateBody, type EntryBody, type GovernanceApproval, type GovernorQuorumBody, type GovernorRemoveBody
} from './bodies.js'
import { concatBytes, toHex, utf8 } from './bytes.js'
import { nobleCrypto, type CryptoProvider } from './crypto.js'
import { BadSignatureError, GovernanceQuorumError, MalformedEntryError } from './errors.js'
import { effectiveQuorum, type GovernanceState } from './governance.js'

/** Domain tag of a governor's approval of a quorum entry (`policy.update`, `governor.*`). */
export const GOVERNANCE_APPROVAL_DOMAIN = utf8('govmesh/governance-approval/v1\0')

export type QuorumEntryType = 'policy.update' | 'governor.add' | 'governor.remove' | 'governor.quorum'

/** What a governor approves: an entry of this type with exactly this body (approvals left out), in this mesh. */
export interface GovernanceStatement<T extends QuorumEntryType = QuorumEntryType> {
  mesh: CID
  type: T
  body: Omit<EntryBody<T>, 'approvals'>
}

/** The body a statement is about, without its approvals (what every approval signs). */
export function statementBody<T extends QuorumEntryType> (body: EntryBody<T>): Omit<EntryBody<T>, 'approvals'> {
  const { approvals: _approvals, ...rest } = body as EntryBody<T> & { approvals?: unknown }
  return rest
}

/** The bytes a governance approval signature covers. */
export function governanceStatementBytes (s: GovernanceStatement): Uint8Array {
  return concatBytes(GOVERNANCE_APPROVAL_DOMAIN, dagCbor.encode({ mesh: s.mesh, type: s.type, body: s.body }))
}

/**
 * A governor signs its approval of one quorum entry. Approvals are collected (at a node, or by
 * hand) until the policy quorum is reached; the governor completing it submits the entry with
 * every approval in its body.
 *
 * @example
 * ```ts
 * const mine = approveGovernance({ mesh, type: 'policy.update', body: { update } }, governorKeys)
 * ```
 */
export function approveGovernance (
  s: GovernanceStatement, keys: { secretKey: Uint8Array, publicKey: Uint8Array }, crypto: CryptoProvider = nobleCrypto
): GovernanceApproval {
  return { governor: keys.publicKey, sig: crypto.sign(governanceStatementBytes(s), keys.secretKey) }
}

export function verifyGovernanceApproval (
  s: GovernanceStatement, a: GovernanceApproval, crypto: CryptoProvider = nobleCrypto
): boolean {
  return crypto.verify(a.sig, governanceStatementBytes(s), a.governor)
}

/**
 * The distinct governors approving a quorum entry: its author (whose entry signature is an
 * approval) and every listed approval. Throws when an approval is by a non-governor (in the
 * entry's causal past) or does not verify, so a bad approval never hides among good ones.
 */
export function quorumApprovers (
  mesh: CID, type: QuorumEntryType, body: EntryBody<QuorumEntryType>, author: string, gov: GovernanceState,
  crypto: CryptoProvider = nobleCrypto
): Set<string> {
  const approvers = new Set([author])
  const list = (body as { approvals?: GovernanceApproval[] }).approvals ?? []
  if (list.length === 0) return approvers
  const statement = { mesh, type, body: statementBody(body) }
  const bytes = governanceStatementBytes(statement)
  for (const a of list) {
    const g = toHex(a.governor)
    const who = `${type}: approval by ${g.slice(0, 16)}…`
    if (!gov.governors.has(g)) throw new GovernanceQuorumError(`${who}, who is not a governor`)
    if (!crypto.verify(a.sig, bytes, a.governor)) throw new BadSignatureError(`${who} does not verify`)
    approvers.add(g)
  }
  return approvers
}

/**
 * The rules of a quorum entry in its causal past: approvals by the policy quorum of governors,
 * a removal that leaves a governor and a quorum change the governors can meet. Throws typed errors.
 *
 * @example
 * ```ts
 * checkQuorumEntry(meshId, entry.type, entry.body, authorHex, dag.governanceAt(parentId), nodeCrypto)
 * ```
 */
export function checkQuorumEntry (
  mesh: CID, type: QuorumEntryType, body: EntryBody<QuorumEntryType>, author: string, gov: GovernanceState,
  crypto: CryptoProvider = nobleCrypto
): void {
  if (type === 'governor.remove') {
    const key = toHex((body as GovernorRemoveBody).governor)
    if (!gov.governors.has(key)) {
      throw new MalformedEntryError(`governor.remove: ${key.slice(0, 16)}… is not a governor`)
    }
    if (gov.governors.size === 1) throw new MalformedEntryError('governor.remove: a mesh keeps at least one governor')
  }
  if (type === 'governor.quorum') {
    const q = body as GovernorQuorumBody
    if (q.policy > gov.governors.size || q.restore > gov.governors.size) {
      throw new MalformedEntryError(`governor.quorum: a quorum exceeds the ${gov.governors.size} governor(s)`)
    }
  }
  const approvers = quorumApprovers(mesh, type, body, author, gov, crypto)
  const quorum = effectiveQuorum(gov, 'policy')
  if (approvers.size < quorum) {
    throw new GovernanceQuorumError(
      `${type} has ${approvers.size} governor approval(s); the policy quorum is ${quorum}`)
  }
}

/** A quorum entry waiting for approvals: its type and body without approvals. */
export interface GovernanceProposal<T extends QuorumEntryType = QuorumEntryType> {
  type: T
  body: Omit<EntryBody<T>, 'approvals'>
}

const QUORUM_ENTRY_TYPES: readonly string[] = ['policy.update', 'governor.add', 'governor.remove', 'governor.quorum']
const PLACEHOLDER_APPROVAL = { governor: new Uint8Array(32), sig: new Uint8Array(64) }

/** The canonical bytes of a proposal (dag-cbor `{ type, body }`): how approvers name one and nodes pool them. */
export function encodeGovernanceProposal (p: GovernanceProposal): Uint8Array {
  return dagCbor.encode({ type: p.type, body: p.body })
}

/**
 * Decodes and validates a proposal's bytes (the body as its entry type requires, approvals aside).
 * Throws {@link MalformedEntryError} naming the problem.
 *
 * @example
 * ```ts
 * const proposal = decodeGovernanceProposal(fromBase64(req.body.statement))
 * ```
 */
export function decodeGovernanceProposal (bytes: Uint8Array): GovernanceProposal {
  let v: unknown
  try {
    v = dagCbor.decode(bytes)
  } catch {
    throw new MalformedEntryError('proposal: not dag-cbor')
  }
  const p = v as { type?: unknown, body?: unknown }
  if (p === null || typeof p !== 'object' || Object.keys(p).length !== 2 || typeof p.type !== 'string' ||
      !QUORUM_ENTRY_TYPES.includes(p.type) || p.body === null || typeof p.body !== 'object' || 'approvals' in p.body) {
    throw new MalformedEntryError(
      `proposal: expected { type: one of ${QUORUM_ENTRY_TYPES.join(', ')}, body without approvals }`)
  }
  const fail = (m: string): Error => new MalformedEntryError(m)
  validateBody(p.type, { ...p.body, approvals: [PLACEHOLDER_APPROVAL] }, fail, fail)
  return { type: p.type as QuorumEntryType, body: p.body }
}
