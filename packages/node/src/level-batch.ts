import type { Level } from 'level'

/** A level write whose key and value are already in the store's formats (string key, bytes value). */
export type LevelOp = { type: 'put', key: string, value: Uint8Array } | { type: 'del', key: string }

/** The implementation method abstract-level calls once it has prepared a batch (see writeLevelBatch). */
interface DirectBatch {
  _batch: (ops: readonly LevelOp[], options: { sync: boolean }) => Promise<void>
}

/**
 * Writes one level batch of operations the store has already encoded. abstract-level's `batch()`
 * prepares every operation before handing the array to classic-level: an object spread, key and
 * value assertions, encoding look-ups, prefixing and the write event, for hooks, sublevels and
 * encodings the store does not use. In a node's profile under exec load that preparation was 7–12 %
 * of all CPU, more than its signature checks. The store's operations are exactly what classic-level's `_batch`
 * takes (a `type`, a string key, a Uint8Array value), so an open database gets them directly;
 * one that is not open (closing, closed) goes through `batch()` for its errors.
 *
 * @example
 * ```ts
 * await writeLevelBatch(db, [{ type: 'put', key: 'o!1', value: id }], false)
 * ```
 */
export async function writeLevelBatch (
  db: Level<string, Uint8Array>, ops: readonly LevelOp[], sync: boolean
): Promise<void> {
  if (ops.length === 0) return
  const direct = db as unknown as Partial<DirectBatch>
  if (db.status !== 'open' || typeof direct._batch !== 'function') {
    await db.batch(ops as LevelOp[], { sync })
    return
  }
  await direct._batch(ops, { sync })
}
