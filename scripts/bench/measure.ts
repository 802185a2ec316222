/** Runs `fn` repeatedly for about `ms` milliseconds (after a warm-up) and returns calls per second. */
export function measure (fn: () => void, ms: number): number {
  const warmUntil = performance.now() + Math.min(200, ms / 3)
  while (performance.now() < warmUntil) fn()
  let calls = 0
  const start = performance.now()
  let now = start
  while (now - start < ms) {
    for (let i = 0; i < 64; i++) fn()
    calls += 64
    now = performance.now()
  }
  return calls / ((now - start) / 1000)
}

/** Percentile of a sorted-ascending array (nearest rank). */
export function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[idx]!
}
