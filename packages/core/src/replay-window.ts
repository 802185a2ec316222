import { BoundedMap } from './bounded-map.js'

/** Limits of a {@link ReplayWindow}; the defaults are the ones docs/PROTOCOL.md states. */
export interface ReplayWindowInit {
  /** Keys remembered at most. @defaultValue `16384` */
  capacity?: number
  /** How far back a request's time may lie. @defaultValue `600_000` (10 min) */
  windowMs?: number
  /** How far ahead of this node's clock a request's time may lie. @defaultValue `120_000` (2 min) */
  maxSkewMs?: number
  /** Times up to this one are refused (e.g. the node's start time: the window is not persisted). */
  floor?: number
}

export const REPLAY_WINDOW_DEFAULTS = { capacity: 16_384, windowMs: 600_000, maxSkewMs: 120_000 } as const

/** `fresh`: recorded now; the others are refusals. */
export type ReplayVerdict = 'fresh' | 'replay' | 'stale' | 'future'

/**
 * The replay rule for executions: a request is served at most once per receiving node. Each request
 * carries keys (its CID and its principal's nonce) and its author's time. A key seen before is a
 * replay. A time before `now - windowMs`, or not after the floor, is stale: the floor starts at
 * `init.floor` and rises to the time of every key evicted for capacity, so a key the window forgot
 * can never be accepted again. Memory is bounded by `capacity` whatever the traffic.
 *
 * @example
 * ```ts
 * const window = new ReplayWindow({ floor: Date.now() })
 * window.check([requestCid, `nonce:${principal}:${nonce}`], request.time, Date.now()) // 'fresh'
 * window.check([requestCid, `nonce:${principal}:${nonce}`], request.time, Date.now()) // 'replay'
 * ```
 */
export class ReplayWindow {
  private readonly seen: BoundedMap<string, number>
  private readonly windowMs: number
  private readonly maxSkewMs: number
  private evictedFloor: number

  constructor (init: ReplayWindowInit = {}) {
    this.seen = new BoundedMap(init.capacity ?? REPLAY_WINDOW_DEFAULTS.capacity)
    this.windowMs = init.windowMs ?? REPLAY_WINDOW_DEFAULTS.windowMs
    this.maxSkewMs = init.maxSkewMs ?? REPLAY_WINDOW_DEFAULTS.maxSkewMs
    this.evictedFloor = init.floor ?? -Infinity
  }

  get size (): number { return this.seen.size }

  /** Whether `time` is too old at `now`: before the window, or not after everything forgotten. */
  isStale (time: number, now: number): boolean {
    return !Number.isFinite(time) || time < now - this.windowMs || time <= this.evictedFloor
  }

  /** Judges one request by its keys and time; records the keys when it is fresh. */
  check (keys: readonly string[], time: number, now: number): ReplayVerdict {
    this.expire(now)
    if (this.isStale(time, now)) return 'stale'
    if (time > now + this.maxSkewMs) return 'future'
    if (keys.some(k => this.seen.get(k) !== undefined)) return 'replay'
    for (const k of keys) {
      const evicted = this.seen.set(k, time)
      if (evicted !== undefined) this.evictedFloor = Math.max(this.evictedFloor, evicted[1])
    }
    return 'fresh'
  }

  /** Keys older than the window are refused as stale anyway: forget them from the oldest end. */
  private expire (now: number): void {
    const limit = now - this.windowMs
    for (let oldest = this.seen.oldest(); oldest !== undefined && oldest[1] < limit; oldest = this.seen.oldest()) {
      this.seen.delete(oldest[0])
    }
  }
}
