import {
  approveRestore,
  CID,
  createEntry,
  decodeKeyFile,
  fromHex,
  sortCids,
  toBase64,
  toHex,
  type KeyPair
} from '@govmesh/core'
import { ApiError, getJson, postJson } from './api.js'
import type { TrustAnswer } from './types.js'

/** Reads a governor key file in the browser; the secret stays in this tab and is never sent. */
export function readGovernorKey(text: string): KeyPair {
  return decodeKeyFile(text)
}

export interface RestoreOutcome {
  restored: boolean
  approvals: number
  quorum: number
  cid?: string
}

interface Position {
  mesh: string
  seq: number
  prev: string | null
  parents: string[]
}
interface Approval {
  subject: string
  clears: string[]
  governor: string
  sig: string
}
interface Outcome {
  status: string
  id?: string
  reason?: string
  message?: string
}

/**
 * The governor's part of `govmesh trust restore`, done in the browser: approve clearing every
 * open failure about the subject; if that completes the restore quorum, sign the
 * `trust.restore` entry locally and submit it, else leave the approval at the node.
 */
export async function restoreAsGovernor(subjectHex: string, keys: KeyPair): Promise<RestoreOutcome> {
  const trust = await getJson<TrustAnswer>('/v1/trust')
  const clears = trust.failures
    .filter(f => f.subject === subjectHex && !f.cleared)
    .map(f => f.id)
    .sort()
  if (clears.length === 0) throw new ApiError(409, 'no-open-failure', 'there is no open trust failure about this peer')
  const { meshId } = await getJson<{ meshId: string }>('/v1/status')
  const subject = fromHex(subjectHex)
  const statement = { mesh: CID.parse(meshId), subject, clears: clears.map(c => CID.parse(c)) }
  const mine = approveRestore(statement, keys)
  const me = toHex(keys.publicKey)
  const { approvals } = await getJson<{ approvals: Approval[] }>(`/v1/trust/approvals?subject=${subjectHex}`)
  const others = approvals.filter(a => JSON.stringify(a.clears) === JSON.stringify(clears) && a.governor !== me)
  const all = [...others.map(a => ({ governor: fromHex(a.governor), sig: fromHex(a.sig) })), mine]
  const quorum = trust.quorums.restore
  if (all.length < quorum) {
    const r = await postJson<{ approvals: number; quorum: number }>('/v1/trust/approvals', {
      subject: subjectHex,
      clears,
      governor: me,
      sig: toHex(mine.sig)
    })
    return { restored: false, approvals: r.approvals, quorum: r.quorum }
  }
  const q = new URLSearchParams({ author: me, parents: clears.join(',') })
  const pos = await getJson<Position>(`/v1/dag/next?${q.toString()}`)
  const entry = createEntry(
    {
      mesh: CID.parse(pos.mesh),
      seq: pos.seq,
      prev: pos.prev === null ? null : CID.parse(pos.prev),
      parents: pos.parents.map(p => CID.parse(p)),
      type: 'trust.restore',
      body: { subject, clears: sortCids(statement.clears), approvals: all },
      time: Date.now()
    },
    keys
  )
  const res = await postJson<{ results: Outcome[] }>('/v1/entries', { entry: toBase64(entry.bytes) }, [422])
  const outcome = res.results[0]
  if (outcome?.status === 'rejected')
    throw new ApiError(
      422,
      outcome.reason ?? 'rejected',
      `the node rejected the trust.restore: ${outcome.message ?? ''}`
    )
  return { restored: true, approvals: all.length, quorum, cid: entry.id }
}
