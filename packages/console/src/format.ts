/** Display helpers shared by the views. */

export function shortId(id: string | null | undefined, keep = 10): string {
  if (id === null || id === undefined) return '-'
  return id.length > keep + 6 ? `${id.slice(0, keep)}…${id.slice(-4)}` : id
}

export function formatAge(ms: number | null): string {
  if (ms === null) return 'never'
  if (ms < 1000) return 'just now'
  const s = Math.round(ms / 1000)
  if (s < 90) return `${s} s ago`
  const m = Math.round(s / 60)
  return m < 90 ? `${m} min ago` : `${Math.round(m / 60)} h ago`
}

export function formatTime(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')
}

// Distinct hues (readable under white or dark labels); zones pick one by a stable hash of their name.
const ZONE_PALETTE = ['#0969da', '#8250df', '#bf3989', '#0a7ea4', '#9a6700', '#bc4c00', '#6639ba', '#4d7c0f']

/** Stable colour per zone name. */
export function zoneColor(zone: string | null): string {
  if (zone === null) return '#8a8a8a'
  let h = 0
  for (const ch of zone) h = (h * 31 + ch.charCodeAt(0)) >>> 0
  return ZONE_PALETTE[h % ZONE_PALETTE.length]!
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
export function text(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v)
}
