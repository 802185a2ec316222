import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

// LevelDB's write-ahead log format (leveldb doc/log_format.md): 32 KiB blocks of physical
// records, each a 7-byte header (masked CRC32C of type + data, uint32 LE; length, uint16 LE;
// type) and its data. A logical record (one write batch) is a FULL record or FIRST, MIDDLE…,
// LAST fragments. On open, LevelDB drops whatever fails its checksum together with the rest of
// that block, and deletes the log: this scanner finds that damage before anything opens the store.
const BLOCK = 32 * 1024
const HEADER = 7
const ZERO = 0
const FULL = 1
const FIRST = 2
const MIDDLE = 3
const LAST = 4

const CRC_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

/** CRC32C (Castagnoli), as LevelDB computes it. */
export function crc32c (bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffffffff
  for (let i = start; i < end; i++) crc = CRC_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

/** LevelDB stores CRCs masked, so that a CRC of data holding CRCs stays well distributed. */
const unmask = (masked: number): number => {
  const rot = (masked - 0xa282ead8) >>> 0
  return ((rot >>> 17) | (rot << 15)) >>> 0
}

/** A byte range of a log file that LevelDB would drop at open, with the store keys still legible in it. */
export interface LogDamage {
  file: string
  offset: number
  bytes: number
  reason: string
  /** `a!<author>!<seq>` keys found in the dropped bytes: entries that were written there. */
  entries: Array<{ author: string, seq: number }>
}

export interface LogScan {
  files: string[]
  damage: LogDamage[]
  /** A last record cut short at the end of a file: a write that never completed (not acknowledged). */
  tornTail: boolean
}

const ENTRY_KEY = /a!([0-9a-f]{64})!([0-9a-f]{12})/g

function legibleEntries (bytes: Uint8Array): Array<{ author: string, seq: number }> {
  const out = new Map<string, { author: string, seq: number }>()
  for (const m of Buffer.from(bytes).toString('latin1').matchAll(ENTRY_KEY)) {
    out.set(m[0], { author: m[1]!, seq: parseInt(m[2]!, 16) })
  }
  return [...out.values()]
}

/** Scans one log file's bytes; the damaged ranges are those LevelDB's own reader would drop. */
export function scanLogBytes (
  file: string, buf: Uint8Array, onRecord?: (record: Uint8Array) => void
): { damage: LogDamage[], tornTail: boolean } {
  const damage: LogDamage[] = []
  let parts: Uint8Array[] = []
  let recordStart = -1 // start of the logical record being assembled, while in a fragmented one
  let dropFrom = -1 // start of the dropped range still growing (orphaned fragments follow a bad record)
  let dropReason = ''
  const drop = (from: number, reason: string): void => {
    if (dropFrom < 0) { dropFrom = from; dropReason = reason }
    recordStart = -1
  }
  const close = (to: number): void => {
    if (dropFrom < 0) return
    const entries = legibleEntries(buf.subarray(dropFrom, to))
    damage.push({ file, offset: dropFrom, bytes: to - dropFrom, reason: dropReason, entries })
    dropFrom = -1
  }
  const done = (tornTail: boolean): { damage: LogDamage[], tornTail: boolean } => {
    close(buf.length)
    return { damage, tornTail }
  }
  let pos = 0
  while (pos < buf.length) {
    const blockEnd = Math.min(buf.length, (Math.floor(pos / BLOCK) + 1) * BLOCK)
    if (blockEnd - pos < HEADER) {
      // A block trailer too short for a header is zero padding; at the end of the file, a cut header.
      if (blockEnd === buf.length) return done(buf.subarray(pos).some(b => b !== 0))
      pos = blockEnd
      continue
    }
    const dv = new DataView(buf.buffer, buf.byteOffset + pos, HEADER)
    const length = dv.getUint16(4, true)
    const type = dv.getUint8(6)
    if (type === ZERO && length === 0) { pos = blockEnd; continue } // preallocated space
    if (pos + HEADER + length > blockEnd) {
      // Past the end of the file: the writer died mid-record (LevelDB reads that as the end).
      if (blockEnd === buf.length) return done(true)
      drop(recordStart >= 0 ? recordStart : pos, 'bad record length')
      pos = blockEnd
      continue
    }
    if (crc32c(buf, pos + 6, pos + HEADER + length) !== unmask(dv.getUint32(0, true))) {
      // The length itself may be garbled, so (like LevelDB) nothing more of this block is trusted.
      drop(recordStart >= 0 ? recordStart : pos, 'checksum mismatch')
      pos = blockEnd
      continue
    }
    const data = buf.subarray(pos + HEADER, pos + HEADER + length)
    if (type === FULL || type === FIRST) {
      if (recordStart >= 0) drop(recordStart, 'partial record without end')
      close(pos)
      if (type === FIRST) recordStart = pos
      parts = [data]
      if (type === FULL) onRecord?.(data)
    } else if (type === MIDDLE || type === LAST) {
      if (recordStart < 0) {
        drop(pos, 'fragment without its start')
      } else {
        parts.push(data)
        if (type === LAST) {
          recordStart = -1
          onRecord?.(Buffer.concat(parts))
        }
      }
    } else {
      drop(pos, `unknown record type ${type}`)
    }
    pos += HEADER + length
  }
  return done(recordStart >= 0)
}

/**
 * Scans every write-ahead log (`NNNNNN.log`) of a level database directory, reading only.
 *
 * @example
 * ```ts
 * const scan = scanLevelLogs(join(dataDir, 'db'))
 * if (scan.damage.length > 0) console.error('the write-ahead log is damaged')
 * ```
 */
export function scanLevelLogs (dir: string): LogScan {
  const files = readdirSync(dir).filter(f => /^\d+\.log$/.test(f)).sort()
  const out: LogScan = { files, damage: [], tornTail: false }
  for (const f of files) {
    const r = scanLogBytes(f, new Uint8Array(readFileSync(join(dir, f))))
    out.damage.push(...r.damage)
    out.tornTail ||= r.tornTail
  }
  return out
}

/** Reads a LevelDB varint (up to 64 bits, as a number: file numbers and sizes stay below 2^53). */
function varint (buf: Uint8Array, at: { pos: number }): number {
  let n = 0
  let scale = 1
  for (;;) {
    const b = buf[at.pos++]
    if (b === undefined) throw new Error('truncated varint')
    n += (b & 0x7f) * scale
    if ((b & 0x80) === 0) return n
    scale *= 128
  }
}

/** One line for a damaged log range. */
export function describeLogDamage (d: LogDamage): string {
  return `write-ahead log ${d.file}: ${d.bytes} bytes at offset ${d.offset} unreadable (${d.reason})`
}

/** One line for a damaged table file. */
export function describeTableDamage (t: TableDamage): string {
  const what = t.actualBytes === null ? 'is missing' : `has ${t.actualBytes} of its ${t.expectedBytes} bytes`
  return `table ${t.file} ${what}`
}

/** A table file the manifest lists that is absent or not the size the manifest recorded. */
export interface TableDamage {
  file: string
  expectedBytes: number
  actualBytes: number | null
}

/**
 * Checks the live table files named by the current MANIFEST against the directory, reading
 * only: a missing or truncated `.ldb` is found before LevelDB opens (and writes to) the store.
 * Returns null when the manifest itself cannot be read (LevelDB's open then reports it).
 */
export function checkLevelTables (dir: string): TableDamage[] | null {
  let manifest: Uint8Array
  try {
    const current = readFileSync(join(dir, 'CURRENT'), 'utf8').trim()
    manifest = new Uint8Array(readFileSync(join(dir, current)))
  } catch {
    return null
  }
  const live = new Map<number, number>() // file number → size
  let bad = false
  const scan = scanLogBytes('MANIFEST', manifest, (edit) => {
    const at = { pos: 0 }
    const slice = (): void => {
      const length = varint(edit, at)
      at.pos += length
    }
    try {
      while (at.pos < edit.length) {
        const tag = varint(edit, at)
        switch (tag) {
          case 1: slice(); break // comparator name
          case 2: case 3: case 4: case 9: varint(edit, at); break // log, next file, last sequence, previous log
          case 5: varint(edit, at); slice(); break // compaction pointer
          case 6: varint(edit, at); live.delete(varint(edit, at)); break // deleted file: level, number
          case 7: { // new file: level, number, size, smallest key, largest key
            varint(edit, at)
            const number = varint(edit, at)
            live.set(number, varint(edit, at))
            slice()
            slice()
            break
          }
          default: throw new Error(`unknown manifest tag ${tag}`)
        }
      }
    } catch {
      bad = true
    }
  })
  if (bad || scan.damage.length > 0) return null
  const out: TableDamage[] = []
  for (const [number, size] of live) {
    const base = String(number).padStart(6, '0')
    const file = [`${base}.ldb`, `${base}.sst`].find(f => existsSync(join(dir, f))) ?? `${base}.ldb`
    const actual = existsSync(join(dir, file)) ? statSync(join(dir, file)).size : null
    if (actual !== size) out.push({ file, expectedBytes: size, actualBytes: actual })
  }
  return out
}
