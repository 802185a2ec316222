import { ChainRecordError } from './chain-record.js'

/**
 * The store's chain pack (`g!<author>!<block>`, schema 5): the chain records of one author's
 * seqs 16·block + 1 … 16·block + 16, written as one value once the block is complete. A proof
 * export reads a chain whole, and one read of a pack costs LevelDB about what one read of a
 * record does: packed, a chain of 1,266 entries is 80 reads instead of 1,266.
 *
 * Bytes: version (u8 = 1), record count (u8 = 16), SHA-256 of the body (32 bytes), then the body:
 * per record, its length (u32 BE) and the chain record (chain-record.ts). The digest is checked on
 * every read, and every record's entry bytes were checked against its CID when the pack was
 * written, so a pack read whole vouches for the bytes of all its entries with one hash.
 */
const PACK_VERSION = 1
/** Records per pack: a read of one entry of a packed block reads this many (about 9 KB). */
export const PACK_RECORDS = 16
const HEADER = 2 + 32

/** The block of a seq: seqs 16·block + 1 … 16·block + 16. */
export const packOf = (seq: number): number => Math.floor((seq - 1) / PACK_RECORDS)

/**
 * A pack of `records` (exactly {@link PACK_RECORDS}, in seq order), its body hashed with `sha256`.
 *
 * @example
 * ```ts
 * const value = encodeChainPack(records, nodeCrypto.sha256)
 * ```
 */
export function encodeChainPack (records: readonly Uint8Array[], sha256: (b: Uint8Array) => Uint8Array): Uint8Array {
  if (records.length !== PACK_RECORDS) throw new ChainRecordError(`a chain pack holds ${PACK_RECORDS} records`)
  let size = HEADER
  for (const r of records) size += 4 + r.length
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  out[0] = PACK_VERSION
  out[1] = records.length
  let at = HEADER
  for (const r of records) {
    view.setUint32(at, r.length)
    out.set(r, at + 4)
    at += 4 + r.length
  }
  out.set(sha256(out.subarray(HEADER)), 2)
  return out
}

/**
 * The records of a pack read at `key` (named in the errors), views of `value`, in seq order.
 * A pack whose body does not hash to its digest, or that does not parse, is damage.
 */
export function decodeChainPack (
  key: string, value: Uint8Array, sha256: (b: Uint8Array) => Uint8Array
): Uint8Array[] {
  if (value.length < HEADER || value[0] !== PACK_VERSION || value[1] !== PACK_RECORDS) {
    throw new ChainRecordError(`chain pack ${key} is malformed`)
  }
  const digest = sha256(value.subarray(HEADER))
  for (let i = 0; i < 32; i++) {
    if (digest[i] !== value[2 + i]) throw new ChainRecordError(`chain pack ${key} does not hash to its digest`)
  }
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength)
  const records: Uint8Array[] = []
  let at = HEADER
  while (at < value.length) {
    if (at + 4 > value.length) throw new ChainRecordError(`chain pack ${key} is truncated`)
    const length = view.getUint32(at)
    if (at + 4 + length > value.length) throw new ChainRecordError(`chain pack ${key} is truncated`)
    records.push(value.subarray(at + 4, at + 4 + length))
    at += 4 + length
  }
  if (records.length !== PACK_RECORDS) throw new ChainRecordError(`chain pack ${key} holds ${records.length} records`)
  return records
}
