import type { EntryMeta } from '@govmesh/core'
import { encodeMetaRecord } from '../../src/meta-record.js'
import type { StoredEntry } from '../../src/store.js'

/**
 * A stored entry with a made-up id and bytes (the store indexes what the core accepted, it does
 * not validate), with the metadata record the store writes beside it and locates it by.
 */
export function fakeStoredEntry (id: string, author: string, seq: number, bytes: Uint8Array): StoredEntry {
  const meta = { id, author, seq, type: 'exec.request', prev: null, parents: [], time: 0, govHeads: [], index: 0 }
  return { id, bytes, author, seq, deps: [], meta: encodeMetaRecord(meta as unknown as EntryMeta) }
}
