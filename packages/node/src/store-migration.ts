import type { Level } from 'level'
import { decodeChainRecord, encodeChainRecord } from './chain-record.js'
import { chainKey, entryKey, metaKey } from './store-keys.js'

/** Entries moved per level batch (each batch is atomic: an entry is either moved or not). */
const MIGRATION_BATCH = 2000

type Db = Level<string, Uint8Array>

const text = new TextDecoder()
const utf8 = new TextEncoder()

/**
 * Schema 3 → 4: every entry of an author's chain (each `a!` key) moves from `e!<cid>` to its
 * chain record `h!<author>!<seq>` (CID, metadata record, bytes). Each batch puts the records and
 * deletes the `e!` keys it replaces, so an interrupted migration leaves every entry in exactly one
 * place; the next open moves the rest (an entry already moved is skipped) and finally writes
 * `m!schema` (`schema`). An `a!` key whose entry is in neither place is damage: `missing` names it and the
 * migration stops before the schema is written. Resolves with the number of entries moved.
 */
export async function moveToChainRecords (
  db: Db, schema: number, missing: (problem: string) => Error
): Promise<number> {
  let moved = 0
  const it = db.iterator({ gte: 'a!', lt: 'a"' })
  try {
    for (let rows = await it.nextv(MIGRATION_BATCH); rows.length > 0; rows = await it.nextv(MIGRATION_BATCH)) {
      const ops: Array<{ type: 'put', key: string, value: Uint8Array } | { type: 'del', key: string }> = []
      for (const [key, value] of rows) {
        const id = text.decode(value)
        // a!<author>!<seq>: the chain record takes the same author and seq.
        const [, author, seqHex] = key.split('!')
        const at = chainKey(author!, parseInt(seqHex!, 16))
        const bytes = db.getSync(entryKey(id))
        if (bytes === undefined) {
          const done = db.getSync(at)
          if (done !== undefined && decodeChainRecord(at, done).id === id) continue
          throw missing(`entry ${id} is missing (the author/seq index names it)`)
        }
        ops.push({ type: 'put', key: at, value: encodeChainRecord(id, bytes, db.getSync(metaKey(id))) })
        ops.push({ type: 'del', key: entryKey(id) })
        moved++
      }
      if (ops.length > 0) await db.batch(ops)
    }
  } finally {
    await it.close()
  }
  await db.batch([{ type: 'put', key: 'm!schema', value: utf8.encode(String(schema)) }], { sync: true })
  return moved
}
