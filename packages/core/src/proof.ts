import type { CID } from 'multiformats/cid'
import { fromHex } from './bytes.js'
import { nobleCrypto, type CryptoProvider } from './crypto.js'
import { createDag, type Dag } from './dag.js'
import { cidOfBytes, decodeEntry, type SignedEntry } from './entry.js'
import { GovmeshError } from './errors.js'
import { peerIdFromPublicKey } from './peer-id.js'
import { deriveTrust } from './trust.js'
import type { ExecHopBody } from './exec.js'
import { GOVERNANCE_TYPES, type EntryType } from './bodies.js'

/** One step of the proven lineage, oldest first. */
export interface ProofHop {
  cid: string
  type: string
  author: string
  authorPeerId: string
  /** The author's zone in the governance state of the entry's causal past. */
  zone: string | null
  time: number
  /**
   * The author's standing as of the entry's causal past: a member's trust status,
   * `governor` for a governance entry by a governor, `revoked` past a cut.
   */
  trust: 'trusted' | 'quarantined' | 'unknown' | 'governor' | 'revoked'
}

export interface ProofVerdict {
  valid: boolean
  /** Stable reason code when invalid (an entry error code, or `proof.*`). */
  reason?: string
  message?: string
  root: string
  meshId: string
  entries: number
  hops: ProofHop[]
}

export interface VerifyProofInit {
  root: CID
  /** The CAR's blocks as stored: the CID it claims and the bytes. */
  blocks: Array<{ cid: CID, bytes: Uint8Array }>
  /** The genesis the verifier trusts (from the genesis file); the CAR need not hold it. */
  genesis: SignedEntry<'mesh.genesis'>
  /** When set, the proof must be of exactly this entry. */
  expect?: CID
  crypto?: CryptoProvider
}

/** Entry types that carry an execution across the mesh; their authors must be trusted. */
export const EXECUTION_HOP_TYPES: ReadonlySet<EntryType> = new Set(['exec.request', 'exec.hop', 'exec.result'])

/**
 * Verifies a lineage proof offline, trusting nothing but the genesis, with a verdict
 * that does not depend on the order of the blocks (docs/PROTOCOL.md §23): every
 * block hashes to its CID and decodes and verifies as an entry; the blocks hold the
 * root's whole ancestry (the genesis may come from the file alone); replayed in a
 * canonical causal order with cuts judged over the whole set, every block passes the
 * stage-2 rules (extra blocks, such as the removal that revokes an entry, count too); the root is not revoked; and
 * every execution hop of the root's
 * execution was authored by a member trusted in its causal past.
 *
 * @example
 * ```ts
 * const verdict = verifyProof({ root, blocks, genesis })
 * if (!verdict.valid) console.error(verdict.reason, verdict.message)
 * ```
 */
export function verifyProof (init: VerifyProofInit): ProofVerdict {
  const crypto = init.crypto ?? nobleCrypto
  const root = init.root.toString()
  const verdict = (
    valid: boolean, entries: number, hops: ProofHop[], reason?: string, message?: string
  ): ProofVerdict =>
    ({ valid, ...(reason !== undefined ? { reason, message } : {}), root, meshId: init.genesis.id, entries, hops })
  const fail = (
    reason: string, message: string, entries = 0
  ): ProofVerdict => verdict(false, entries, [], reason, message)

  if (init.expect !== undefined && !init.expect.equals(init.root)) {
    return fail('proof.unexpected-root', `the proof is of ${root}, not of the expected ${init.expect.toString()}`)
  }
  const decoded = decodeBlocks(init, crypto)
  if ('reason' in decoded) return fail(decoded.reason, decoded.message)
  const entries = decoded.entries
  if (!entries.has(root) && root !== init.genesis.id) return fail(
    'proof.missing-root', `the proof does not hold its root ${root}`
  )

  const order = causalOrder(entries, init.genesis.id)
  if (!Array.isArray(order)) return fail(order.reason, order.message)
  const dag = createDag({ genesis: init.genesis, crypto, deferCuts: true })
  for (const id of order) {
    try {
      const r = dag.add(entries.get(id)!, { verified: true })
      if (r.status !== 'accepted' && r.status !== 'duplicate') {
        return fail('proof.incomplete', `entry ${id} waits for ${r.missing[0] ?? '?'}`, dag.size)
      }
    } catch (err) {
      const code = err instanceof GovmeshError ? err.code : 'proof.invalid'
      return fail(code, `entry ${id}: ${(err as Error).message}`, dag.size)
    }
  }
  if (dag.isRevoked(root)) {
    return fail('entry.cut-exceeded', `root ${root} is past its author's removal or equivocation cut`, dag.size)
  }

  const hops = executionChain(dag, root).map(id => hopOf(dag, id))
  const bad = hops.find(h => EXECUTION_HOP_TYPES.has(h.type as EntryType) && h.trust !== 'trusted')
  if (bad !== undefined) {
    const reason = bad.trust === 'revoked' ? 'entry.cut-exceeded' : 'proof.untrusted-hop'
    return verdict(false, dag.size, hops, reason,
      `${bad.type} ${bad.cid} was authored by ${bad.authorPeerId}, ${bad.trust} in its causal past`)
  }
  return verdict(true, dag.size, hops)
}

