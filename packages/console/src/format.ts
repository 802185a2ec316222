/** Display helpers shared by the views. */

export function shortId (id: string | null | undefined, keep = 10): string {
  if (id === null || id === undefined) return '-'
  return id.length > keep + 6 ? `${id.slice(0, keep)}…${id.slice(-4)}` : id
}

export function formatAge (ms: number | null): string {
  if (ms === null) return 'never'
  if (ms < 1000) return 'just now'
  const s = Math.round(ms / 1000)
  if (s < 90) return `${s} s ago`
  const m = Math.round(s / 60)
  return m < 90 ? `${m} min ago` : `${Math.round(m / 60)} h ago`
}

export function formatTime (ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')
}

/** Stable colour per zone name (hue from a string hash), readable on both themes. */
export function zoneColor (zone: string | null): string {
  if (zone === null) return '#8a8a8a'
  let h = 0
  for (const ch of zone) h = (h * 31 + ch.charCodeAt(0)) % 360
  return `hsl(${(h * 7) % 360} 60% 45%)`
}

export const TRUST_COLORS: Record<string, string> = {
  trusted: '#1a7f37',
  stale: '#9a6700',
  drifted: '#bc4c00',
  quarantined: '#cf222e',
  unknown: '#6e7781',
  self: '#0969da'
}

/** A decoded body field as text: strings as they are, anything else as JSON. */
export function text (v: unknown): string {
  return typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v)
}
