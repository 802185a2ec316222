/**
 * The latest-heartbeats exchange (docs/PROTOCOL.md §19.4): a member that just joined asks its first
 * member peer for the heartbeats it recorded recently, so it knows who is alive at once instead
 * of a keep-alive later, without anyone broadcasting for it.
 *
 * @packageDocumentation
 */
import * as dagCbor from '@ipld/dag-cbor'
import { MAX_HEARTBEAT_BYTES } from '@govmesh/core'
import { HeartbeatsProtocolError } from './errors.js'

export const HEARTBEATS_PROTOCOL = '/govmesh/heartbeats/1.0.0'

/** Message type of the one frame the responder writes. */
export const HEARTBEATS_LATEST = 'latest'

/** At most this many heartbeats in one answer (one per member). */
export const LATEST_HEARTBEATS_MAX = 4096
/** The answer's frame limit: a member's heartbeats are small (about 500 bytes). */
export const LATEST_HEARTBEATS_MAX_FRAME_BYTES = 2 * 1024 * 1024

/** One relayed heartbeat: its bytes as received, and how long ago (ms) the responder recorded it. */
export interface RelayedHeartbeat { hb: Uint8Array, age: number }

export interface LatestHeartbeatsMessage {
  t: typeof HEARTBEATS_LATEST
  mesh: string
  heartbeats: RelayedHeartbeat[]
}

/**
 * Encodes the answer, leaving out what would not fit the frame limit.
 *
 * @example
 * ```ts
 * await framed.write(encodeLatestHeartbeats(meshId, [{ hb: bytes, age: 1200 }]))
 * ```
 */
export function encodeLatestHeartbeats (mesh: string, heartbeats: RelayedHeartbeat[]): Uint8Array {
  let budget = LATEST_HEARTBEATS_MAX_FRAME_BYTES - 1024
  const fitting: RelayedHeartbeat[] = []
  for (const r of heartbeats.slice(0, LATEST_HEARTBEATS_MAX)) {
    budget -= r.hb.length + 32
    if (budget < 0) break
    fitting.push({ hb: r.hb, age: r.age })
  }
  return dagCbor.encode({ t: HEARTBEATS_LATEST, mesh, heartbeats: fitting })
}

/**
 * Decodes an answer, checking its shape strictly; a hostile frame throws HeartbeatsProtocolError.
 * The heartbeats themselves are judged one by one afterwards, as gossip would be.
 *
 * @example
 * ```ts
 * const { heartbeats } = decodeLatestHeartbeats(frame, meshId)
 * ```
 */
export function decodeLatestHeartbeats (bytes: Uint8Array, mesh: string): LatestHeartbeatsMessage {
  let m: unknown
  try {
    m = dagCbor.decode(bytes)
  } catch (err) {
    throw new HeartbeatsProtocolError(`frame is not dag-cbor: ${(err as Error).message}`)
  }
  if (m === null || typeof m !== 'object' || Array.isArray(m)) throw new HeartbeatsProtocolError('frame is not a map')
  const msg = m as Record<string, unknown>
  if (Object.keys(msg).length !== 3 || msg.t !== HEARTBEATS_LATEST) {
    throw new HeartbeatsProtocolError('expected exactly { t: "latest", mesh, heartbeats }')
  }
  if (msg.mesh !== mesh) throw new HeartbeatsProtocolError('frame is for another mesh')
  const list = msg.heartbeats
  if (!Array.isArray(list) || list.length > LATEST_HEARTBEATS_MAX) {
    throw new HeartbeatsProtocolError(`heartbeats: expected an array of at most ${LATEST_HEARTBEATS_MAX}`)
  }
  for (const r of list as unknown[]) {
    const item = r as Record<string, unknown> | null
    const ok = item !== null && typeof item === 'object' && Object.keys(item).length === 2 &&
      item.hb instanceof Uint8Array && item.hb.length <= MAX_HEARTBEAT_BYTES &&
      typeof item.age === 'number' && Number.isSafeInteger(item.age) && item.age >= 0
    if (!ok) throw new HeartbeatsProtocolError('heartbeats: expected { hb: bytes, age: ms ≥ 0 } items')
  }
  return msg as unknown as LatestHeartbeatsMessage
}
