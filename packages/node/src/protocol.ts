import * as dagCbor from '@ipld/dag-cbor'
import { SyncProtocolError } from './errors.js'

/** Versioned stream protocol ids (see docs/PROTOCOL.md). */
export const SYNC_PROTOCOL = '/govmesh/sync/1.0.0'
export const EXEC_PROTOCOL = '/govmesh/exec/1.0.0'

/** Gossip topic of new entries of a mesh. */
export const entriesTopic = (meshId: string): string => `govmesh/1/${meshId}/entries`
/** Gossip topic of attestation heartbeats of a mesh. */
export const heartbeatsTopic = (meshId: string): string => `govmesh/1/${meshId}/heartbeats`

/** Sync message types. */
export const SYNC_FRONTIER = 'frontier'
export const SYNC_ENTRIES = 'entries'
export const SYNC_DONE = 'done'

export type SyncMessage =
  | { t: typeof SYNC_FRONTIER, mesh: string, frontier: Record<string, number> }
  | { t: typeof SYNC_ENTRIES, entries: Uint8Array[] }
  | { t: typeof SYNC_DONE, sent: number }

/** Largest sync frame; a batch holds at most this many bytes of entries (an entry is at most 256 KiB). */
export const SYNC_MAX_FRAME_BYTES = 2 * 1024 * 1024
export const SYNC_BATCH_BYTES = 512 * 1024
export const SYNC_BATCH_ENTRIES = 500

export { SyncProtocolError }

export function encodeSyncMessage (m: SyncMessage): Uint8Array {
  return dagCbor.encode(m)
}

/** Decodes a sync frame, checking its shape strictly; hostile frames throw SyncProtocolError. */
export function decodeSyncMessage (bytes: Uint8Array): SyncMessage {
  let m: unknown
  try {
    m = dagCbor.decode(bytes)
  } catch (err) {
    throw new SyncProtocolError(`frame is not dag-cbor: ${(err as Error).message}`)
  }
  if (m === null || typeof m !== 'object') throw new SyncProtocolError('frame is not a map')
  const msg = m as Record<string, unknown>
  switch (msg.t) {
    case SYNC_FRONTIER: {
      const f = msg.frontier
      if (
        typeof msg.mesh !== 'string' || f === null || typeof f !== 'object' || Array.isArray(f)
      ) throw new SyncProtocolError('frontier: expected { mesh, frontier }')
      const entries = Object.entries(f as Record<string, unknown>)
      if (entries.length > 100_000) throw new SyncProtocolError('frontier: too many authors')
      for (const [k, v] of entries) {
        if (
          !/^[0-9a-f]{64}$/.test(k) || typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0
        ) throw new SyncProtocolError('frontier: expected hex author → seq')
      }
      return msg as SyncMessage
    }
    case SYNC_ENTRIES:
      if (
        !Array.isArray(msg.entries) || !msg.entries.every(e => e instanceof Uint8Array)
      ) throw new SyncProtocolError('entries: expected an array of bytes')
      return msg as SyncMessage
    case SYNC_DONE:
      if (typeof msg.sent !== 'number') throw new SyncProtocolError('done: expected { sent }')
      return msg as SyncMessage
    default:
      throw new SyncProtocolError(`unknown message type ${JSON.stringify(msg.t)}`)
  }
}
