/**
 * Typed errors. Every rejection has its own class with a stable `name` and a
 * machine-readable `code` (used as the metrics label and in API responses), so
 * callers branch on the kind of failure, never on message text.
 */
export class GovmeshError extends Error {
  /** Stable machine-readable reason, e.g. `entry.bad-signature`. */
  readonly code: string
  constructor (code: string, message: string) {
    super(message)
    this.code = code
    this.name = 'GovmeshError'
  }
}

function errorClass (name: string, code: string): new (message: string) => GovmeshError {
  const cls = class extends GovmeshError {
    constructor (message: string) {
      super(code, message)
      this.name = name
    }
  }
  Object.defineProperty(cls, 'name', { value: name })
  return cls
}

/** The entry bytes do not decode, or a field has the wrong type, or an unknown field is present. */
export const MalformedEntryError = errorClass('MalformedEntryError', 'entry.malformed')
/** The Ed25519 signature does not verify for the entry's author. */
export const BadSignatureError = errorClass('BadSignatureError', 'entry.bad-signature')
/** The entry names a different mesh than the one it was offered to. */
export const WrongMeshError = errorClass('WrongMeshError', 'entry.wrong-mesh')
/** `seq` is not one more than the seq of the entry named by `prev`. */
export const SeqGapError = errorClass('SeqGapError', 'entry.seq-gap')
/** `prev` is missing where required, present at seq 1, or names another author's entry. */
export const WrongPrevError = errorClass('WrongPrevError', 'entry.wrong-prev')
/** The author is not a member in the governance state of the entry's causal past. */
export const NotMemberError = errorClass('NotMemberError', 'entry.not-member')
/** A governance-only entry type was authored by a key that is not a governor. */
export const NotGovernorError = errorClass('NotGovernorError', 'entry.not-governor')
/** A `trust.restore` lacks valid approvals from the restore quorum of governors. */
export const RestoreQuorumError = errorClass('RestoreQuorumError', 'trust.restore-quorum')
/** A `policy.update` or `governor.*` entry lacks valid approvals from the policy quorum of governors. */
export const GovernanceQuorumError = errorClass('GovernanceQuorumError', 'governance.quorum')
/** A `trust.restore` names an entry that is not a `trust.fail` about the same subject. */
export const UnknownFailureError = errorClass('UnknownFailureError', 'trust.unknown-failure')
/** The encoded entry exceeds {@link MAX_ENTRY_BYTES}. */
export const EntryTooLargeError = errorClass('EntryTooLargeError', 'entry.too-large')
/** The bytes decode but are not the canonical dag-cbor encoding of what they decode to. */
export const NonCanonicalError = errorClass('NonCanonicalError', 'entry.non-canonical')
/** `type` is not one of the entry types this protocol version defines. */
export const UnknownTypeError = errorClass('UnknownTypeError', 'entry.unknown-type')
/** The author's entries past a removal or equivocation cut are invalid everywhere. */
export const CutExceededError = errorClass('CutExceededError', 'entry.cut-exceeded')
/** The bounded pending area (entries waiting for parents) is full. */
export const PendingFullError = errorClass('PendingFullError', 'entry.pending-full')
/** A genesis entry is invalid, or a second genesis was offered. */
export const GenesisError = errorClass('GenesisError', 'entry.genesis')
/** Equivocation evidence does not prove two conflicting signed entries. */
export const InvalidEvidenceError = errorClass('InvalidEvidenceError', 'evidence.invalid')
/** A policy document does not match the policy schema. */
export const PolicySchemaError = errorClass('PolicySchemaError', 'policy.schema')
/** A key file, key or PeerId is malformed. */
export const InvalidKeyError = errorClass('InvalidKeyError', 'key.invalid')
/** An argument at the library boundary is invalid. */
export const InvalidArgumentError = errorClass('InvalidArgumentError', 'argument.invalid')

export type GovmeshErrorClass = ReturnType<typeof errorClass>
/** A parent of this entry was itself rejected, so this entry can never be applied. */
export const ParentInvalidError = errorClass('ParentInvalidError', 'entry.parent-invalid')
/** Version 2: a sealed entry's leaf and inclusion path do not fold to its batch root. */
export const BadSealError = errorClass('BadSealError', 'entry.bad-seal')
/** Version 2: a sealed entry past index 0 whose `prev` is not its batch-mate at the index before. */
export const SealChainError = errorClass('SealChainError', 'entry.seal-chain')
