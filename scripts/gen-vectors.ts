// Regenerates packages/core/test/vectors/*.json from fixed seeds and times.
// Run: npx tsx scripts/gen-vectors.ts  (the vectors test fails if the format drifts)
import { writeFileSync } from 'node:fs'
import * as Y from 'yjs'
import {
  createGenesis, createDag, nextEntry, keyPairFromSecret, encodeKeyFile, toHex, signingBytes,
  approveRestore, type SignedEntry
} from '../packages/core/src/index.js'
import { negativeEntries, proofVectors } from './vectors/negative.js'
import { sealedVectors } from './vectors/sealed.js'

const seed = (n: number): Uint8Array => new Uint8Array(32).fill(n)
const governor = keyPairFromSecret(seed(1))
const member = keyPairFromSecret(seed(2))
const newcomer = keyPairFromSecret(seed(3))
const outsider = keyPairFromSecret(seed(4))
const T0 = 1_767_225_600_000 // 2026-01-01T00:00:00Z

const policyDoc = new Y.Doc()
policyDoc.clientID = 1
policyDoc.getMap('rules').set(
  'echo-local',
  {
    effect: 'allow', principals: ['local'], actions: ['echo'], resources: ['*'], zones: ['*'], maxHops: null,
    requireSigned: false
  }
)
const policyUpdate = Y.encodeStateAsUpdate(policyDoc)

const genesis = createGenesis({
  name: 'vectors',
  governors: [governor.publicKey],
  members: [{ key: member.publicKey, zone: 'a' }],
  quorums: { fail: 1, restore: 1 },
  policy: policyUpdate,
  time: T0
}, governor)
const dag = createDag({ genesis: genesis.bytes })
const entries: Array<{ name: string, signed: SignedEntry }> = [{ name: 'genesis', signed: genesis }]
const add = (name: string, signed: SignedEntry): SignedEntry => {
  dag.add(signed)
  entries.push({ name, signed })
  return signed
}
add(
  'member.admit',
  nextEntry(dag, governor, { type: 'member.admit', body: { member: newcomer.publicKey, zone: 'b' }, time: T0 + 1000 })
)
add(
  'policy.update', nextEntry(dag, governor, { type: 'policy.update', body: { update: policyUpdate }, time: T0 + 2000 })
)
const fail = add('trust.fail', nextEntry(dag, member, {
  type: 'trust.fail',
  body: {
    subject: newcomer.publicKey, reason: 'measurement not in allowlist', detector: 'measurement',
    evidence: { measurement: 'deadbeef' }
  },
  time: T0 + 3000
}))
const statement = { mesh: dag.meshId, subject: newcomer.publicKey, clears: [fail.cid] }
add('trust.restore', nextEntry(dag, governor, {
  type: 'trust.restore',
  body: { subject: newcomer.publicKey, clears: [fail.cid], approvals: [approveRestore(statement, governor)] },
  parents: [fail.cid],
  time: T0 + 4000
}))
add(
  'member.remove',
  nextEntry(
    dag, governor,
    { type: 'member.remove', body: { member: newcomer.publicKey, cut: 0, reason: 'decommissioned' }, time: T0 + 5000 }
  )
)

const dir = new URL('../packages/core/test/vectors/', import.meta.url)
writeFileSync(new URL('key.json', dir), JSON.stringify({
  description: 'Ed25519 keys derived from fixed 32-byte seeds (0x01.., 0x02.., 0x03..)',
  governor: encodeKeyFile(governor),
  member: encodeKeyFile(member),
  newcomer: encodeKeyFile(newcomer)
}, null, 2) + '\n')
writeFileSync(new URL('entries.json', dir), JSON.stringify({
  description: 'Signed lineage entries of one mesh, in causal order. bytes = canonical dag-cbor of the signed entry; signingBytes = what the Ed25519 signature covers; cid = CIDv1 dag-cbor sha2-256 of bytes.',
  meshId: genesis.id,
  entries: entries.map(({ name, signed }) => ({
    name,
    verdict: 'accepted',
    type: signed.entry.type,
    author: toHex(signed.entry.author),
    seq: signed.entry.seq,
    cid: signed.id,
    signingBytes: toHex(signingBytes(signed.entry)),
    sig: toHex(signed.entry.sig),
    bytes: toHex(signed.bytes)
  }))
}, null, 2) + '\n')
const negatives = negativeEntries(dag, { governor, member, newcomer, outsider }, T0 + 6000)
writeFileSync(new URL('invalid-entries.json', dir), JSON.stringify({
  description: 'Entries every verifier must reject, each with its error code (docs/PROTOCOL.md §15). stage 1: decode the bytes alone ' +
    '(section 9). stage 2: offer them to a verifier that accepted every entry of entries.json in order (section 10). ' +
    'Stage-1 cases are signed over their own (invalid) encoding, so the signature is never the reason.',
  meshId: genesis.id,
  entries: negatives
}, null, 2) + '\n')
const proofs = proofVectors(entries.map(e => e.signed), { member, newcomer }, T0 + 7000)
writeFileSync(new URL('proofs.json', dir), JSON.stringify({
  description: 'Proof CARs (hex) of the entries.json mesh with the verdict of docs/PROTOCOL.md §23: valid, or the reason code. ' +
    'Verify each against the genesis of entries.json; where expect is set, it is the CID the verifier was told to expect.',
  meshId: genesis.id,
  proofs
}, null, 2) + '\n')
writeFileSync(new URL('sealed.json', dir), JSON.stringify({
  description: 'Protocol v2 (docs/PROTOCOL.md §24): one batch of sealed exec.request entries by the member key, ' +
    'offered in order to a verifier holding only the genesis of entries.json. leaf = SHA-256(0x00 || unsigned map, ' +
    'prev null past index 0); root = RFC 6962 tree hash; sig = Ed25519 over sealSigningBytes; cid over bytes.',
  meshId: genesis.id,
  ...sealedVectors(genesis, member, T0 + 8000)
}, null, 2) + '\n')
console.log(`wrote ${negatives.length} invalid entries and ${proofs.length} proof vectors`)
console.log(`wrote ${entries.length} entry vectors, mesh ${genesis.id}`)
