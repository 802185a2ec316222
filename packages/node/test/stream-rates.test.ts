/**
 * Issue 11: one peer routing executions through a node was refused past 50 streams a second
 * (burst 100), a fifth of the mesh's target execution rate. The exec bucket now holds 1,000
 * and refills at 500 a second; sync and heartbeats keep their tighter rates.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { silentLogger } from '../src/logger.js'
import { NodeMetrics } from '../src/metrics.js'
import { StreamGuard } from '../src/services/streams.js'

function guard (): StreamGuard {
  return new StreamGuard({
    isMemberPeer: () => true, statusOf: () => 'trusted', metrics: new NodeMetrics(), logger: silentLogger
  })
}

const admitted = (g: StreamGuard, protocol: 'exec' | 'sync', peer: string, n: number): number =>
  Array.from({ length: n }, () => g.admit(protocol, peer)).filter(v => v.allow).length

describe('per-peer stream rates', () => {
  afterEach(() => { vi.useRealTimers() })

  it('one peer may open 500 exec streams a second, sustained, after a burst of 1,000', () => {
    vi.useFakeTimers({ now: 1_000_000 })
    const g = guard()
    expect(admitted(g, 'exec', 'peer-a', 1000)).toBe(1000)
    expect(g.admit('exec', 'peer-a').allow).toBe(false)
    for (let s = 0; s < 3; s++) {
      vi.advanceTimersByTime(1000)
      expect(admitted(g, 'exec', 'peer-a', 600)).toBe(500)
    }
    // Buckets are per peer.
    expect(admitted(g, 'exec', 'peer-b', 1000)).toBe(1000)
  })

  it('sync keeps its own, tighter bucket', () => {
    vi.useFakeTimers({ now: 1_000_000 })
    const g = guard()
    expect(admitted(g, 'sync', 'peer-a', 50)).toBe(20)
  })
})
