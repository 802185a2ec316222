/**
 * Shared test helpers: deterministic keys, a mesh (governors, members, genesis with
 * a policy), an `Author` that writes through `nextEntry`, raw signing for
 * hand-crafted entries, and typed-error assertions.
 */
import * as Y from 'yjs'
import * as dagCbor from '@ipld/dag-cbor'
import { expect } from 'vitest'
import {
  CID, approveRestore, createDag, createGenesis, encodeEntry, keyPairFromSecret, nextEntry, nextSealedEntries,
  nobleCrypto, parsePolicyDocument, policyUpdateFor, signingBytes, sortCids, toHex, utf8,
  BadSignatureError, CutExceededError, EntryTooLargeError, GenesisError, GovmeshError,
  InvalidArgumentError, InvalidEvidenceError, InvalidKeyError, MalformedEntryError,
  NonCanonicalError, NotGovernorError, NotMemberError, ParentInvalidError, PendingFullError,
  PolicySchemaError, RestoreQuorumError, GovernanceQuorumError, SeqGapError, UnknownFailureError, UnknownTypeError,
  BadSealError, SealChainError,
  WrongMeshError, WrongPrevError,
  type CryptoProvider, type Dag, type Entry, type EntryBody, type EntryType,
  type ExecRequestBody, type GovmeshErrorClass, type KeyPair, type PolicyDocument, type SignedEntry,
  type TrustFailBody, type TrustRestoreBody,
  execRequestBody
} from '../src/index.js'
import { nodeCrypto } from '../src/node-crypto.js'

export { nodeCrypto }

/** A key pair derived from a label, identical on every run. */
export function seedKey (label: string): KeyPair {
  return keyPairFromSecret(nobleCrypto.sha256(utf8(`govmesh-test/${label}`)))
}

export const hex = toHex

/** A policy that allows everything, so DAG tests never depend on policy content. */
export const ALLOW_ALL: PolicyDocument = parsePolicyDocument({
  rules: [{ id: 'allow-all', effect: 'allow', principals: ['*'], actions: ['*'] }]
})

/**
 * Re-writes a policy update produced by `policyUpdateFor` (whose Y.Doc has a random
 * clientID) into the same top-level maps of a Y.Doc with a fixed clientID, so the
 * bytes (and hence genesis CIDs) are identical on every run.
 */
export function fixedClientUpdate (update: Uint8Array, clientID: number): Uint8Array {
  const src = new Y.Doc()
  Y.applyUpdate(src, update)
  const dst = new Y.Doc()
  dst.clientID = clientID
  dst.transact(() => {
    for (const name of [...src.share.keys()].sort()) {
      const from = src.getMap(name)
      const to = dst.getMap(name)
      for (const k of [...from.keys()].sort()) {
        const v = from.get(k)
        to.set(k, v instanceof Y.AbstractType ? v.toJSON() : v)
      }
    }
  })
  return Y.encodeStateAsUpdate(dst)
}

/** A deterministic Yjs update carrying a policy document (for genesis). */
export function policyBytes (doc: PolicyDocument, clientID = 1): Uint8Array {
  const update = policyUpdateFor(null, doc)
  if (update === null) throw new Error('policyUpdateFor returned null for a fresh document')
  return fixedClientUpdate(update, clientID)
}

export interface MeshOptions {
  /** Prefix of key labels; meshes with the same label share keys. */
  label?: string
  name?: string
  governors?: number
  members?: number
  /** Zone of member i is zones[i % zones.length]. */
  zones?: string[]
  quorums?: { fail?: number, restore?: number }
  /** Genesis policy; null for none. Default ALLOW_ALL. */
  policy?: PolicyDocument | null
  crypto?: CryptoProvider
  time?: number
}

export interface Mesh {
  genesis: SignedEntry<'mesh.genesis'>
  meshId: CID
  governors: KeyPair[]
  members: KeyPair[]
  /** Keys that are not (yet) members, by index; derived from the same label. */
  outsider: (i: number) => KeyPair
  crypto: CryptoProvider
  /** Strictly increasing fake clock (ms), deterministic per mesh. */
  clock: () => number
  /** A fresh replica holding only the genesis. */
  dag: (crypto?: CryptoProvider) => Dag
  author: (keys: KeyPair, dag: Dag) => Author
}

