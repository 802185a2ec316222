import { CID } from 'multiformats/cid'
import { create as createDigest } from 'multiformats/hashes/digest'
import { equalBytes } from './bytes.js'
import { entryCidFromBytes, isEntryCidBytes } from './entry-cid.js'
import { MAX_NESTING_DEPTH } from './limits.js'

/** Why bytes were refused: not DAG-CBOR at all, or DAG-CBOR in a non-canonical form. */
export class CborError extends Error {
  constructor (readonly kind: 'malformed' | 'non-canonical', message: string) {
    super(message)
    this.name = 'CborError'
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Decodes DAG-CBOR and proves in the same pass that the bytes are its canonical
 * encoding: smallest-form lengths and integers, definite lengths, map keys that
 * are text strings sorted by length then bytes without duplicates, tag 42 (CID)
 * as the only tag, 64-bit floats only for non-integral finite values. This
 * replaces "decode, re-encode and compare", which costs a full encode per entry
 * on the hot path. Integers must be exact JavaScript numbers, ±(2^53 − 1): the
 * reference encoder writes anything larger as a float, so no larger integer can
 * round-trip (docs/PROTOCOL.md §3.1).
 */
export function decodeCanonical (bytes: Uint8Array): unknown {
  const r = new Reader(bytes, true)
  const value = r.value(0)
  if (r.pos !== bytes.length) throw new CborError('malformed', `${bytes.length - r.pos} trailing bytes`)
  return value
}

/**
 * Throws exactly when {@link decodeCanonical} would, without building the value:
 * the same reader runs every check but allocates no strings, bytes, CIDs or
 * containers. For bytes this process encoded and must prove a peer accepts.
 */
export function assertCanonical (bytes: Uint8Array): void {
  const r = new Reader(bytes, false)
  r.value(0)
  if (r.pos !== bytes.length) throw new CborError('malformed', `${bytes.length - r.pos} trailing bytes`)
}

/**
 * Short ASCII text (field names, types, zones) repeats in every entry: it is decoded
 * once and then shared from a small direct-mapped table, so decoding an entry does
 * not allocate its keys again. A collision only replaces the slot.
 */
const SHORT_TEXT = 24
const TEXT_SLOTS = 1024
const slotBytes: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(TEXT_SLOTS)
const slotText: string[] = new Array<string>(TEXT_SLOTS)

function shortAscii (b: Uint8Array, start: number, end: number, hash: number): string {
  const slot = (hash ^ (end - start)) & (TEXT_SLOTS - 1)
  const known = slotBytes[slot]
  if (known?.length === end - start) {
    let same = true
    for (let i = 0; i < known.length; i++) {
      if (known[i] !== b[start + i]) { same = false; break }
    }
    if (same) return slotText[slot]!
  }
  const text = String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[])
  slotBytes[slot] = b.slice(start, end)
  slotText[slot] = text
  return text
}
const PROTO_KEY = Uint8Array.from('__proto__', c => c.charCodeAt(0))

class Reader {
  pos = 0
  private readonly view: DataView
  /** `build` false: check only, return undefined for every value. */
  constructor (private readonly bytes: Uint8Array, private readonly build: boolean) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  private need (n: number): void {
    if (this.pos + n > this.bytes.length) throw new CborError('malformed', 'unexpected end of input')
  }

  /** Reads the argument of a head; enforces the shortest form. */
  private arg (info: number): number {
    if (info < 24) return info
    let v: number
    switch (info) {
      case 24: this.need(1); v = this.bytes[this.pos]!; this.pos += 1; if (v < 24) throw nonMinimal(); return v
      case 25: this.need(2); v = this.view.getUint16(this.pos); this.pos += 2; if (
        v < 0x100
      ) throw nonMinimal(); return v
      case 26: this.need(4); v = this.view.getUint32(this.pos); this.pos += 4; if (
        v < 0x10000
      ) throw nonMinimal(); return v
      case 27: {
        this.need(8)
        const hi = this.view.getUint32(this.pos)
        const lo = this.view.getUint32(this.pos + 4)
        this.pos += 8
        if (hi === 0) throw nonMinimal()
        if (hi >= 0x200000) throw new CborError('malformed', 'integer beyond 2^53')
        return hi * 0x100000000 + lo
      }
      default: throw new CborError(
        'malformed', info === 31 ? 'indefinite lengths are not allowed' : `reserved additional info ${info}`
      )
    }
  }

