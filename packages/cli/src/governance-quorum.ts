import {
  approveGovernance, CID, decodeGovernanceProposal, encodeGovernanceProposal, fromBase64, fromHex, toBase64, toHex,
  type EntryBody, type GovernanceProposal, type KeyPair, type QuorumEntryType
} from '@govmesh/core'
import type { ApiClient } from './client.js'
import { CliError } from './output.js'
import { signAndSubmit } from './submit.js'

/** What `GET /v1/governance` answers (the parts governance commands need). */
export interface GovernanceView {
  meshId: string
  governors: string[]
  quorums: { fail: number, restore: number, policy: number }
  /** Governance heads: the base a new `governor.*` proposal is built on. */
  heads: string[]
}

/** `--json` of every quorum command: `{ applied, approvals, quorum, cid? }`. */
export interface QuorumOutcome {
  applied: boolean
  approvals: number
  quorum: number
  cid?: string
}

interface PooledApproval { governor: string, sig: string }
export interface PooledProposal { statement: string, proposal: GovernanceProposal, approvals: PooledApproval[] }

/** The policy quorum as it applies (never more than the governors there are). */
export function policyQuorum (gov: GovernanceView): number {
  return Math.max(1, Math.min(gov.quorums.policy, gov.governors.length))
}

/** Proposals of one type waiting for approvals at the node, decoded. */
export async function pooledProposals (client: ApiClient, type: QuorumEntryType): Promise<PooledProposal[]> {
  const r = await client.get<{ proposals: Array<{ statement: string, approvals: PooledApproval[] }> }>(
    `/v1/governance/approvals?type=${encodeURIComponent(type)}`)
  return r.proposals.map(p => ({ ...p, proposal: decodeGovernanceProposal(fromBase64(p.statement)) }))
}

/**
 * One governor's approval of a quorum entry. With the approvals already pooled at the node for
 * the exact same proposal, it completes the policy quorum: the entry is signed and submitted
 * (`applied: true`). Otherwise the approval joins the pool (`applied: false`).
 */
export async function approveQuorumEntry<T extends QuorumEntryType> (
  client: ApiClient, keys: KeyPair, gov: GovernanceView, proposal: GovernanceProposal<T>,
  opts: { journal: string, extraParents?: string[], mayComplete?: boolean }
): Promise<QuorumOutcome> {
  const me = toHex(keys.publicKey)
  if (!gov.governors.includes(me)) throw new CliError('this key is not a governor of the mesh (in the node\'s view)')
  const statement = toBase64(encodeGovernanceProposal(proposal))
  const mine = approveGovernance({ mesh: CID.parse(gov.meshId), ...proposal }, keys)
  const pooled = (await pooledProposals(client, proposal.type)).find(p => p.statement === statement)
  const others = (pooled?.approvals ?? []).filter(a => a.governor !== me && gov.governors.includes(a.governor))
  const quorum = policyQuorum(gov)
  if (others.length + 1 < quorum || opts.mayComplete === false) {
    const r = await client.post<{ approvals: number, quorum: number }>('/v1/governance/approvals',
      { statement, governor: me, sig: toHex(mine.sig) })
    return { applied: false, approvals: r.body.approvals, quorum: r.body.quorum }
  }
  const approvals = [...others.map(a => ({ governor: fromHex(a.governor), sig: fromHex(a.sig) })), mine]
  // Quorum 1: a policy.update stays as it always was, the author's signature being the one approval.
  const legacy = proposal.type === 'policy.update' && approvals.length === 1
  const body = legacy ? proposal.body : { ...proposal.body, approvals }
  const signed = await signAndSubmit(client, keys, proposal.type, body as EntryBody<T>,
    { journal: opts.journal, extraParents: opts.extraParents })
  return { applied: true, approvals: approvals.length, quorum, cid: signed.id }
}

/** One line for humans about a quorum outcome. */
export function quorumText (what: string, o: QuorumOutcome): string {
  return o.applied
    ? `${what} ${o.cid ?? ''} applied with ${o.approvals}/${o.quorum} governor approvals`
    : `approval recorded (${o.approvals}/${o.quorum}); ${what} applies once the policy quorum approves`
}
