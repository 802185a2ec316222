import * as dagCbor from '@ipld/dag-cbor'
import type { CID } from 'multiformats/cid'
import { concatBytes, utf8 } from './bytes.js'
import { nobleCrypto, type CryptoProvider } from './crypto.js'
import type { RestoreApproval } from './bodies.js'
import { sortCids } from './entry.js'

/** Domain tag of a governor's approval of a `trust.restore`. */
export const RESTORE_APPROVAL_DOMAIN = utf8('govmesh/restore/v1\0')

/** What a governor approves: lifting exactly these failures about this subject in this mesh. */
export interface RestoreStatement {
  mesh: CID
  subject: Uint8Array
  clears: CID[]
}

/** The bytes a restore approval signature covers. */
export function restoreApprovalBytes (s: RestoreStatement): Uint8Array {
  return concatBytes(
    RESTORE_APPROVAL_DOMAIN, dagCbor.encode({ mesh: s.mesh, subject: s.subject, clears: sortCids(s.clears) })
  )
}

/**
 * A governor signs its approval to lift the named failures. Approvals are collected
 * (by any node or by hand) until the restore quorum is reached, then carried in one
 * `trust.restore` entry.
 *
 * @example
 * ```ts
 * const approval = approveRestore({ mesh, subject, clears: [failCid] }, governorKeys)
 * ```
 */
export function approveRestore (
  s: RestoreStatement, keys: { secretKey: Uint8Array, publicKey: Uint8Array }, crypto: CryptoProvider = nobleCrypto
): RestoreApproval {
  return { governor: keys.publicKey, sig: crypto.sign(restoreApprovalBytes(s), keys.secretKey) }
}

export function verifyRestoreApproval (
  s: RestoreStatement, approval: RestoreApproval, crypto: CryptoProvider = nobleCrypto
): boolean {
  return crypto.verify(approval.sig, restoreApprovalBytes(s), approval.governor)
}
