// Invalid entries and invalid proofs, each with the error code every verifier must give.
import * as dagCbor from '@ipld/dag-cbor'
import { CarBufferWriter } from '@ipld/car'
import {
  concatBytes, createDag, createEntry, createGenesis, encodeEntry, ENTRY_SIGNATURE_DOMAIN, execRequestBody,
  nextEntry, nextPosition, nobleCrypto, toHex, type CID, type Dag, type EntryInit, type KeyPair, type SignedEntry
} from '../../packages/core/src/index.js'

export interface NegativeEntry { name: string, stage: 1 | 2, error: string, bytes: string }
export interface ProofVector {
  name: string, root: string, expect?: string, valid: boolean, reason?: string, car: string
}

const PLACEHOLDER = new Uint8Array(16).fill(0xee)
const PLACEHOLDER_CBOR = toHex(dagCbor.encode(PLACEHOLDER))

/**
 * An exec.request whose payload is replaced by raw CBOR, signed over the same raw
 * bytes, so stage 1 fails on the encoding and never on the signature.
 */
function withRawPayload (dag: Dag, keys: KeyPair, rawHex: string, time: number): Uint8Array {
  const init: EntryInit<'exec.request'> = {
    ...nextPosition(dag, toHex(keys.publicKey)),
    type: 'exec.request',
    body: execRequestBody({ action: 'echo', resource: 'r', target: 'zone:a', payload: PLACEHOLDER, nonce: 'neg' }),
    time
  }
  const unsigned = { v: 1 as const, ...init, parents: init.parents ?? [], author: keys.publicKey }
  const swap = (bytes: Uint8Array): Uint8Array => {
    const hex = toHex(bytes)
    if (!hex.includes(PLACEHOLDER_CBOR)) throw new Error('placeholder not found')
    return Uint8Array.from(Buffer.from(hex.replace(PLACEHOLDER_CBOR, rawHex), 'hex'))
  }
  const sig = nobleCrypto.sign(concatBytes(ENTRY_SIGNATURE_DOMAIN, swap(dagCbor.encode(unsigned))), keys.secretKey)
  return swap(encodeEntry({ ...unsigned, sig }))
}

const nest = (n: number): string => '81'.repeat(n) + '01'

export function negativeEntries (
  dag: Dag, keys: { governor: KeyPair, member: KeyPair, newcomer: KeyPair, outsider: KeyPair }, t: number
): NegativeEntry[] {
  const raw = (name: string, error: string, hex: string): NegativeEntry =>
    ({ name, stage: 1, error, bytes: toHex(withRawPayload(dag, keys.member, hex, t)) })
  const valid = nextEntry(
    dag, keys.member,
    {
      type: 'exec.request', body: execRequestBody({ action: 'echo', resource: 'r', target: 'zone:a', nonce: 'ok' }),
      time: t
    }
  )
  const flipped = Uint8Array.from(valid.bytes)
  flipped[flipped.length - 1] = flipped.at(-1)! ^ 1
  const out: NegativeEntry[] = [
    {
      name: 'truncated', stage: 1, error: 'entry.malformed',
      bytes: toHex(valid.bytes.subarray(0, valid.bytes.length - 1))
    },
    {
      name: 'trailing byte', stage: 1, error: 'entry.malformed',
      bytes: toHex(concatBytes(valid.bytes, Uint8Array.of(0)))
    },
    { name: 'flipped signature bit', stage: 1, error: 'entry.bad-signature', bytes: toHex(flipped) },
    raw('integer in a non-minimal form (24 as 0x19 0x00 0x18)', 'entry.non-canonical', '190018'),
    raw('integer 2^53 (beyond the exact range)', 'entry.malformed', '1b0020000000000000'),
    raw('negative integer -2^53', 'entry.malformed', '3b001fffffffffffff'),
    raw('integral float 4.0', 'entry.non-canonical', 'fb4010000000000000'),
    raw('integral float 2^60 (outside the safe range)', 'entry.non-canonical', 'fb43b0000000000000'),
    raw('negative zero float', 'entry.non-canonical', 'fb8000000000000000'),
    raw('16-bit float', 'entry.non-canonical', 'f93c00'),
    raw('NaN', 'entry.malformed', 'fb7ff8000000000000'),
    raw('undefined', 'entry.malformed', 'f7'),
    raw('map keys out of order', 'entry.non-canonical', 'a2616201616102'),
    raw('duplicate map key', 'entry.malformed', 'a2616101616102'),
    raw('map key __proto__', 'entry.malformed', 'a1695f5f70726f746f5f5f01'),
    raw('non-text map key', 'entry.malformed', 'a10101'),
    raw('invalid UTF-8', 'entry.malformed', '62c328'),
    raw('indefinite-length array', 'entry.malformed', '9f01ff'),
    raw('tag other than 42', 'entry.malformed', 'c11a514b67b0'),
    raw('CID with a non-minimal multihash length varint', 'entry.non-canonical',
      'd82a582600017112a000' + 'ab'.repeat(32)),
    raw('nesting 65 deep', 'entry.malformed', nest(63)),
    {
      name: 'larger than 262144 bytes', stage: 1, error: 'entry.too-large',
      bytes: toHex(withRawPayload(dag, keys.member, '5a00040000' + '00'.repeat(262144), t))
    }
  ]
  const pos = (k: KeyPair): ReturnType<typeof nextPosition> => nextPosition(dag, toHex(k.publicKey))
  const exec = execRequestBody({ action: 'echo', resource: 'r', target: 'zone:a', nonce: 'stage2' })
  const stage2 = (name: string, error: string, e: SignedEntry): NegativeEntry => (
    { name, stage: 2, error, bytes: toHex(e.bytes) }
  )
  const other = createGenesis(
    { name: 'other', governors: [keys.governor.publicKey], members: [], time: t }, keys.governor
  )
  out.push(
    stage2(
      'another mesh', 'entry.wrong-mesh',
      createEntry({ ...pos(keys.member), mesh: other.cid, type: 'exec.request', body: exec, time: t }, keys.member)
    ),
    stage2(
      'seq gap', 'entry.seq-gap',
      createEntry(
        { ...pos(keys.member), seq: pos(keys.member).seq + 1, type: 'exec.request', body: exec, time: t }, keys.member
      )
    ),
    stage2(
      'prev at seq 1', 'entry.wrong-prev',
      createEntry({ ...pos(keys.outsider), prev: dag.meshId, type: 'exec.request', body: exec, time: t }, keys.outsider)
    ),
    stage2(
      'not a member', 'entry.not-member',
      createEntry({ ...pos(keys.outsider), type: 'exec.request', body: exec, time: t }, keys.outsider)
    ),
    stage2(
      'policy.update by a member', 'entry.not-governor',
      createEntry(
        { ...pos(keys.member), type: 'policy.update', body: { update: Uint8Array.of(0, 0) }, time: t }, keys.member
      )
    ),
    stage2(
      'past the removal cut', 'entry.cut-exceeded',
      createEntry({ ...pos(keys.newcomer), type: 'exec.request', body: exec, time: t }, keys.newcomer)
    ),
    stage2('a second genesis', 'entry.genesis', other)
  )
  return out
}