type Failure = { reason: string, message: string }

/** Hash and stage-1 checks of every block, in CID order so the first failure named is always the same. */
function decodeBlocks (init: VerifyProofInit, crypto: CryptoProvider): { entries: Map<string, SignedEntry> } | Failure {
  const sorted = [...init.blocks].sort((a, b) => compare(a.cid.toString(), b.cid.toString()))
  const entries = new Map<string, SignedEntry>()
  for (const b of sorted) {
    const claimed = b.cid.toString()
    const actual = cidOfBytes(b.bytes, crypto).toString()
    if (actual !== claimed) {
      return {
        reason: 'proof.cid-mismatch', message: `block ${claimed} does not hash to its CID (it hashes to ${actual})`
      }
    }
    if (entries.has(claimed) || claimed === init.genesis.id) continue
    try {
      entries.set(claimed, decodeEntry(b.bytes, { crypto }))
    } catch (err) {
      const code = err instanceof GovmeshError ? err.code : 'proof.invalid'
      return { reason: code, message: `entry ${claimed}: ${(err as Error).message}` }
    }
    if (entries.get(claimed)!.entry.type === 'mesh.genesis') {
      return { reason: 'proof.genesis', message: `block ${claimed} is a genesis other than ${init.genesis.id}` }
    }
  }
  return { entries }
}

/**
 * Every block in a canonical causal order (dependencies first, then by CID string),
 * so the replay never depends on the CAR's order and never needs the pending area.
 */
function causalOrder (entries: Map<string, SignedEntry>, genesisId: string): string[] | Failure {
  const deps = (id: string): string[] => {
    const e = entries.get(id)!.entry
    return (e.prev === null ? e.parents : [e.prev, ...e.parents]).map(c => c.toString()).sort(compare)
  }
  const order: string[] = []
  const done = new Set<string>([genesisId])
  const visiting = new Set<string>()
  for (const start of [...entries.keys()].sort(compare)) {
    if (done.has(start)) continue
    const stack: Array<{ id: string, next: number, deps: string[] }> = [{ id: start, next: 0, deps: deps(start) }]
    visiting.add(start)
    while (stack.length > 0) {
      const top = stack.at(-1)!
      if (top.next < top.deps.length) {
        const dep = top.deps[top.next++]!
        if (done.has(dep) || visiting.has(dep)) continue
        if (!entries.has(dep)) {
          return {
            reason: 'proof.incomplete', message: `entry ${top.id} references ${dep}, which the proof does not hold`
          }
        }
        visiting.add(dep)
        stack.push({ id: dep, next: 0, deps: deps(dep) })
      } else {
        stack.pop()
        done.add(top.id)
        order.push(top.id)
      }
    }
  }
  return order
}

/** The root's execution: its request and every exec entry of that request in the root's past; else the root alone. */
function executionChain (dag: Dag, root: string): string[] {
  const rootEntry = dag.getEntry(root)!
  const type = rootEntry.entry.type
  const requestId = type === 'exec.request'
    ? root
    : type.startsWith('exec.') ? (rootEntry.entry.body as ExecHopBody).request.toString() : undefined
  if (requestId === undefined) return [root]
  const chain = dag.ancestry(root).filter(id => {
    if (id === requestId) return true
    const m = dag.meta(id)!
    if (!m.type.startsWith('exec.') || m.type === 'exec.request') return false
    return (dag.getEntry(id)!.entry.body as ExecHopBody).request.toString() === requestId
  })
  return chain.sort((a, b) => dag.meta(a)!.index - dag.meta(b)!.index)
}

function hopOf (dag: Dag, id: string): ProofHop {
  const m = dag.meta(id)!
  const governance = dag.governanceAt(id)
  const member = governance.members.get(m.author)
  return {
    cid: m.id,
    type: m.type,
    author: m.author,
    authorPeerId: peerIdFromPublicKey(fromHex(m.author)),
    zone: member?.zone ?? null,
    time: m.time,
    trust: standing(dag, id, m.author, m.type, member !== undefined, governance.governors.has(m.author))
  }
}

function standing (
  dag: Dag, id: string, author: string, type: EntryType, member: boolean, governor: boolean
): ProofHop['trust'] {
  if (dag.isRevoked(id)) return 'revoked'
  if (GOVERNANCE_TYPES.has(type) && governor) return 'governor'
  if (!member) return 'unknown'
  const past = new Set(dag.ancestry(id))
  const fails = dag.entriesOfType('trust.fail').filter(f => past.has(f.id) && f.id !== id)
  const restores = dag.entriesOfType('trust.restore').filter(r => past.has(r.id))
  const view = deriveTrust({
    fails, restores, failQuorum: dag.governanceAt(id).quorums.fail, isRevoked: (x) => dag.isRevoked(x)
  })
  return view.quarantined.has(author) ? 'quarantined' : 'trusted'
}

function compare (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
