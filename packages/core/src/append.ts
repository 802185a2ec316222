import { CID } from 'multiformats/cid'
import { toHex } from './bytes.js'
import { nobleCrypto, type CryptoProvider } from './crypto.js'
import type { EntryBody, EntryType } from './bodies.js'
import { createEntry, type EntryInit, type SignedEntry } from './entry.js'
import { MAX_PARENTS } from './limits.js'
import type { Dag } from './dag.js'
import type { KeyPair } from './identity.js'

export interface NextEntryInit<T extends EntryType> {
  type: T
  body: EntryBody<T>
  time?: number
  /** Extra parents the entry must cite (e.g. the failures a restore clears). */
  parents?: CID[]
}

/**
 * Builds (but does not add) the author's next entry on top of what `dag` knows:
 * seq and prev continue the author's chain; parents are the newest governance
 * entries plus the current heads of other authors, so the entry is judged against
 * the newest governance state and links every concurrent branch.
 *
 * @example
 * ```ts
 * const next = nextEntry(dag, nodeKeys, {
 *   type: 'trust.fail', body: { subject, reason, detector: 'manual', evidence: null }
 * })
 * dag.add(next)
 * ```
 */
export function nextEntry<T extends EntryType> (
  dag: Dag, keys: KeyPair, init: NextEntryInit<T>, crypto: CryptoProvider = nobleCrypto
): SignedEntry<T> {
  const position = nextPosition(dag, toHex(keys.publicKey), init.parents)
  const entryInit: EntryInit<T> = {
    mesh: position.mesh, seq: position.seq, prev: position.prev, parents: position.parents,
    type: init.type, body: init.body, time: init.time ?? Date.now()
  }
  return createEntry(entryInit, keys, crypto)
}

/** Where an author's next entry goes: mesh, seq, prev and parents (see {@link nextEntry}). */
export interface NextPosition {
  mesh: CID
  seq: number
  prev: CID | null
  parents: CID[]
}

/**
 * Computes seq, prev and parents for an author's next entry without signing it, so a
 * client holding the key elsewhere (the CLI with a governor key) can sign it.
 */
export function nextPosition (dag: Dag, author: string, extraParents: CID[] = []): NextPosition {
  const latest = dag.latest(author)
  const own = (id: string): boolean => dag.meta(id)?.author === author
  const parentIds = new Set<string>()
  // The author's own entries are already ancestors of its latest one (through prev).
  for (const p of extraParents) if (!own(p.toString())) parentIds.add(p.toString())
  for (const g of dag.governanceHeads()) {
    if (parentIds.size >= MAX_PARENTS) break
    if (!own(g)) parentIds.add(g)
  }
  for (const h of dag.heads()) {
    if (parentIds.size >= MAX_PARENTS) break
    if (!own(h)) parentIds.add(h)
  }
  if (latest !== undefined) parentIds.delete(latest.id)
  return {
    mesh: dag.meshId,
    seq: (latest?.seq ?? 0) + 1,
    prev: latest?.cid ?? null,
    parents: [...parentIds].map(id => dag.meta(id)?.cid ?? CID.parse(id))
  }
}
