import { fromHex, peerIdFromPublicKey } from '@govmesh/core/light'
import type { ApiClient } from './client.js'

/** Member names by PeerId, as the node's governance state knows them (genesis `--member …=ZONE:NAME`). */
export type Names = ReadonlyMap<string, string>

/** Fetches the names of the mesh's members; an older node without names gives an empty map. */
export async function memberNames (client: ApiClient): Promise<Names> {
  const gov = await client.get<{ members: Array<{ key: string, name?: string }> }>('/v1/governance')
  return new Map(gov.members.filter(m => m.name !== undefined).map(m => [peerIdFromPublicKey(fromHex(m.key)), m.name!]))
}

/** The short form of a PeerId: its last 8 characters (its first ones are the same for every Ed25519 key). */
export function shortPeerId (peerId: string): string {
  return `…${peerId.slice(-8)}`
}

/**
 * How a peer is shown in tables: `name (…short)` for a named member (`name (full PeerId)` when
 * `wide`), the full PeerId for others (what commands take).
 */
export function peerLabel (peerId: string, names: Names, wide: boolean): string {
  const name = names.get(peerId)
  if (name === undefined) return peerId
  return `${name} (${wide ? peerId : shortPeerId(peerId)})`
}
