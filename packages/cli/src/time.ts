/** A past instant as a short relative time for tables: "4s ago", "3m ago", "2h ago", "5d ago". */
export function ago (time: number, now: number = Date.now()): string {
  const s = Math.max(0, Math.round((now - time) / 1000))
  if (s < 120) return `${s}s ago`
  if (s < 7200) return `${Math.round(s / 60)}m ago`
  if (s < 172800) return `${Math.round(s / 3600)}h ago`
  return `${Math.round(s / 86400)}d ago`
}
