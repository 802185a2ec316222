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

export function decodeMetaRecord (id: string, bytes: Uint8Array): EntryMeta {
  if (bytes[0] !== RECORD_VERSION || bytes.length < 62) {
    throw new MetaRecordError(`metadata record of ${id} is malformed`)
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let at = 57
  const getString = (): string => {
    const n = bytes[at]
    if (n === undefined || at + 1 + n > bytes.length) throw new MetaRecordError(`metadata record of ${id} is truncated`)
    const s = text.decode(bytes.subarray(at + 1, at + 1 + n))
    at += 1 + n
    return s
  }
  const getList = (): string[] => {
    if (at + 2 > bytes.length) throw new MetaRecordError(`metadata record of ${id} is truncated`)
    const n = dv.getUint16(at)
    at += 2
    return Array.from({ length: n }, getString)
  }
  const type = getString() as EntryType
  const prev = getString()
  const parents = getList()
  const govHeads = getList()
  return new StoredMeta(id, Buffer.from(bytes.subarray(1, 33)).toString('hex'), dv.getFloat64(33), type,
    prev === '' ? null : prev, parents, dv.getFloat64(41), govHeads, dv.getFloat64(49))
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
  if (bytes[0] !== RECORD_VERSION || bytes.length < 62) {
    throw new MetaRecordError(`metadata record of ${id} is malformed`)
  }
  const seq = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat64(33)
  return { author: Buffer.from(bytes.subarray(1, 33)).toString('hex'), seq }
}

/** What a walk over records needs of an entry: its links, and its places in its chain and in acceptance order. */
export interface MetaLinks {
  seq: number
  index: number
  prev: string | null
  parents: string[]
}

/**
 * The links of a metadata record, without its type and governance context: a proof export
 * decodes a record per entry of the closure, and these are all it needs.
 */
export function decodeMetaLinks (id: string, bytes: Uint8Array): MetaLinks {
  if (bytes[0] !== RECORD_VERSION || bytes.length < 62) {
    throw new MetaRecordError(`metadata record of ${id} is malformed`)
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  // After the type (u8 length + ASCII): the prev, then the parents.
  let at = 58 + bytes[57]!
  const getString = (): string => {
    const n = bytes[at]
    if (n === undefined || at + 1 + n > bytes.length) throw new MetaRecordError(`metadata record of ${id} is truncated`)
    const s = text.decode(bytes.subarray(at + 1, at + 1 + n))
    at += 1 + n
    return s
  }
  const prev = getString()
  if (at + 2 > bytes.length) throw new MetaRecordError(`metadata record of ${id} is truncated`)
  const count = dv.getUint16(at)
  at += 2
  const parents = new Array<string>(count)
  for (let i = 0; i < count; i++) parents[i] = getString()
  return { seq: dv.getFloat64(33), index: dv.getFloat64(49), prev: prev === '' ? null : prev, parents }
}
