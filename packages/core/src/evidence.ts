import type { CID } from 'multiformats/cid'
import { compareBytes, equalBytes, toHex } from './bytes.js'
import { nobleCrypto, type CryptoProvider } from './crypto.js'
import { decodeEntry } from './entry.js'
import { GovmeshError, InvalidEvidenceError } from './errors.js'

/** Proof that one author signed two different entries at the same seq: both entries' bytes. */
export interface EquivocationEvidence {
  a: Uint8Array
  b: Uint8Array
}

/** What verified evidence proves. */
export interface EquivocationProof {
  /** Hex public key of the equivocating author. */
  author: string
  seq: number
  mesh: CID | null
  cids: [string, string]
}

/** Builds evidence in a canonical order (smaller bytes first) so every node produces the same map. */
export function equivocationEvidence (x: Uint8Array, y: Uint8Array): EquivocationEvidence {
  return compareBytes(x, y) <= 0 ? { a: x, b: y } : { a: y, b: x }
}

/**
 * Verifies equivocation evidence with nothing but the two entries: both must decode
 * canonically, carry valid signatures by the same author, name the same mesh and seq,
 * and differ. Throws InvalidEvidenceError naming the first check that fails.
 *
 * @example
 * ```ts
 * const proof = verifyEquivocationEvidence(evidence)
 * console.log(proof.author, proof.seq)
 * ```
 */
export function verifyEquivocationEvidence (
  ev: EquivocationEvidence, crypto: CryptoProvider = nobleCrypto
): EquivocationProof {
  if (ev === null || typeof ev !== 'object' || !(ev.a instanceof Uint8Array) || !(ev.b instanceof Uint8Array)) {
    throw new InvalidEvidenceError('evidence: expected { a: bytes, b: bytes }')
  }
  const decode = (bytes: Uint8Array, label: string): ReturnType<typeof decodeEntry> => {
    try {
      return decodeEntry(bytes, { crypto })
    } catch (err) {
      throw new InvalidEvidenceError(
        `evidence.${label}: ${err instanceof GovmeshError ? err.code : 'invalid'}: ${(err as Error).message}`
      )
    }
  }
  const a = decode(ev.a, 'a')
  const b = decode(ev.b, 'b')
  if (a.cid.equals(b.cid)) throw new InvalidEvidenceError('evidence: both entries are the same entry')
  if (
    !equalBytes(a.entry.author, b.entry.author)
  ) throw new InvalidEvidenceError('evidence: entries have different authors')
  if (a.entry.seq !== b.entry.seq) throw new InvalidEvidenceError('evidence: entries have different seq')
  const meshA = a.entry.mesh?.toString() ?? null
  if (meshA !== (b.entry.mesh?.toString() ?? null)) throw new InvalidEvidenceError(
    'evidence: entries belong to different meshes'
  )
  return { author: toHex(a.entry.author), seq: a.entry.seq, mesh: a.entry.mesh, cids: [a.id, b.id] }
}
