import { BoundedMap, fromHex, peerIdFromPublicKey, publicKeyFromPeerId, toHex } from '@govmesh/core'

/** PeerIds decoded so far: every gossip message and connection asks, and base58 decoding is not free. */
const KEYS_OF_PEERS = new BoundedMap<string, string | null>(4096)

/** Hex Ed25519 key of a PeerId string, or undefined for any other key type or a malformed id. */
export function keyOfPeer (peerId: string): string | undefined {
  const known = KEYS_OF_PEERS.get(peerId)
  if (known !== undefined) return known ?? undefined
  let key: string | null
  try {
    key = toHex(publicKeyFromPeerId(peerId))
  } catch {
    key = null
  }
  KEYS_OF_PEERS.set(peerId, key)
  return key ?? undefined
}

const PEERS_OF_KEYS = new BoundedMap<string, string>(4096)

/** PeerId string of a hex Ed25519 key (base58 encoding is not free; heartbeats and trust views ask often). */
export function peerIdOfKey (key: string): string {
  let peerId = PEERS_OF_KEYS.get(key)
  if (peerId === undefined) {
    peerId = peerIdFromPublicKey(fromHex(key))
    PEERS_OF_KEYS.set(key, peerId)
  }
  return peerId
}

/** What a node knows of one peer from its heartbeats. */
export interface PeerRecord {
  peerId: string
  key: string
  lastSeen: number | null
  /** The heartbeat's own timestamp (author clock), to ignore replays of older ones. */
  lastSeenTime?: number
  measurement: string | null
  policyDigest: string | null
  entries: number
  headsHash: string | null
  addrs: string[]
  /** Local time since which the peer's digest differs from ours. */
  driftSince: number | null
}

/**
 * What this node heard from each peer's heartbeats, by hex key: written by the heartbeat service,
 * read by trust (staleness, drift), exec (addresses) and the API.
 */
export class PeerDirectory {
  private readonly records = new Map<string, PeerRecord>()

  get (key: string): PeerRecord | undefined { return this.records.get(key) }
  set (record: PeerRecord): void { this.records.set(record.key, record) }
  keys (): IterableIterator<string> { return this.records.keys() }
  values (): IterableIterator<PeerRecord> { return this.records.values() }
  /** Listen addresses a peer advertised, by PeerId (empty when unknown). */
  addrsOf (peerId: string): string[] {
    const key = keyOfPeer(peerId)
    return key === undefined ? [] : this.records.get(key)?.addrs ?? []
  }
}
