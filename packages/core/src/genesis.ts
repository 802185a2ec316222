import { compareBytes } from './bytes.js'
import { nobleCrypto, type CryptoProvider } from './crypto.js'
import { createEntry, type SignedEntry } from './entry.js'
import { InvalidArgumentError } from './errors.js'
import type { KeyPair } from './identity.js'

export interface GenesisInit {
  name?: string
  /** Founding governors' public keys; the signer must be one of them. */
  governors: Uint8Array[]
  members: Array<{ key: Uint8Array, zone: string }>
  quorums?: { fail?: number, restore?: number }
  /** Initial policy as a Yjs update (empty: no policy yet). */
  policy?: Uint8Array
  time?: number
}

/**
 * Creates the signed genesis entry of a new mesh. Its CID is the mesh id.
 *
 * @example
 * ```ts
 * const genesis = createGenesis({ governors: [gov.publicKey], members: [{ key: node.publicKey, zone: 'a' }] }, gov)
 * console.log('mesh id', genesis.id)
 * ```
 */
export function createGenesis (init: GenesisInit, signer: KeyPair, crypto: CryptoProvider = nobleCrypto): SignedEntry<'mesh.genesis'> {
  const governors = [...init.governors].sort(compareBytes)
  if (!governors.some(g => compareBytes(g, signer.publicKey) === 0)) {
    throw new InvalidArgumentError('genesis: the signer must be one of the governors')
  }
  const members = [...init.members].sort((a, b) => compareBytes(a.key, b.key))
  return createEntry({
    mesh: null,
    seq: 1,
    prev: null,
    parents: [],
    type: 'mesh.genesis',
    body: {
      name: init.name ?? 'govmesh',
      governors,
      members,
      quorums: { fail: init.quorums?.fail ?? 1, restore: init.quorums?.restore ?? 1 },
      policy: init.policy ?? new Uint8Array()
    },
    time: init.time ?? Date.now()
  }, signer, crypto)
}
