/** A clock in milliseconds. */
export type Clock = () => number

/** Wall time. */
export const wallClock: Clock = () => performance.now()

/**
 * CPU time this process has used (user + system, every thread). For a synchronous loop on one
 * thread it equals wall time on a quiet machine, and on a shared one it leaves out the time the
 * process waited for a core, so a ratio of two such loops does not depend on the neighbours' load.
 */
export const cpuClock: Clock = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/** Runs `fn` repeatedly for about `ms` milliseconds of `clock` (after a warm-up) and returns calls per second. */
export function measure (fn: () => void, ms: number, clock: Clock = wallClock): number {
  const warmUntil = clock() + Math.min(200, ms / 3)
  while (clock() < warmUntil) fn()
  let calls = 0
  const start = clock()
  let now = start
  while (now - start < ms) {
    for (let i = 0; i < 64; i++) fn()
    calls += 64
    now = clock()
  }
  return calls / ((now - start) / 1000)
}

/** Percentile of a sorted-ascending array (nearest rank). */
export function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[idx]!
}
