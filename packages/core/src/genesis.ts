import { compareBytes, fromBase64, toBase64 } from './bytes.js'
import { nobleCrypto, type CryptoProvider } from './crypto.js'
import { createEntry, decodeEntry, type SignedEntry } from './entry.js'
import { GenesisError, InvalidArgumentError } from './errors.js'
import type { KeyPair } from './identity.js'
import { peerIdFromPublicKey } from './peer-id.js'

export interface GenesisInit {
  name?: string
  /** Founding governors' public keys; the signer must be one of them. */
  governors: Uint8Array[]
  /** Founding members; a `name` labels the member wherever its PeerId is shown. */
  members: Array<{ key: Uint8Array, zone: string, name?: string }>
  /** `policy`: approvals a `policy.update` or `governor.*` entry needs; left out of the entry when absent (1). */
  quorums?: { fail?: number, restore?: number, policy?: number }
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
export function createGenesis (
  init: GenesisInit, signer: KeyPair, crypto: CryptoProvider = nobleCrypto
): SignedEntry<'mesh.genesis'> {
  const governors = [...init.governors].sort(compareBytes)
  if (!governors.some(g => compareBytes(g, signer.publicKey) === 0)) {
    throw new InvalidArgumentError('genesis: the signer must be one of the governors')
  }
  // An absent name is left out of the map, so unnamed members encode exactly as before.
  const members = [...init.members].sort((a, b) => compareBytes(a.key, b.key))
    .map(m => m.name !== undefined ? { key: m.key, zone: m.zone, name: m.name } : { key: m.key, zone: m.zone })
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
      quorums: {
        fail: init.quorums?.fail ?? 1,
        restore: init.quorums?.restore ?? 1,
        ...(init.quorums?.policy !== undefined ? { policy: init.quorums.policy } : {})
      },
      policy: init.policy ?? new Uint8Array()
    },
    time: init.time ?? Date.now()
  }, signer, crypto)
}

/** The genesis file distributed out of band, like a chain spec. */
export interface GenesisFile {
  version: 1
  meshId: string
  /** Base64 of the genesis entry's canonical bytes: the only field a node trusts. */
  entry: string
  /** Human-readable summary (informational; the entry is authoritative). */
  name: string
  governors: string[]
  members: Array<{ peerId: string, zone: string, name?: string }>
  quorums: { fail: number, restore: number, policy?: number }
}

/**
 * Serializes a genesis entry as the JSON genesis file.
 *
 * @example
 * ```ts
 * writeFileSync('genesis.json', JSON.stringify(encodeGenesisFile(genesis), null, 2))
 * ```
 */
export function encodeGenesisFile (genesis: SignedEntry<'mesh.genesis'>): GenesisFile {
  const body = genesis.entry.body
  return {
    version: 1,
    meshId: genesis.id,
    entry: toBase64(genesis.bytes),
    name: body.name,
    governors: body.governors.map(peerIdFromPublicKey),
    members: body.members.map(
      m => ({ peerId: peerIdFromPublicKey(m.key), zone: m.zone, ...(m.name !== undefined ? { name: m.name } : {}) })
    ),
    quorums: body.quorums
  }
}

/** Parses a genesis file and checks the entry decodes, verifies and hashes to `meshId`. */
export function decodeGenesisFile (text: string, crypto: CryptoProvider = nobleCrypto): SignedEntry<'mesh.genesis'> {
  let json: Partial<GenesisFile>
  try {
    json = JSON.parse(text) as Partial<GenesisFile>
  } catch {
    throw new GenesisError('genesis file: not JSON')
  }
  if (
    json === null || typeof json !== 'object' || json.version !== 1 || typeof json.entry !== 'string' ||
      typeof json.meshId !== 'string'
  ) {
    throw new GenesisError('genesis file: expected { version: 1, meshId, entry }')
  }
  let bytes: Uint8Array
  try {
    bytes = fromBase64(json.entry)
  } catch {
    throw new GenesisError('genesis file: entry is not base64')
  }
  const signed = decodeEntry(bytes, { crypto })
  if (signed.entry.type !== 'mesh.genesis') throw new GenesisError(`genesis file: entry type is ${signed.entry.type}`)
  if (signed.id !== json.meshId) throw new GenesisError(
    `genesis file: entry CID ${signed.id} does not match meshId ${json.meshId}`
  )
  return signed as SignedEntry<'mesh.genesis'>
}
