// Sealed-entry vectors (protocol v2, docs/PROTOCOL.md §24): one batch of three execution records.
import {
  createDag, execRequestBody, merklePath, nextSealedEntries, nobleCrypto, sealLeaf, sealSigningBytes, toHex,
  type KeyPair, type SignedEntry
} from '../../packages/core/src/index.js'

export interface SealedVectors {
  root: string
  count: number
  sealSigningBytes: string
  sig: string
  entries: Array<{ name: string, seq: number, index: number, leaf: string, path: string[], cid: string, bytes: string }>
}

/** A batch of three `exec.request` records by `member`, on a DAG holding only `genesis`. */
export function sealedVectors (genesis: SignedEntry<'mesh.genesis'>, member: KeyPair, time: number): SealedVectors {
  const dag = createDag({ genesis })
  const records = [0, 1, 2].map(n => ({
    type: 'exec.request' as const,
    body: execRequestBody({ action: 'echo', resource: `vectors/${n}`, target: 'zone:a', nonce: `sealed-${n}` }),
    time: time + n
  }))
  const batch = nextSealedEntries(dag, member, records, nobleCrypto)
  const leaves = batch.map((e, i) => sealLeaf(e.entry, i, nobleCrypto))
  const first = batch[0]!.entry
  return {
    root: toHex(first.seal!.root),
    count: batch.length,
    sealSigningBytes: toHex(sealSigningBytes({
      mesh: genesis.cid, author: member.publicKey, root: first.seal!.root, count: batch.length
    })),
    sig: toHex(first.sig),
    entries: batch.map((e, i) => ({
      name: `exec.request ${i + 1} of 3`,
      seq: e.entry.seq,
      index: i,
      leaf: toHex(leaves[i]!),
      path: merklePath(leaves, i, nobleCrypto.sha256).map(toHex),
      cid: e.id,
      bytes: toHex(e.bytes)
    }))
  }
}
