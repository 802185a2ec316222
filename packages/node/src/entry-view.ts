import { BoundedMap, CID, peerIdFromPublicKey, toHex, type Dag, type SignedEntry } from '@govmesh/core'

/** JSON rendering of decoded values: CIDs as strings, bytes as lower-case hex. */
export function toJsonValue (v: unknown): unknown {
  if (v instanceof Uint8Array) return toHex(v)
  const cid = CID.asCID(v)
  if (cid !== null) return cid.toString()
  if (Array.isArray(v)) return v.map(toJsonValue)
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJsonValue(x)]))
  }
  return v
}

export interface EntryView {
  cid: string
  type: string
  author: string
  authorPeerId: string
  seq: number
  prev: string | null
  parents: string[]
  time: number
  /** Every body is a map (docs/PROTOCOL.md §7), made JSON. */
  body: Record<string, unknown>
  sig: string
  /** Protocol version 2 only: the batch this sealed entry belongs to (`sig` is then the batch signature). */
  seal?: { root: string, count: number, index: number, path: string[] }
  /** Every stored entry's signature was verified before it was stored. */
  signature: 'valid'
  /** Past its author's removal or equivocation cut: kept as history, counts for nothing. */
  revoked: boolean
}

/** The JSON view of a stored entry, or undefined if unknown. */
export function entryView (dag: Dag, id: string): EntryView | undefined {
  const signed = dag.getEntry(id)
  return signed === undefined ? undefined : viewOfEntry(signed, dag.isRevoked(signed.id))
}

/** {@link Dag.isRevoked} of a decoded entry, without reading its metadata record. */
export function isRevokedEntry (dag: Dag, signed: SignedEntry): boolean {
  const cut = dag.cuts().get(toHex(signed.entry.author))
  return cut !== undefined && signed.entry.seq > cut
}

/** Peer ids of recent authors: encoding one (base58) cost more than decoding the entry. */
const peerIds = new BoundedMap<string, string>(1024)

function peerIdOf (author: Uint8Array, hex: string): string {
  let peerId = peerIds.get(hex)
  if (peerId === undefined) peerIds.set(hex, peerId = peerIdFromPublicKey(author))
  return peerId
}

/** The JSON view of a decoded stored entry; `revoked` as {@link Dag.isRevoked} says. */
export function viewOfEntry (signed: SignedEntry, revoked: boolean): EntryView {
  const e = signed.entry
  const author = toHex(e.author)
  return {
    cid: signed.id,
    type: e.type,
    author,
    authorPeerId: peerIdOf(e.author, author),
    seq: e.seq,
    prev: e.prev?.toString() ?? null,
    parents: e.parents.map(p => p.toString()),
    time: e.time,
    body: toJsonValue(e.body) as Record<string, unknown>,
    sig: toHex(e.sig),
    ...(e.seal !== undefined
      ? { seal: { root: toHex(e.seal.root), count: e.seal.count, index: e.seal.index, path: e.seal.path.map(toHex) } }
      : {}),
    signature: 'valid',
    revoked
  }
}
