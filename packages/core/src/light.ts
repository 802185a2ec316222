/**
 * The dependency-light part of the core: bytes, typed errors and PeerIds. It loads no Ed25519,
 * CBOR or Yjs code, so a client command that only talks to a node's API (`govmesh status`) starts
 * as fast as Node itself. Everything here is also exported by the package root.
 *
 * @example
 * ```ts
 * import { fromHex, peerIdFromPublicKey } from '@govmesh/core/light'
 * peerIdFromPublicKey(fromHex(member.key)) // 12D3KooW...
 * ```
 *
 * @packageDocumentation
 */
export * from './bytes.js'
export * from './errors.js'
export * from './peer-id.js'
