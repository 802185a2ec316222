import { CID, type EntryMeta, type EntryType } from '@govmesh/core'

/**
 * The store's per-entry metadata record (`x!<cid>`, schema 3): what the DAG reads back about
 * an accepted entry without decoding its bytes, including what cannot be derived from them
 * alone (its governance context and its place in acceptance order).
 *
 * Bytes: version (u8 = 1), author (32 bytes), seq, time, index (f64 each), type (u8 length +
 * UTF-8), prev (u8 length + ASCII CID, length 0 for none), parents and governance heads (u16
 * count, then u8 length + ASCII CID each). Float64 holds every integer below 2^53 exactly.
 */
const RECORD_VERSION = 1

/** A record that does not decode: the store is damaged. */
export class MetaRecordError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'MetaRecordError'
  }
}

const ascii = new TextEncoder()
const text = new TextDecoder()

export function encodeMetaRecord (m: EntryMeta): Uint8Array {
  const type = ascii.encode(m.type)
  const strings = [m.prev ?? '', ...m.parents, ...m.govHeads].map(s => ascii.encode(s))
  const size = 1 + 32 + 24 + 1 + type.length + 4 + strings.reduce((n, s) => n + 1 + s.length, 0)
  const out = new Uint8Array(size)
  const dv = new DataView(out.buffer)
  out[0] = RECORD_VERSION
  out.set(Buffer.from(m.author, 'hex'), 1)
  dv.setFloat64(33, m.seq)
  dv.setFloat64(41, m.time)
  dv.setFloat64(49, m.index)
  let at = 57
  out[at++] = type.length
  out.set(type, at)
  at += type.length
  const putString = (s: Uint8Array): void => {
    if (s.length > 255) throw new MetaRecordError('a CID longer than 255 characters')
    out[at++] = s.length
    out.set(s, at)
    at += s.length
  }
  putString(strings[0]!)
  dv.setUint16(at, m.parents.length)
  at += 2
  for (let i = 0; i < m.parents.length; i++) putString(strings[1 + i]!)
  dv.setUint16(at, m.govHeads.length)
  at += 2
  for (let i = 0; i < m.govHeads.length; i++) putString(strings[1 + m.parents.length + i]!)
  return out
}

/** Reads one record field by field, naming the record in every error. */
class MetaReader {
  readonly dv: DataView
  at: number

  constructor (private readonly id: string, private readonly bytes: Uint8Array, at: number) {
    if (bytes[0] !== RECORD_VERSION || bytes.length < 62) {
      throw new MetaRecordError(`metadata record of ${id} is malformed`)
    }
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.at = at
  }

  get author (): string { return Buffer.from(this.bytes.subarray(1, 33)).toString('hex') }

  string (): string {
    const { bytes, at } = this
    const n = bytes[at]
    if (n === undefined || at + 1 + n > bytes.length) this.truncated()
    this.at = at + 1 + n
    return text.decode(bytes.subarray(at + 1, this.at))
  }

  list (): string[] {
    if (this.at + 2 > this.bytes.length) this.truncated()
    const n = this.dv.getUint16(this.at)
    this.at += 2
    const out = new Array<string>(n)
    for (let i = 0; i < n; i++) out[i] = this.string()
    return out
  }

  private truncated (): never {
    throw new MetaRecordError(`metadata record of ${this.id} is truncated`)
  }
}

export function decodeMetaRecord (id: string, bytes: Uint8Array): EntryMeta {
  const r = new MetaReader(id, bytes, 57)
  const type = r.string() as EntryType
  const prev = r.string()
  const parents = r.list()
  const govHeads = r.list()
  return new StoredMeta(id, r.author, r.dv.getFloat64(33), type,
    prev === '' ? null : prev, parents, r.dv.getFloat64(41), govHeads, r.dv.getFloat64(49))
}

/** A decoded record; its CID is parsed only when asked for (most lookups need the strings alone). */
class StoredMeta implements EntryMeta {
  constructor (
    readonly id: string,
    readonly author: string,
    readonly seq: number,
    readonly type: EntryType,
    readonly prev: string | null,
    readonly parents: string[],
    readonly time: number,
    readonly govHeads: readonly string[],
    readonly index: number
  ) {}

  get cid (): CID { return CID.parse(this.id) }
}

/**
 * The author and seq a metadata record names, without decoding the rest: where the entry's chain
 * record is (`h!<author>!<seq>`).
 */
export function metaRecordLocation (id: string, bytes: Uint8Array): { author: string, seq: number } {
  const r = new MetaReader(id, bytes, 57)
  return { author: r.author, seq: r.dv.getFloat64(33) }
}

/** What a walk over records needs of an entry: its links, and its places in its chain and in acceptance order. */
export interface MetaLinks {
  seq: number
  index: number
  prev: string | null
  parents: string[]
}

/** No parents: shared, so a record without any (most of a chain) costs no array. */
const NO_PARENTS: string[] = []
Object.freeze(NO_PARENTS)
/** Big-endian float64 of 8 record bytes, through one scratch view (no DataView per record). */
const scratch = new DataView(new ArrayBuffer(8))
function float64At (bytes: Uint8Array, at: number): number {
  for (let i = 0; i < 8; i++) scratch.setUint8(i, bytes[at + i]!)
  return scratch.getFloat64(0)
}

/**
 * The links of a metadata record, without its type and governance context: a proof export
 * decodes a record per entry of the closure, and these are all it needs. Read in place: a proof
 * of a long chain decodes thousands, and each allocation of one is garbage within milliseconds.
 * `into`: written and returned instead of a new object (valid until the caller's next decode).
 */
export function decodeMetaLinks (id: string, bytes: Uint8Array, into?: MetaLinks): MetaLinks {
  if (bytes[0] !== RECORD_VERSION || bytes.length < 62) {
    throw new MetaRecordError(`metadata record of ${id} is malformed`)
  }
  // After the type (u8 length + ASCII): the prev, then the parents (u16 count, then u8 length + ASCII each).
  let at = 58 + bytes[57]!
  const prevLength = bytes[at]
  if (prevLength === undefined || at + 1 + prevLength > bytes.length) throw truncatedMeta(id)
  const prev = asciiString(bytes, at + 1, at += 1 + prevLength)
  if (at + 2 > bytes.length) throw truncatedMeta(id)
  const count = (bytes[at]! << 8) | bytes[at + 1]!
  at += 2
  let parents = NO_PARENTS
  if (count > 0) {
    parents = new Array<string>(count)
    for (let i = 0; i < count; i++) {
      const n = bytes[at]
      if (n === undefined || at + 1 + n > bytes.length) throw truncatedMeta(id)
      parents[i] = asciiString(bytes, at + 1, at += 1 + n)
    }
  }
  const out = into ?? { seq: 0, index: 0, prev: null, parents }
  out.seq = float64At(bytes, 33)
  out.index = float64At(bytes, 49)
  out.prev = prev === '' ? null : prev
  out.parents = parents
  return out
}

const truncatedMeta = (id: string): MetaRecordError => new MetaRecordError(`metadata record of ${id} is truncated`)

/** CIDs are ASCII (base32); TextDecoder's fast path is the cheapest way to a string here (measured). */
function asciiString (bytes: Uint8Array, start: number, end: number): string {
  return start === end ? '' : text.decode(bytes.subarray(start, end))
}
