/**
 * Entry CIDs from their strings without multiformats' parser (parseEntryCid, writeEntryCidBytes):
 * the same CID as CID.parse for every entry CID string cidString writes, and anything else goes to
 * CID.parse (or is refused by it), never decoded into other bytes.
 */
import { describe, expect, it } from 'vitest'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import * as raw from 'multiformats/codecs/raw'
import { cidOfBytes, cidString, parseEntryCid, writeEntryCidBytes } from '../src/index.js'

const entryCids = Array.from({ length: 200 }, (_, i) => cidOfBytes(new TextEncoder().encode(`entry ${i}`)))

describe('entry CIDs parsed from their strings', () => {
  it('gives the CID the string names, for every entry CID', () => {
    for (const cid of entryCids) {
      const id = cidString(cid)
      const parsed = parseEntryCid(id)
      expect(parsed.equals(cid)).toBe(true)
      expect(parsed.toString()).toBe(id)
      const out = new Uint8Array(40)
      expect(writeEntryCidBytes(id, out, 3)).toBe(true)
      expect(out.subarray(3, 39)).toEqual(cid.bytes)
    }
  })

  it('leaves other CIDs and non-canonical strings to CID.parse', async () => {
    const other = CID.createV1(raw.code, await sha256.digest(new Uint8Array([1, 2, 3])))
    const out = new Uint8Array(36)
    expect(writeEntryCidBytes(other.toString(), out, 0)).toBe(false)
    expect(parseEntryCid(other.toString()).equals(other)).toBe(true)
    const id = cidString(entryCids[0]!)
    // The last digit carries 4 padding bits: a string whose padding is not zero is not cidString's form.
    const last = 'abcdefghijklmnopqrstuvwxyz234567'.indexOf(id.at(-1)!)
    const padded = id.slice(0, -1) + 'abcdefghijklmnopqrstuvwxyz234567'[last | 1]!
    if (padded !== id) expect(writeEntryCidBytes(padded, out, 0)).toBe(false)
    expect(writeEntryCidBytes(id.toUpperCase(), out, 0)).toBe(false)
    expect(() => parseEntryCid('not a cid')).toThrow()
  })
})
