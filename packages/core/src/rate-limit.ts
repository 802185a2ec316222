import { BoundedMap } from './bounded-map.js'

interface Bucket { tokens: number, at: number }

/**
 * Token buckets by key (a peer): each holds up to `burst` tokens and refills at `ratePerSec`. A
 * key the bounded map forgot starts full again, which only helps a key that stayed quiet.
 *
 * @example
 * ```ts
 * const buckets = new TokenBuckets({ ratePerSec: 20, burst: 40 })
 * if (!buckets.take(peerId, Date.now())) refuse('rate-limited')
 * ```
 */
export class TokenBuckets {
  private readonly buckets: BoundedMap<string, Bucket>
  readonly ratePerSec: number
  readonly burst: number

  constructor (init: { ratePerSec: number, burst: number, capacity?: number }) {
    if (!(init.ratePerSec > 0) || !(init.burst >= 1)) throw new RangeError('ratePerSec must be > 0 and burst >= 1')
    this.ratePerSec = init.ratePerSec
    this.burst = init.burst
    this.buckets = new BoundedMap(init.capacity ?? 4096)
  }

  /** Takes one token for `key` at time `now` (ms); false when the bucket is empty. */
  take (key: string, now: number): boolean {
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now }
    const tokens = Math.min(this.burst, b.tokens + Math.max(0, now - b.at) * this.ratePerSec / 1000)
    const ok = tokens >= 1
    this.buckets.set(key, { tokens: ok ? tokens - 1 : tokens, at: now })
    return ok
  }
}

/**
 * At most one log line per key per interval, so a hostile peer cannot fill the log; the line that
 * is written says how many were held back.
 *
 * @example
 * ```ts
 * const quiet = new LogThrottle({ intervalMs: 10_000 })
 * const held = quiet.admit('exec refused', Date.now())
 * if (held !== undefined) log.warn('exec stream refused', { suppressed: held })
 * ```
 */
export class LogThrottle {
  private readonly last: BoundedMap<string, { at: number, held: number }>

  constructor (private readonly init: { intervalMs: number, capacity?: number }) {
    this.last = new BoundedMap(init.capacity ?? 1024)
  }

  /** The number of lines held back since the last one when a line may be written now; else undefined. */
  admit (key: string, now: number): number | undefined {
    const prior = this.last.get(key)
    if (prior !== undefined && now - prior.at < this.init.intervalMs) {
      this.last.set(key, { at: prior.at, held: prior.held + 1 })
      return undefined
    }
    this.last.set(key, { at: now, held: 0 })
    return prior?.held ?? 0
  }
}

/**
 * Per-peer exponential backoff after a refusal, valid while the membership `epoch` it was judged
 * under holds: when membership changes (an admit arrives), the peer is judged afresh at once.
 *
 * @example
 * ```ts
 * const backoff = new PeerBackoff()
 * backoff.refuse(peerId, Date.now(), epoch) // 1000: refused again without a look for 1 s
 * backoff.isBackingOff(peerId, Date.now(), epoch) // true
 * ```
 */
export class PeerBackoff {
  private readonly peers: BoundedMap<string, { strikes: number, until: number, epoch: number }>
  private readonly baseMs: number
  private readonly maxMs: number

  constructor (init: { baseMs?: number, maxMs?: number, capacity?: number } = {}) {
    this.baseMs = init.baseMs ?? 1000
    this.maxMs = init.maxMs ?? 60_000
    this.peers = new BoundedMap(init.capacity ?? 4096)
  }

  isBackingOff (peer: string, now: number, epoch: number): boolean {
    const p = this.peers.get(peer)
    return p !== undefined && p.epoch === epoch && now < p.until
  }

  /** Records one more refusal of `peer`; returns how long it is now held off (ms). */
  refuse (peer: string, now: number, epoch: number): number {
    const strikes = (this.peers.get(peer)?.strikes ?? 0) + 1
    const delay = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(strikes - 1, 30))
    this.peers.set(peer, { strikes, until: now + delay, epoch })
    return delay
  }

  clear (peer: string): void {
    this.peers.delete(peer)
  }
}
