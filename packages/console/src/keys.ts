import { fromHex, peerIdFromPublicKey } from '@govmesh/core'

/** PeerId of a hex Ed25519 key as the API prints it; the key itself if it is not one. */
export function peerIdOfKey(hex: string): string {
  if (!/^[0-9a-f]{64}$/.test(hex)) return hex
  return peerIdFromPublicKey(fromHex(hex))
}
