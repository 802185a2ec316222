/**
 * The metadata record (x!, meta-record.ts): what a full decode and the in-place links decode of a
 * proof export read back is what was written, and a truncated or malformed record is damage.
 */
import { describe, expect, it } from 'vitest'
import type { EntryMeta } from '@govmesh/core'
import { decodeMetaLinks, decodeMetaRecord, encodeMetaRecord, MetaRecordError } from '../src/meta-record.js'

const cid = (n: number): string => 'bafyrei' + String(n).padStart(52, 'a')
const meta = (parents: string[], prev: string | null): EntryMeta => ({
  id: cid(0), cid: undefined as unknown as EntryMeta['cid'], author: 'ab'.repeat(32), seq: 7, type: 'exec.request',
  prev, parents, time: 1_767_225_600_123, govHeads: [cid(9)], index: 2 ** 40 + 3
})

describe('metadata records', () => {
  it('the links decode reads what the full decode reads, with and without prev and parents', () => {
    for (const m of [meta([], cid(1)), meta([cid(2), cid(3)], cid(1)), meta([cid(4)], null), meta([], null)]) {
      const record = encodeMetaRecord(m)
      const full = decodeMetaRecord(m.id, record)
      const links = { seq: full.seq, index: full.index, prev: full.prev, parents: full.parents }
      expect(decodeMetaLinks(m.id, record)).toEqual(links)
      expect(full).toMatchObject({ seq: 7, index: 2 ** 40 + 3, prev: m.prev, parents: m.parents, time: m.time })
    }
  })

  it('a truncated or malformed record is damage, never a wrong answer', () => {
    const record = encodeMetaRecord(meta([cid(2), cid(3)], cid(1)))
    for (let cut = 0; cut < record.length; cut += 7) {
      const short = record.subarray(0, cut)
      // Cut inside the governance heads the links do not read: then the links are still whole.
      const links = (() => { try { return decodeMetaLinks('x', short) } catch (err) { return err } })()
      if (links instanceof Error) expect(links).toBeInstanceOf(MetaRecordError)
      else expect(links).toEqual(decodeMetaLinks('x', record))
    }
    const wrongVersion = record.slice()
    wrongVersion[0] = 9
    expect(() => decodeMetaLinks('x', wrongVersion)).toThrow('metadata record of x is malformed')
  })
})
