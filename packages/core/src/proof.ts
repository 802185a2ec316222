import type { CID } from 'multiformats/cid'
import { equalBytes, fromHex } from './bytes.js'
import { nobleCrypto, type CryptoProvider } from './crypto.js'
import { createDag } from './dag.js'
import { cidOfBytes, type SignedEntry } from './entry.js'
import { GovmeshError } from './errors.js'
import { peerIdFromPublicKey } from './identity.js'
import { deriveTrust } from './trust.js'
import type { ExecHopBody } from './exec.js'

/** One step of the proven lineage, oldest first. */
export interface ProofHop {
  cid: string
  type: string
  author: string
  authorPeerId: string
  /** The author's zone in the governance state of the entry's causal past. */
  zone: string | null
  time: number
  /** The author's trust status as of the entry's causal past. */
  trust: 'trusted' | 'quarantined' | 'unknown'
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
  /** The genesis the verifier trusts (from the genesis file). */
  genesis: SignedEntry<'mesh.genesis'>
  crypto?: CryptoProvider
}

const fail = (init: VerifyProofInit, reason: string, message: string, entries = 0): ProofVerdict =>
  ({ valid: false, reason, message, root: init.root.toString(), meshId: init.genesis.id, entries, hops: [] })

/**
 * Verifies a lineage proof offline, trusting nothing but the genesis: every block's
 * bytes hash to its CID; every entry decodes canonically and its signature verifies;
 * author chains, causal parents and writer authorization (judged in each entry's
 * causal past) hold, by replaying the blocks into a fresh DAG; the ancestry is
 * complete; and no execution hop was authored by a peer quarantined in its past.
 *
 * @example
 * ```ts
 * const verdict = verifyProof({ root, blocks, genesis })
 * if (!verdict.valid) console.error(verdict.reason, verdict.message)
 * ```
 */
export function verifyProof (init: VerifyProofInit): ProofVerdict {
  const crypto = init.crypto ?? nobleCrypto
  const byId = new Map<string, Uint8Array>()
  for (const b of init.blocks) {
    const claimed = b.cid.toString()
    const actual = cidOfBytes(b.bytes, crypto).toString()
    if (actual !== claimed) return fail(init, 'proof.cid-mismatch', `block ${claimed} does not hash to its CID (it hashes to ${actual})`)
    byId.set(claimed, b.bytes)
  }
  const genesisBytes = byId.get(init.genesis.id)
  if (genesisBytes === undefined || !equalBytes(genesisBytes, init.genesis.bytes)) {
    return fail(init, 'proof.genesis', `the proof does not hold the genesis ${init.genesis.id}`)
  }
  if (!byId.has(init.root.toString())) return fail(init, 'proof.missing-root', `the proof does not hold its root ${init.root.toString()}`)
  const dag = createDag({ genesis: init.genesis, crypto })
  for (const [id, bytes] of byId) {
    if (id === init.genesis.id) continue
    try {
      const r = dag.add(bytes)
      const bad = r.rejected[0]
      if (bad !== undefined) return fail(init, bad.error.code, `entry ${bad.id}: ${bad.error.message}`, dag.size)
    } catch (err) {
      const code = err instanceof GovmeshError ? err.code : 'proof.invalid'
      return fail(init, code, `entry ${id}: ${(err as Error).message}`, dag.size)
    }
  }
  const stuck = dag.pending()
  if (stuck.length > 0) {
    return fail(init, 'proof.incomplete', `entry ${stuck[0]!.id} references ${stuck[0]!.missing[0]!}, which the proof does not hold`, dag.size)
  }
  const root = init.root.toString()
  if (!dag.has(root)) return fail(init, 'proof.missing-root', `root ${root} was not accepted`, dag.size)

  // The execution chain: from the root back along exec entries of the same request.
  const chain: string[] = []
  const rootEntry = dag.getEntry(root)!
  const requestId = rootEntry.entry.type === 'exec.request'
    ? root
    : rootEntry.entry.type.startsWith('exec.') ? (rootEntry.entry.body as ExecHopBody).request.toString() : undefined
  if (requestId !== undefined) {
    for (const id of dag.ancestry(root)) {
      const e = dag.getEntry(id)!
      if (id === requestId || (e.entry.type.startsWith('exec.') && e.entry.type !== 'exec.request' && (e.entry.body as ExecHopBody).request.toString() === requestId)) chain.push(id)
    }
  } else {
    chain.push(root)
  }
  const hops: ProofHop[] = chain
    .map(id => dag.meta(id)!)
    .sort((a, b) => a.index - b.index)
    .map(m => {
      const past = new Set(dag.ancestry(m.id))
      const fails = dag.entriesOfType('trust.fail').filter(f => past.has(f.id) && f.id !== m.id)
      const restores = dag.entriesOfType('trust.restore').filter(r => past.has(r.id))
      const governance = dag.governanceAt(m.id)
      const view = deriveTrust({ fails, restores, failQuorum: governance.quorums.fail, isRevoked: (x) => dag.isRevoked(x) })
      const member = governance.members.get(m.author)
      return {
        cid: m.id,
        type: m.type,
        author: m.author,
        authorPeerId: peerIdFromPublicKey(fromHex(m.author)),
        zone: member?.zone ?? null,
        time: m.time,
        trust: view.quarantined.has(m.author) ? 'quarantined' as const : member === undefined ? 'unknown' as const : 'trusted' as const
      }
    })
  const untrusted = hops.find(h => h.trust !== 'trusted' && h.type !== 'exec.refuse')
  if (untrusted !== undefined) {
    return { valid: false, reason: 'proof.untrusted-hop', message: `${untrusted.type} ${untrusted.cid} was authored by ${untrusted.authorPeerId}, ${untrusted.trust} in its causal past`, root, meshId: init.genesis.id, entries: dag.size, hops }
  }
  return { valid: true, root, meshId: init.genesis.id, entries: dag.size, hops }
}
