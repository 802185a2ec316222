/** Fields pino always writes, rendered in the line's fixed part. */
const FIXED = new Set(['level', 'time', 'name', 'msg'])

function value (v: unknown): string {
  if (typeof v === 'string') return /\s|"/.test(v) ? JSON.stringify(v) : v
  return JSON.stringify(v)
}

/**
 * One JSON log record as a line for people: `12:00:01.234 INFO  node1  peer connected peer=12D3… member=true`.
 * A record that is not JSON passes through unchanged.
 */
export function textLine (json: string): string {
  let rec: Record<string, unknown>
  try {
    rec = JSON.parse(json) as Record<string, unknown>
  } catch {
    return json.trimEnd()
  }
  const time = typeof rec.time === 'string' ? rec.time.slice(11, 23) : ''
  const text = (v: unknown): string => typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v)
  const level = text(rec.level).toUpperCase().padEnd(5)
  const name = rec.name !== undefined ? `${text(rec.name)}  ` : ''
  const fields = Object.entries(rec).filter(([k]) => !FIXED.has(k)).map(([k, v]) => `${k}=${value(v)}`)
  return [`${time} ${level} ${name}${text(rec.msg)}`, ...fields].join(' ')
}
