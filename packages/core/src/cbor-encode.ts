import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { MAX_NESTING_DEPTH } from './limits.js'

/**
 * Thrown inside the fast encoder for a value it leaves to @ipld/dag-cbor (which
 * then encodes it or throws its own error), so the two can never disagree.
 */
class NotFastPath extends Error {}

const textEncoder = new TextEncoder()

class Writer {
  busy = false
  buf = new Uint8Array(1024)
  view = new DataView(this.buf.buffer)
  pos = 0

  room (n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
    this.view = new DataView(next.buffer)
  }

  /** A head in its shortest form (RFC 8949 §4.2.1). */
  head (major: number, n: number): void {
    this.room(9)
    const m = major << 5
    if (n < 24) {
      this.buf[this.pos++] = m | n
    } else if (n < 0x100) {
      this.buf[this.pos++] = m | 24
      this.buf[this.pos++] = n
    } else if (n < 0x10000) {
      this.buf[this.pos++] = m | 25
      this.view.setUint16(this.pos, n)
      this.pos += 2
    } else if (n < 0x100000000) {
      this.buf[this.pos++] = m | 26
      this.view.setUint32(this.pos, n)
      this.pos += 4
    } else {
      this.buf[this.pos++] = m | 27
      this.view.setUint32(this.pos, Math.floor(n / 0x100000000))
      this.view.setUint32(this.pos + 4, n >>> 0)
      this.pos += 8
    }
  }

  bytes (b: Uint8Array): void {
    this.room(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
  }

  float (f: number): void {
    this.room(9)
    this.buf[this.pos++] = 0xfb
    this.view.setFloat64(this.pos, f)
    this.pos += 8
  }

  text (s: string): void {
    if (!isAscii(s)) {
      const b = textEncoder.encode(s)
      this.head(3, b.length)
      this.bytes(b)
      return
    }
    this.head(3, s.length)
    this.room(s.length)
    for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i)
  }
}

function isAscii (s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false
  return true
}

/** DAG-CBOR map key order: shorter UTF-8 first, then bytewise. */
function keyOrder (keys: string[]): string[] {
  if (keys.every(isAscii)) {
    // Objects built in canonical order (decoded ones, entries) need no sort: one pass proves it.
    if (inAsciiOrder(keys)) return keys
    // For ASCII, UTF-16 code units are the UTF-8 bytes.
    return keys.sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0))
  }
  const encoded = keys.map(k => ({ k, b: textEncoder.encode(k) }))
  encoded.sort((x, y) => {
    if (x.b.length !== y.b.length) return x.b.length - y.b.length
    for (let i = 0; i < x.b.length; i++) if (x.b[i] !== y.b[i]) return x.b[i]! - y.b[i]!
    return 0
  })
  return encoded.map(e => e.k)
}

function inAsciiOrder (keys: string[]): boolean {
  for (let i = 1; i < keys.length; i++) {
    const a = keys[i - 1]!
    const b = keys[i]!
    if (a.length > b.length || (a.length === b.length && a >= b)) return false
  }
  return true
}

function write (w: Writer, v: unknown, depth: number): void {
  if (depth > MAX_NESTING_DEPTH + 1) throw new NotFastPath()
  if (v === null) { w.head(7, 22); return }
  switch (typeof v) {
    case 'boolean': w.head(7, v ? 21 : 20); return
    case 'string': w.text(v); return
    case 'number':
      if (!Number.isFinite(v)) throw new NotFastPath()
      if (Number.isSafeInteger(v)) {
        if (v >= 0) w.head(0, v)
        else w.head(1, -1 - v)
      } else {
        w.float(v)
      }
      return
    case 'object': break
    default: throw new NotFastPath()
  }
  if (v instanceof Uint8Array) { w.head(2, v.length); w.bytes(v); return }
  if (Array.isArray(v)) {
    w.head(4, v.length)
    for (let i = 0; i < v.length; i++) {
      if (!(i in v)) throw new NotFastPath()
      write(w, v[i], depth + 1)
    }
    return
  }
  // The same test as @ipld/dag-cbor's CID encoder.
  const link = v as { asCID?: unknown, '/'?: unknown, bytes?: unknown }
  const cid = link.asCID === link || link['/'] === link.bytes ? CID.asCID(v) : null
  if (cid !== null) {
    w.head(6, 42)
    w.head(2, cid.bytes.length + 1)
    w.room(1)
    w.buf[w.pos++] = 0 // the multibase identity prefix DAG-CBOR puts before CID bytes
    w.bytes(cid.bytes)
    return
  }
  const proto = Object.getPrototypeOf(v) as unknown
  if (proto !== Object.prototype && proto !== null) throw new NotFastPath()
  const obj = v as Record<string, unknown>
  const keys = keyOrder(Object.keys(obj))
  w.head(5, keys.length)
  for (const k of keys) {
    w.text(k)
    write(w, obj[k], depth + 1)
  }
}

/**
 * The DAG-CBOR encoding of `value`, byte for byte what `@ipld/dag-cbor`'s `encode`
 * returns, written directly instead of through a token stream (several times
 * faster on entries). Values outside the common data model (floats that are NaN or
 * infinite, bigints, class instances, holes, `undefined`, very deep nesting) go to
 * `@ipld/dag-cbor` itself, so its result or its error is what the caller gets.
 *
 * @example
 * ```ts
 * encodeCanonical({ b: 1, a: [true, null] }) // same bytes as dagCbor.encode(...)
 * ```
 */
export function encodeCanonical (value: unknown): Uint8Array {
  // One scratch writer, reused: encoding is synchronous, so only a getter that itself encodes could re-enter.
  const w = shared.busy ? new Writer() : shared
  w.busy = true
  w.pos = 0
  try {
    write(w, value, 0)
    return w.buf.slice(0, w.pos)
  } catch (err) {
    if (err instanceof NotFastPath) return dagCbor.encode(value)
    throw err
  } finally {
    w.busy = false
    // A rare huge value must not keep its buffer alive.
    if (w === shared && w.buf.length > MAX_KEPT_SCRATCH) shared = new Writer()
  }
}

/**
 * Calls `use` with `prefix` followed by the DAG-CBOR encoding of `value` (the bytes
 * {@link encodeCanonical} returns), written into the reused scratch buffer: the view is
 * valid only until `use` returns. Lets a caller sign or check an encoding and copy it
 * once into its final form, instead of allocating every intermediate buffer.
 *
 * @example
 * ```ts
 * const sig = withEncoded(domain, unsigned, (message) => sign(message, key))
 * ```
 */
export function withEncoded<T> (prefix: Uint8Array, value: unknown, use: (encoded: Uint8Array) => T): T {
  const w = shared.busy ? new Writer() : shared
  w.busy = true
  w.pos = 0
  let encoded: Uint8Array
  try {
    w.bytes(prefix)
    write(w, value, 0)
    encoded = w.buf.subarray(0, w.pos)
  } catch (err) {
    w.busy = false
    if (!(err instanceof NotFastPath)) throw err
    const body = dagCbor.encode(value)
    encoded = new Uint8Array(prefix.length + body.length)
    encoded.set(prefix, 0)
    encoded.set(body, prefix.length)
  }
  try {
    return use(encoded)
  } finally {
    w.busy = false
    if (w === shared && w.buf.length > MAX_KEPT_SCRATCH) shared = new Writer()
  }
}

const MAX_KEPT_SCRATCH = 1 << 20
let shared = new Writer()
