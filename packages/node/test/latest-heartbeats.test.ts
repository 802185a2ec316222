/**
 * The latest-heartbeats frame (PROTOCOL §19.4) is read strictly: anything but the exact shape, the
 * right mesh and bounded items is a typed `heartbeats.protocol` error, before any heartbeat is judged.
 */
import { describe, expect, it } from 'vitest'
import * as dagCbor from '@ipld/dag-cbor'
import { MAX_HEARTBEAT_BYTES } from '@govmesh/core'
import { decodeLatestHeartbeats, encodeLatestHeartbeats, HeartbeatsProtocolError, LATEST_HEARTBEATS_MAX } from '@govmesh/node'

const MESH = 'm'.repeat(64)
const hb = new Uint8Array([1, 2, 3])

function rejects (frame: unknown, why: RegExp): void {
  const bytes = frame instanceof Uint8Array ? frame : dagCbor.encode(frame)
  let caught: unknown
  try { decodeLatestHeartbeats(bytes, MESH) } catch (err) { caught = err }
  expect(caught).toBeInstanceOf(HeartbeatsProtocolError)
  expect((caught as HeartbeatsProtocolError).code).toBe('heartbeats.protocol')
  expect((caught as Error).message).toMatch(why)
}

describe('latest-heartbeats frame', () => {
  it('round-trips what the responder sends', () => {
    const frame = encodeLatestHeartbeats(MESH, [{ hb, age: 0 }, { hb, age: 1500 }])
    expect(decodeLatestHeartbeats(frame, MESH)).toEqual({ t: 'latest', mesh: MESH, heartbeats: [{ hb, age: 0 }, { hb, age: 1500 }] })
  })

  it('leaves out what does not fit the frame, never more than the item limit', () => {
    const big = new Uint8Array(MAX_HEARTBEAT_BYTES)
    const many = Array.from({ length: LATEST_HEARTBEATS_MAX + 10 }, () => ({ hb: big, age: 1 }))
    const { heartbeats } = decodeLatestHeartbeats(encodeLatestHeartbeats(MESH, many), MESH)
    expect(heartbeats.length).toBeGreaterThan(100)
    expect(heartbeats.length).toBeLessThan(LATEST_HEARTBEATS_MAX)
    const small = Array.from({ length: LATEST_HEARTBEATS_MAX + 10 }, () => ({ hb, age: 1 }))
    const capped = decodeLatestHeartbeats(encodeLatestHeartbeats(MESH, small), MESH)
    expect(capped.heartbeats).toHaveLength(LATEST_HEARTBEATS_MAX)
  })

  it('rejects hostile frames with a reason', () => {
    rejects(new Uint8Array([0xff, 0x00]), /not dag-cbor/)
    rejects([1, 2], /not a map/)
    rejects({ t: 'latest', mesh: MESH }, /exactly/)
    rejects({ t: 'latest', mesh: MESH, heartbeats: [], extra: 1 }, /exactly/)
    rejects({ t: 'frontier', mesh: MESH, heartbeats: [] }, /exactly/)
    rejects({ t: 'latest', mesh: 'other', heartbeats: [] }, /another mesh/)
    rejects({ t: 'latest', mesh: MESH, heartbeats: {} }, /array/)
    rejects({ t: 'latest', mesh: MESH, heartbeats: Array.from({ length: LATEST_HEARTBEATS_MAX + 1 }, () => ({ hb, age: 0 })) }, /at most/)
    rejects({ t: 'latest', mesh: MESH, heartbeats: [{ hb, age: -1 }] }, /items/)
    rejects({ t: 'latest', mesh: MESH, heartbeats: [{ hb, age: 1.5 }] }, /items/)
    rejects({ t: 'latest', mesh: MESH, heartbeats: [{ hb: 'x', age: 0 }] }, /items/)
    rejects({ t: 'latest', mesh: MESH, heartbeats: [{ hb, age: 0, more: 1 }] }, /items/)
    rejects({ t: 'latest', mesh: MESH, heartbeats: [{ hb: new Uint8Array(MAX_HEARTBEAT_BYTES + 1), age: 0 }] }, /items/)
  })
})