export function buildMesh (opts: MeshOptions = {}): Mesh {
  const label = opts.label ?? 'mesh'
  const crypto = opts.crypto ?? nodeCrypto
  const governors = Array.from({ length: opts.governors ?? 1 }, (_, i) => seedKey(`${label}/gov/${i}`))
  const members = Array.from({ length: opts.members ?? 3 }, (_, i) => seedKey(`${label}/member/${i}`))
  const zones = opts.zones ?? ['a']
  let now = opts.time ?? 1_700_000_000_000
  const clock = (): number => ++now
  const policy = opts.policy === undefined ? ALLOW_ALL : opts.policy
  const genesis = createGenesis({
    name: opts.name ?? label,
    governors: governors.map(g => g.publicKey),
    members: members.map((m, i) => ({ key: m.publicKey, zone: zones[i % zones.length]! })),
    quorums: opts.quorums ?? {},
    policy: policy === null ? new Uint8Array() : policyBytes(policy),
    time: clock()
  }, governors[0]!, crypto)
  const mesh: Mesh = {
    genesis,
    meshId: genesis.cid,
    governors,
    members,
    outsider: (i) => seedKey(`${label}/outsider/${i}`),
    crypto,
    clock,
    dag: (c = crypto) => createDag({ genesis: genesis.bytes, crypto: c }),
    author: (keys, dag) => new Author(keys, dag, mesh)
  }
  return mesh
}

/** Writes entries for one key on top of one replica, via `nextEntry`. */
export class Author {
  constructor (readonly keys: KeyPair, public dag: Dag, readonly mesh: Mesh) {}

  get hex (): string { return toHex(this.keys.publicKey) }

  /** Builds (does not add) this author's next entry on its replica. */
  next<T extends EntryType> (type: T, body: EntryBody<T>, parents?: CID[]): SignedEntry<T> {
    return nextEntry(this.dag, this.keys, { type, body, parents, time: this.mesh.clock() }, this.mesh.crypto)
  }

  /** Builds the next entry and adds it to the replica; throws unless it is accepted. */
  write<T extends EntryType> (type: T, body: EntryBody<T>, parents?: CID[]): SignedEntry<T> {
    const s = this.next(type, body, parents)
    const r = this.dag.add(s.bytes)
    if (r.status !== 'accepted') throw new Error(`expected accepted, got ${r.status} (missing ${r.missing.join(',')})`)
    return s
  }

  exec (n = 0): SignedEntry<'exec.request'> { return this.write('exec.request', execBody(n)) }

  /** Seals `count` execution requests into one batch (protocol v2) and adds them; throws unless all are accepted. */
  sealed (count: number, n = 0): SignedEntry[] {
    const records = Array.from({ length: count }, (_, i) => ({
      type: 'exec.request' as const, body: execBody(n * 1000 + i), time: this.mesh.clock()
    }))
    const batch = nextSealedEntries(this.dag, this.keys, records, this.mesh.crypto)
    for (const e of batch) {
      const r = this.dag.add(e.bytes)
      if (r.status !== 'accepted') throw new Error(`expected accepted, got ${r.status} (missing ${r.missing.join(',')})`)
    }
    return batch
  }
  fail (subject: KeyPair | Uint8Array, reason = 'test'): SignedEntry<'trust.fail'> {
    return this.write('trust.fail', failBody(subject, reason))
  }
}

function keyOf (k: KeyPair | Uint8Array): Uint8Array { return k instanceof Uint8Array ? k : k.publicKey }

export function execBody (n = 0): ExecRequestBody {
  return execRequestBody({ action: 'echo', resource: `r/${n}`, target: 'zone:a', payload: { n }, nonce: `n${n}` })
}

export function failBody (subject: KeyPair | Uint8Array, reason = 'test'): TrustFailBody {
  return { subject: keyOf(subject), reason, detector: 'manual', evidence: null }
}