  value (depth: number): unknown {
    if (depth > MAX_NESTING_DEPTH) throw new CborError('malformed', 'nesting too deep')
    this.need(1)
    const head = this.bytes[this.pos++]!
    const major = head >> 5
    const info = head & 31
    switch (major) {
      case 0: return this.arg(info)
      case 1: {
        const n = this.arg(info)
        // -1 - (2^53 - 1) = -2^53 is not a safe integer: it would re-encode as a float.
        if (n >= Number.MAX_SAFE_INTEGER) throw new CborError('malformed', 'integer beyond 2^53')
        return -1 - n
      }
      case 2: {
        const len = this.arg(info)
        this.need(len)
        const start = this.pos
        this.pos += len
        return this.build ? this.bytes.slice(start, start + len) : undefined
      }
      case 3: return this.text(this.arg(info))
      case 4: {
        const len = this.arg(info)
        if (len > this.bytes.length - this.pos) throw new CborError('malformed', 'array longer than input')
        if (!this.build) {
          for (let i = 0; i < len; i++) this.value(depth + 1)
          return undefined
        }
        const out: unknown[] = new Array(len)
        for (let i = 0; i < len; i++) out[i] = this.value(depth + 1)
        return out
      }
      case 5: {
        const len = this.arg(info)
        if (len > this.bytes.length - this.pos) throw new CborError('malformed', 'map longer than input')
        const out: Record<string, unknown> | undefined = this.build ? {} : undefined
        let prevStart = -1
        let prevEnd = -1
        for (let i = 0; i < len; i++) {
          this.need(1)
          const kh = this.bytes[this.pos]!
          if (kh >> 5 !== 3) throw new CborError('malformed', 'map keys must be text strings')
          this.pos++
          const klen = this.arg(kh & 31)
          const start = this.pos
          const key = this.text(klen)
          if (prevStart >= 0) {
            const order = compareKeys(this.bytes, prevStart, prevEnd, start, this.pos)
            if (order === 0) throw new CborError(
              'malformed', `map key "${utf8.decode(this.bytes.subarray(start, this.pos))}" repeats`
            )
            if (order > 0) throw new CborError('non-canonical', 'map keys are not in canonical order')
          }
          if (isProtoKey(this.bytes, start, this.pos)) throw new CborError(
            'malformed', 'map key "__proto__" is not allowed'
          )
          prevStart = start
          prevEnd = this.pos
          const item = this.value(depth + 1)
          if (out !== undefined) out[key!] = item
        }
        return out
      }
      case 6: {
        const tag = this.arg(info)
        if (tag !== 42) throw new CborError('malformed', `tag ${tag} is not allowed (only 42)`)
        this.need(1)
        const bh = this.bytes[this.pos++]!
        if (bh >> 5 !== 2) throw new CborError('malformed', 'tag 42 must wrap bytes')
        const len = this.arg(bh & 31)
        this.need(len)
        if (len < 2 || this.bytes[this.pos] !== 0) throw new CborError('malformed', 'CID bytes must start with 0x00')
        const raw = this.bytes.subarray(this.pos + 1, this.pos + len)
        this.pos += len
        // The entry CID prefix is one-byte varints only, so it is minimal by construction.
        if (isEntryCidBytes(raw)) return this.build ? entryCidFromBytes(raw) : undefined
        let cid: CID
        try {
          cid = CID.decode(raw.slice())
        } catch (err) {
          throw new CborError('malformed', `invalid CID: ${(err as Error).message}`)
        }
        if (!isMinimalCid(cid, raw)) throw new CborError('non-canonical', 'CID is not minimally encoded')
        return this.build ? cid : undefined
      }
      default: {
        switch (info) {
          case 20: return false
          case 21: return true
          case 22: return null
          case 27: {
            this.need(8)
            const f = this.view.getFloat64(this.pos)
            this.pos += 8
            if (!Number.isFinite(f)) throw new CborError('malformed', 'NaN and infinities are not allowed')
            if (Number.isInteger(f)) throw new CborError('non-canonical', 'integral value encoded as a float')
            return f
          }
          case 25: case 26: throw new CborError('non-canonical', 'floats must be 64-bit')
          default: throw new CborError('malformed', `simple value ${info} is not allowed`)
        }
      }
    }
  }

  /** Reads text; when not building, only proves it is valid UTF-8. */
  private text (len: number): string | undefined {
    this.need(len)
    const start = this.pos
    const end = start + len
    const b = this.bytes
    let ascii = true
    let hash = 0
    for (let i = start; i < end; i++) {
      const c = b[i]!
      if (c >= 0x80) { ascii = false; break }
      hash = (hash * 31 + c) | 0
    }
    let s: string | undefined
    if (ascii && !this.build) {
      s = undefined
    } else if (ascii && len <= SHORT_TEXT) {
      s = shortAscii(b, start, end, hash)
    } else {
      try {
        s = utf8.decode(b.subarray(start, end))
      } catch {
        throw new CborError('malformed', 'text is not valid UTF-8')
      }
    }
    this.pos = end
    return s
  }
}

function nonMinimal (): CborError {
  return new CborError('non-canonical', 'integer or length not in its shortest form')
}

/** DAG-CBOR key order: shorter first, then bytewise. */
function compareKeys (b: Uint8Array, aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  const al = aEnd - aStart
  const bl = bEnd - bStart
  if (al !== bl) return al - bl
  for (let i = 0; i < al; i++) {
    const d = b[aStart + i]! - b[bStart + i]!
    if (d !== 0) return d
  }
  return 0
}

/** A `__proto__` key would set the prototype of the decoded object instead of a field. */
function isProtoKey (b: Uint8Array, start: number, end: number): boolean {
  if (end - start !== PROTO_KEY.length) return false
  for (let i = 0; i < PROTO_KEY.length; i++) if (b[start + i] !== PROTO_KEY[i]) return false
  return true
}

/** Every varint of the CID, the multihash's included, in its shortest form. */
function isMinimalCid (cid: CID, raw: Uint8Array): boolean {
  const digest = createDigest(cid.multihash.code, cid.multihash.digest)
  const minimal = cid.version === 0 ? digest.bytes : CID.create(1, cid.code, digest).bytes
  return equalBytes(minimal, raw)
}
