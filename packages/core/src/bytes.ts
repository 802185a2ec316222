/** Byte helpers shared by every module; kept dependency-free so the browser can use them. */

const HEX = '0123456789abcdef'
const HEX_CODES = Uint8Array.from(HEX, c => c.charCodeAt(0))
/** Keys and digests are 32 bytes; their hex is built in one call, not 64 string concatenations. */
const hexChars = new Uint16Array(128)

/** Lower-case hex of `bytes`. */
export function toHex (bytes: Uint8Array): string {
  if (bytes.length > hexChars.length / 2) {
    let out = ''
    for (const b of bytes) out += HEX[b >> 4]! + HEX[b & 15]!
    return out
  }
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!
    hexChars[2 * i] = HEX_CODES[b >> 4]!
    hexChars[2 * i + 1] = HEX_CODES[b & 15]!
  }
  return String.fromCharCode.apply(null, hexChars.subarray(0, 2 * bytes.length) as unknown as number[])
}

/** Parses lower- or upper-case hex; throws on odd length or a non-hex digit. */
export function fromHex (hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new TypeError('invalid hex string')
  }
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return out
}

export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Lexicographic byte order, shorter first on a common prefix. */
export function compareBytes (a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!
    if (d !== 0) return d
  }
  return a.length - b.length
}

export function concatBytes (...parts: Uint8Array[]): Uint8Array {
  let len = 0
  for (const p of parts) len += p.length
  const out = new Uint8Array(len)
  let off = 0
  for (const p of parts) { out.set(p, off); off += p.length }
  return out
}

const encoder = new TextEncoder()
export function utf8 (s: string): Uint8Array { return encoder.encode(s) }

/** Base64 (standard alphabet, padded) without Buffer so it also runs in browsers. */
export function toBase64 (bytes: Uint8Array): string {
  let bin = ''
  for (const b of bytes) bin += String.fromCharCode(b)
  return btoa(bin)
}

export function fromBase64 (b64: string): Uint8Array {
  const bin = atob(b64)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

/** Slab size of {@link allocSmall}: like Node's Buffer pool, small enough that a kept view pins little. */
const SLAB_BYTES = 8 * 1024
/** Larger requests get their own buffer. */
const MAX_SLAB_ALLOC = SLAB_BYTES / 8
let slab = new Uint8Array(0)
let slabUsed = 0

/**
 * A zeroed `Uint8Array` of `length` bytes, for small buffers that are kept (entry bytes, CIDs):
 * views of a shared 8 KiB slab, as Node's `Buffer.allocUnsafe` pools them. Every separately
 * allocated buffer is a backing store the garbage collector tracks and frees one by one, which
 * cost more than encoding the entry. Views never overlap; a slab lives while any view of it does.
 */
export function allocSmall (length: number): Uint8Array {
  if (length > MAX_SLAB_ALLOC) return new Uint8Array(length)
  if (slabUsed + length > slab.length) {
    slab = new Uint8Array(SLAB_BYTES)
    slabUsed = 0
  }
  const out = slab.subarray(slabUsed, slabUsed + length)
  // 8-byte aligned, so a DataView or wider typed array over a view is never misaligned.
  slabUsed += (length + 7) & ~7
  return out
}

const KEY_HEX_SLOTS = 1024
const keyHexBytes: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(KEY_HEX_SLOTS)
const keyHexText: string[] = new Array<string>(KEY_HEX_SLOTS)

/**
 * `toHex` of a public key, shared: the same few authors sign every entry, and each entry's index
 * record keeps its author's hex. Direct-mapped by two key bytes; a slot keeps its own copy of the key.
 */
export function keyHex (key: Uint8Array): string {
  if (key.length < 2) return toHex(key)
  const slot = ((key[0]! << 8) | key[1]!) & (KEY_HEX_SLOTS - 1)
  const known = keyHexBytes[slot]
  if (known !== undefined && equalBytes(known, key)) return keyHexText[slot]!
  const text = toHex(key)
  keyHexBytes[slot] = key.slice()
  keyHexText[slot] = text
  return text
}