/** A trust.restore body clearing `clears`, approved by each of `approvers`. */
export function restoreBody (
  mesh: Mesh, subject: KeyPair | Uint8Array, clears: Array<SignedEntry | CID>, approvers: KeyPair[]
): TrustRestoreBody {
  const cids = sortCids(clears.map(c => CID.asCID(c) ?? (c as SignedEntry).cid))
  const s = { mesh: mesh.meshId, subject: keyOf(subject), clears: cids }
  return { subject: keyOf(subject), clears: cids, approvals: approvers.map(g => approveRestore(s, g)) }
}

/** Every accepted entry of `source` that `target` lacks, offered in `source`'s (causal) order. */
export function syncInto (target: Dag, source: Dag): void {
  for (const id of source.ids()) {
    if (!target.has(id)) target.add(source.getBytes(id)!)
  }
}

/** A replica of `source` built from its bytes. */
export function replicate (mesh: Mesh, source: Dag, crypto?: CryptoProvider): Dag {
  const d = mesh.dag(crypto)
  syncInto(d, source)
  return d
}

/** Signs arbitrary entry fields without the shape checks of createEntry (for hostile bytes). */
export function signRaw (
  fields: Record<string, unknown>, keys: KeyPair, crypto: CryptoProvider = nobleCrypto
): Uint8Array {
  const unsigned = { ...fields, author: keys.publicKey } as unknown as Omit<Entry, 'sig'>
  const sig = crypto.sign(signingBytes(unsigned), keys.secretKey)
  return encodeEntry({ ...unsigned, sig })
}

/** The bytes of one `key: value` pair as dag-cbor writes it inside a map. */
export function cborPair (key: string, value: unknown): Uint8Array {
  return dagCbor.encode({ [key]: value }).subarray(1)
}

/** A CBOR map (fewer than 24 entries) from already-encoded pairs, in the order given. */
export function cborMap (pairs: Uint8Array[]): Uint8Array {
  if (pairs.length >= 24) throw new Error('cborMap: too many pairs')
  const len = pairs.reduce((n, p) => n + p.length, 1)
  const out = new Uint8Array(len)
  out[0] = 0xa0 + pairs.length
  let off = 1
  for (const p of pairs) { out.set(p, off); off += p.length }
  return out
}

export const ERROR_CLASSES: Record<string, GovmeshErrorClass> = {
  MalformedEntryError, BadSignatureError, WrongMeshError, SeqGapError, WrongPrevError,
  NotMemberError, NotGovernorError, RestoreQuorumError, UnknownFailureError, EntryTooLargeError,
  NonCanonicalError, UnknownTypeError, CutExceededError, PendingFullError, GenesisError,
  InvalidEvidenceError, PolicySchemaError, InvalidKeyError, InvalidArgumentError, ParentInvalidError,
  GovernanceQuorumError, BadSealError, SealChainError
}

/** Asserts `err` is a GovmeshError of exactly the class `name` (and no other) with `code`. */
export function expectTyped (err: unknown, name: string, code: string, message?: RegExp): GovmeshError {
  const cls = ERROR_CLASSES[name]
  if (cls === undefined) throw new Error(`unknown error class ${name}`)
  expect(err).toBeInstanceOf(GovmeshError)
  expect(err).toBeInstanceOf(cls)
  const e = err as GovmeshError
  expect(e.name).toBe(name)
  expect(e.code).toBe(code)
  const matching = Object.entries(ERROR_CLASSES).filter(([, c]) => err instanceof c).map(([n]) => n)
  expect(matching).toEqual([name])
  if (message !== undefined) expect(e.message).toMatch(message)
  return e
}

/** Runs `fn`, asserting it throws the typed error `name` with `code`. */
export function expectThrows (fn: () => unknown, name: string, code: string, message?: RegExp): GovmeshError {
  let caught: unknown
  let threw = false
  try {
    fn()
  } catch (err) {
    threw = true
    caught = err
  }
  expect(threw, `expected ${name} to be thrown`).toBe(true)
  return expectTyped(caught, name, code, message)
}

/** A small deterministic PRNG (mulberry32) for shuffles driven by a fast-check integer. */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Fisher–Yates shuffle of a copy of `items` with a seeded PRNG. */
export function shuffle<T> (items: readonly T[], seed: number): T[] {
  const rnd = prng(seed)
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1))
    const t = out[i]!
    out[i] = out[j]!
    out[j] = t
  }
  return out
}
