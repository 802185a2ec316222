import { publicKeyFromPeerId, toHex } from '@govmesh/core'

/** Hex Ed25519 key of a PeerId string, or undefined for any other key type or a malformed id. */
export function keyOfPeer (peerId: string): string | undefined {
  try {
    return toHex(publicKeyFromPeerId(peerId))
  } catch {
    return undefined
  }
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