function car (root: CID, blocks: SignedEntry[]): string {
  const size = blocks.reduce((n, b) => n + b.bytes.length + 64, 0)
  const buffer = new Uint8Array(size + CarBufferWriter.headerLength({ roots: [root] }) + 64)
  const writer = CarBufferWriter.createWriter(buffer.buffer, { roots: [root] })
  for (const b of blocks) writer.write({ cid: b.cid, bytes: b.bytes })
  return toHex(writer.close({ resize: true }))
}

/** `entries` are the vector mesh's entries (genesis first, member.remove of the newcomer last). */
export function proofVectors (
  entries: SignedEntry[], keys: { member: KeyPair, newcomer: KeyPair }, t: number
): ProofVector[] {
  const genesis = entries[0] as SignedEntry<'mesh.genesis'>
  const dag = createDag({ genesis })
  for (const e of entries.slice(1)) dag.add(e)
  const closure = (d: Dag, id: string): SignedEntry[] => d.ancestry(id).reverse().map(x => d.getEntry(x)!)
  const request = nextEntry(
    dag, keys.member,
    {
      type: 'exec.request', body: execRequestBody({ action: 'echo', resource: 'r', target: 'zone:a', nonce: 'p1' }),
      time: t
    }
  )
  dag.add(request)
  const selfReport = nextEntry(
    dag, keys.member,
    {
      type: 'trust.fail',
      body: { subject: keys.member.publicKey, reason: 'self test', detector: 'manual', evidence: null }, time: t + 1
    }
  )
  dag.add(selfReport)
  const quarantined = nextEntry(
    dag, keys.member,
    {
      type: 'exec.request', body: execRequestBody({ action: 'echo', resource: 'r', target: 'zone:a', nonce: 'p2' }),
      time: t + 2
    }
  )
  dag.add(quarantined)
  // The newcomer writes while its removal is under way: valid in its causal past, revoked by the cut.
  const early = createDag({ genesis })
  early.add(entries[1]!)
  const late = nextEntry(
    early, keys.newcomer,
    {
      type: 'exec.request', body: execRequestBody({ action: 'echo', resource: 'r', target: 'zone:b', nonce: 'p3' }),
      time: t + 3
    }
  )

  const good = closure(dag, request.id)
  const tampered = good.map(
    b => b.id === good[1]!.id ? { ...b, bytes: Uint8Array.from(b.bytes, (x, i) => i === 20 ? x ^ 1 : x) } : b
  )
  const v = (
    name: string, root: SignedEntry, blocks: SignedEntry[], valid: boolean, reason?: string, expect?: SignedEntry
  ): ProofVector =>
    (
      {
        name, root: root.id, ...(expect !== undefined ? { expect: expect.id } : {}), valid,
        ...(reason !== undefined ? { reason } : {}), car: car(root.cid, blocks)
      }
    )
  return [
    v('an exec.request with its ancestry, oldest first', request, good, true),
    v('the same blocks newest first', request, [...good].reverse(), true),
    v(
      'without the genesis block (it comes from the genesis file)', request, good.filter(b => b.id !== genesis.id), true
    ),
    v('a policy.update by a governor who is not a member', entries[2]!, closure(dag, entries[2]!.id), true),
    v('a block whose bytes do not hash to its CID', request, tampered, false, 'proof.cid-mismatch'),
    v('an ancestor missing', request, good.filter(b => b.entry.type !== 'member.admit'), false, 'proof.incomplete'),
    v('the root missing', request, good.filter(b => b.id !== request.id), false, 'proof.missing-root'),
    v('a root other than the expected one', request, good, false, 'proof.unexpected-root', selfReport),
    v(
      'an execution by a member quarantined in its causal past', quarantined, closure(dag, quarantined.id), false,
      'proof.untrusted-hop'
    ),
    v(
      'an entry past its author\'s removal cut, with the removal', late, [...entries, late], false, 'entry.cut-exceeded'
    ),
    v('the same, newest first', late, [late, ...[...entries].reverse()], false, 'entry.cut-exceeded')
  ]
}

