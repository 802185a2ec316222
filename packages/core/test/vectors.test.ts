import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  createDag, createEntry, decodeEntry, decodeKeyFile, fromHex, nobleCrypto, peerIdFromPublicKey,
  signingBytes, toHex, execRequestBody
} from '../src/index.js'
import { nodeCrypto } from '../src/node-crypto.js'

interface VectorEntry {
  name: string, type: string, author: string, seq: number, cid: string, signingBytes: string, sig: string, bytes: string
}
const vectors = JSON.parse(
  readFileSync(new URL('./vectors/entries.json', import.meta.url), 'utf8')
) as { meshId: string, entries: VectorEntry[] }
const keys = JSON.parse(
  readFileSync(new URL('./vectors/key.json', import.meta.url), 'utf8')
) as Record<string, { publicKey: string, secretKey: string, peerId: string } | string>

describe('test vectors', () => {
  it('key files decode to their public keys and PeerIds', () => {
    for (const name of ['governor', 'member', 'newcomer']) {
      const file = keys[name] as { publicKey: string, peerId: string }
      const pair = decodeKeyFile(JSON.stringify(file))
      expect(toHex(pair.publicKey)).toBe(file.publicKey)
      expect(peerIdFromPublicKey(pair.publicKey)).toBe(file.peerId)
    }
  })

  for (const provider of [nobleCrypto, nodeCrypto]) {
    it(`every entry decodes, verifies and hashes to its CID (${provider.name})`, () => {
      for (const v of vectors.entries) {
        const signed = decodeEntry(fromHex(v.bytes), { crypto: provider })
        expect(signed.id, v.name).toBe(v.cid)
        expect(signed.entry.type).toBe(v.type)
        expect(toHex(signed.entry.author)).toBe(v.author)
        expect(signed.entry.seq).toBe(v.seq)
        expect(toHex(signed.entry.sig)).toBe(v.sig)
        expect(toHex(signingBytes(signed.entry))).toBe(v.signingBytes)
        expect(provider.verify(fromHex(v.sig), fromHex(v.signingBytes), fromHex(v.author))).toBe(true)
      }
    })
  }

  it('re-signing the decoded fields with the same key reproduces the bytes exactly', () => {
    const byKey = new Map<string, ReturnType<typeof decodeKeyFile>>()
    for (const name of ['governor', 'member', 'newcomer']) {
      const pair = decodeKeyFile(JSON.stringify(keys[name]))
      byKey.set(toHex(pair.publicKey), pair)
    }
    for (const v of vectors.entries) {
      const { entry } = decodeEntry(fromHex(v.bytes))
      const { sig: _sig, author: _author, v: _v, ...init } = entry
      const again = createEntry(init, byKey.get(v.author)!)
      expect(toHex(again.bytes), v.name).toBe(v.bytes)
    }
  })

  it('the entries form a valid DAG whose mesh id is the genesis CID', () => {
    const [genesis, ...rest] = vectors.entries
    const dag = createDag({ genesis: fromHex(genesis!.bytes) })
    expect(dag.meshIdString).toBe(vectors.meshId)
    for (const v of rest) expect(dag.add(fromHex(v.bytes)).status, v.name).toBe('accepted')
    expect(dag.size).toBe(vectors.entries.length)
  })

  it('a single flipped bit in any entry is rejected', () => {
    for (const v of vectors.entries) {
      const bytes = fromHex(v.bytes)
      const at = bytes.length - 10 // inside the signature
      bytes[at] = bytes[at]! ^ 1
      expect(() => decodeEntry(bytes), v.name).toThrow(/signature/)
    }
  })
})

describe('signing bytes', () => {
  it('the fast path over canonical bytes equals encoding the unsigned map (verified through decodeEntry)', () => {
    // decodeEntry verifies with the bytes cut from the canonical encoding; the vectors'
    // signingBytes were produced by encoding. Both must verify the same signature.
    for (const v of vectors.entries) {
      const signed = decodeEntry(fromHex(v.bytes), { crypto: nodeCrypto })
      expect(toHex(signingBytes(signed.entry))).toBe(v.signingBytes)
    }
  })

  it('the fast path handles every seq integer width', () => {
    const keys = decodeKeyFile(
      JSON.stringify(
        (
          JSON.parse(readFileSync(new URL('./vectors/key.json', import.meta.url), 'utf8')) as Record<string, unknown>
        ).member
      )
    )
    const mesh = decodeEntry(fromHex(vectors.entries[0]!.bytes)).cid
    for (const seq of [2, 23, 24, 255, 256, 65535, 65536, 2 ** 32, 2 ** 40]) {
      const e = createEntry(
        {
          mesh, seq, prev: mesh, parents: [], type: 'exec.request',
          body: execRequestBody({ action: 'echo', resource: 'r', target: 'zone:a', payload: { n: seq }, nonce: 'x' }),
          time: 1
        },
        keys
      )
      expect(decodeEntry(e.bytes, { crypto: nodeCrypto }).id).toBe(e.id)
      const tampered = Uint8Array.from(e.bytes)
      tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 1
      expect(() => decodeEntry(tampered, { crypto: nodeCrypto })).toThrow()
    }
  })
})

interface NegativeVector { name: string, stage: 1 | 2, error: string, bytes: string }
const negatives = JSON.parse(
  readFileSync(new URL('./vectors/invalid-entries.json', import.meta.url), 'utf8')
) as { meshId: string, entries: NegativeVector[] }

describe('negative vectors: every invalid entry gets its error code', () => {
  it('covers both stages and every stage-1 decoding rule', () => {
    expect(negatives.entries.filter(v => v.stage === 1).length).toBeGreaterThanOrEqual(20)
    expect(negatives.entries.filter(v => v.stage === 2).length).toBeGreaterThanOrEqual(6)
  })
  for (const provider of [nobleCrypto, nodeCrypto]) {
    it(`stage 1 (${provider.name})`, () => {
      for (const v of negatives.entries.filter(x => x.stage === 1)) {
        let code: string | undefined
        try {
          decodeEntry(fromHex(v.bytes), { crypto: provider })
        } catch (err) { code = (err as { code?: string }).code }
        expect(code, v.name).toBe(v.error)
      }
    })
  }
  it('stage 2, offered to a verifier holding entries.json', () => {
    const [genesis, ...rest] = vectors.entries
    for (const v of negatives.entries.filter(x => x.stage === 2)) {
      const dag = createDag({ genesis: fromHex(genesis!.bytes) })
      for (const e of rest) dag.add(fromHex(e.bytes))
      let code: string | undefined
      try { dag.add(fromHex(v.bytes)) } catch (err) { code = (err as { code?: string }).code }
      expect(code, v.name).toBe(v.error)
    }
  })
  it('entries.json records the verdict of offering each entry in order', () => {
    const [genesis, ...rest] = vectors.entries as Array<VectorEntry & { verdict: string }>
    expect(genesis!.verdict).toBe('accepted')
    const dag = createDag({ genesis: fromHex(genesis!.bytes) })
    for (const v of rest) expect(dag.add(fromHex(v.bytes)).status, v.name).toBe(v.verdict)
  })
})
