import type { CID } from 'multiformats/cid'
import { keyHex, toHex } from './bytes.js'
import { nobleCrypto, type CryptoProvider } from './crypto.js'
import {
  GOVERNANCE_TYPES, MEMBERSHIP_TYPES, QUORUM_TYPES, type EntryBody, type EntryType, type GenesisBody,
  type GovernorRemoveBody,
  type TrustFailBody, type TrustRestoreBody
} from './bodies.js'
import { cidOfBytes, decodeEntry, verifyEntrySignature, type SignedEntry } from './entry.js'
import { cidString } from './entry-cid.js'
import { MAX_ENTRY_BYTES } from './limits.js'
import { BoundedMap } from './bounded-map.js'
import {
  BadSignatureError, CutExceededError, GenesisError, GovmeshError, MalformedEntryError, NotGovernorError,
  NotMemberError, ParentInvalidError, PendingFullError, RestoreQuorumError, SealChainError, SeqGapError,
  UnknownFailureError, WrongMeshError, WrongPrevError
} from './errors.js'
import { applyMembership, effectiveQuorum, genesisState, type GovernanceState } from './governance.js'
import { checkQuorumEntry, type QuorumEntryType } from './governance-approval.js'
import { equivocationEvidence, type EquivocationEvidence } from './evidence.js'
import { verifyRestoreApproval } from './restore.js'
import { restoreQuorum } from './governance-rules.js'
import { foldOrder } from './governance-fold.js'
import {
  CheckpointMismatchError, HistoryNotInMemoryError, MemoryHistory, type DagCheckpoint, type DagHistory, type EntryMeta
} from './dag-history.js'
import { checkSealChain } from './seal-chain.js'
import type { EntrySeal } from './seal.js'

/** Accepted ids remembered for copies delivered again (about 100 bytes each). */
const RECENT_IDS = 4096

/** An interned set of membership heads; its governance state is computed once. */
interface GovContext {
  key: string
  heads: string[]
  state?: GovernanceState
}

export interface DagInit {
  /** The genesis entry (bytes or decoded); its CID is the mesh id. */
  genesis: Uint8Array | SignedEntry
  crypto?: CryptoProvider
  /** Most entries held while waiting for parents. Default 10,000. */
  maxPending?: number
  /**
   * Judge cuts once the whole set is known instead of on arrival (offline proof
   * verification): entries past a cut are accepted and reported by `isRevoked`,
   * so the verdict does not depend on whether a removal came before or after them.
   */
  deferCuts?: boolean
  /** Where accepted entries are kept and read back. Default: a {@link MemoryHistory}. */
  history?: DagHistory
  /** Resume from a checkpoint instead of an empty DAG (see {@link Dag.resume}). */
  resume?: { checkpoint: DagCheckpoint, kept: SignedEntry[] }
}

export interface AddOptions {
  /** The entry was validated before (e.g. read back from the node's own store): skip the signature check. */
  verified?: boolean
}

/** Outcome of {@link Dag.add}. Errors about the offered entry itself are thrown. */
export interface AddResult {
  status: 'accepted' | 'pending' | 'duplicate'
  id: string
  /** Every entry accepted by this call, in causal order: the offered one, then pending entries it released. */
  accepted: SignedEntry[]
  /** Released pending entries that turned out invalid. */
  rejected: Array<{ id: string, error: GovmeshError }>
  /** Equivocations detected by this call. */
  equivocations: EquivocationEvidence[]
  /** For `pending`: the CIDs it still waits for. */
  missing: string[]
}

/**
 * Entry types the DAG keeps decoded in memory, and lists in its checkpoint: what the governance,
 * policy and trust reducers read. Few, however long the history.
 */
export function isKeptType (type: EntryType): boolean {
  return GOVERNANCE_TYPES.has(type) || type === 'trust.fail'
}

interface PendingEntry {
  signed: SignedEntry
  missing: Set<string>
}

/**
 * The lineage DAG of one mesh with every rule of docs/PROTOCOL.md: signatures, author
 * chains, writer authorization judged in the causal past, removal and equivocation cuts,
 * a bounded pending area, heads and frontier. It holds only bounded working state; each
 * accepted entry goes to its {@link DagHistory} (memory by default, the node's level store
 * in the daemon), and {@link Dag.checkpoint} is what it needs to resume without a replay.
 *
 * @example
 * ```ts
 * const dag = createDag({ genesis: genesisBytes, crypto: nodeCrypto })
 * const result = dag.add(entryBytes)
 * if (result.status === 'accepted') for (const e of result.accepted) persist(e)
 * ```
 */
export class Dag {
  readonly genesis: SignedEntry
  readonly meshId: CID
  readonly meshIdString: string
  private readonly crypto: CryptoProvider
  private readonly maxPending: number
  private readonly deferCuts: boolean
  private readonly history: DagHistory
  /** Accepted entries, genesis included. */
  private count = 0
  /** Per-entry lookups, read through the history. */
  private readonly metas = {
    has: (id: string): boolean => this.history.meta(id) !== undefined,
    get: (id: string) => this.history.meta(id)
  }
  private readonly frontierMap = new Map<string, number>()
  private readonly headSet = new Set<string>()
  private readonly pendingMap = new Map<string, PendingEntry>()
  /** Ids of the last accepted entries, so a copy arriving again is known without a decode. */
  private readonly recentlyAccepted = new BoundedMap<string, true>(RECENT_IDS)
  private readonly waiting = new Map<string, Set<string>>()
  /** Membership entries: the membership entries strictly in each one's past. */
  private readonly membershipAncestors = new Map<string, Set<string>>()
  private readonly membershipEntries = new Map<string, SignedEntry>()
  private readonly contexts = new Map<string, GovContext>()
  private readonly cutMap = new Map<string, number>()
  private readonly evidence: EquivocationEvidence[] = []
  /** Decoded entries of the few types other reducers need (trust, governance). */
  private readonly kept = new Map<string, SignedEntry>()
  private currentContext: GovContext | undefined
  /** Per author, its latest accepted sealed entry: what the next one of the batch names as prev. */
  private readonly lastSeals = new Map<string, { id: string, seal: EntrySeal }>()

  constructor (init: DagInit) {
    this.crypto = init.crypto ?? nobleCrypto
    this.maxPending = init.maxPending ?? 10_000
    this.deferCuts = init.deferCuts === true
    this.history = init.history ?? new MemoryHistory()
    const genesis = init.genesis instanceof Uint8Array ? decodeEntry(
      init.genesis, { crypto: this.crypto }
    ) : init.genesis
    const e = genesis.entry
    if (e.type !== 'mesh.genesis') throw new GenesisError(`genesis: type is ${e.type}`)
    if (e.mesh !== null || e.seq !== 1 || e.prev !== null || e.parents.length !== 0) {
      throw new GenesisError('genesis: must have mesh null, seq 1, no prev and no parents')
    }
    if (!(init.genesis instanceof Uint8Array) && !verifyEntrySignature(e, this.crypto)) {
      throw new BadSignatureError('genesis: signature does not verify')
    }
    const author = toHex(e.author)
    const body = e.body as GenesisBody
    if (
      !body.governors.some(g => toHex(g) === author)
    ) throw new GenesisError('genesis: author is not a founding governor')
    this.genesis = genesis
    this.meshId = genesis.cid
    this.meshIdString = genesis.id
    const empty: GovContext = { key: '', heads: [], state: genesisState(body) }
    this.contexts.set('', empty)
    this.membershipAncestors.set(genesis.id, new Set())
    this.membershipEntries.set(genesis.id, genesis)
    // A history that outlives this DAG (the node's store) holds the genesis already.
    this.insert(genesis, author, empty, [], this.history.meta(genesis.id) !== undefined)
    if (init.resume !== undefined) this.resume(init.resume.checkpoint, init.resume.kept)
  }

  /** Number of accepted entries (including genesis). */
  get size (): number { return this.count }
  get pendingCount (): number { return this.pendingMap.size }

  has (id: string): boolean { return this.metas.has(id) }
  isPending (id: string): boolean { return this.pendingMap.has(id) }
  meta (id: string): EntryMeta | undefined { return this.metas.get(id) }
  getBytes (id: string): Uint8Array | undefined { return this.history.bytes(id) }

  /** Decodes a stored entry (signatures were checked when it was added). */
  getEntry (id: string): SignedEntry | undefined {
    const kept = this.kept.get(id)
    if (kept !== undefined) return kept
    const bytes = this.history.bytes(id)
    return bytes === undefined ? undefined : decodeEntry(bytes, { crypto: this.crypto, verify: false })
  }

  /** The author's accepted entry with the highest seq. */
  latest (author: string): EntryMeta | undefined {
    const seq = this.frontierMap.get(author)
    if (seq === undefined) return undefined
    return this.entryAt(author, seq)
  }

  /** An accepted entry of the author at `seq`. */
  entryAt (author: string, seq: number): EntryMeta | undefined {
    const id = this.history.at(author, seq)
    return id === undefined ? undefined : this.metas.get(id)
  }

  /** Accepted entries with no accepted child, sorted. */
  heads (): string[] { return [...this.headSet].sort() }

  /** Author (hex key) → highest contiguous accepted seq. */
  frontier (): Record<string, number> {
    return Object.fromEntries([...this.frontierMap].sort(([a], [b]) => a < b ? -1 : 1))
  }

  /**
   * Accepted entry ids in the order they were accepted (always a causal order). Only for a
   * history held in memory; a node reads its order index from the store instead.
   */
  ids (): readonly string[] {
    if (this.history.ids === undefined) throw new HistoryNotInMemoryError('ids(): this DAG keeps its history on disk')
    return this.history.ids()
  }

  /** What this DAG derived from its history, to resume from later (see {@link DagInit.resume}). */
  checkpoint (): DagCheckpoint {
    return {
      entries: this.count,
      frontier: this.frontier(),
      heads: this.heads(),
      cuts: Object.fromEntries([...this.cutMap].sort(([a], [b]) => a < b ? -1 : 1)),
      kept: [...this.kept.keys()],
      evidence: [...this.evidence]
    }
  }

  /**
   * Accepted entries that a peer with the given frontier lacks, in causal order.
   * Walks only the authors' chains past the remote frontier, so a peer that is
   * nearly in sync costs little however large the DAG is.
   */
  *missingFor (remote: Readonly<Record<string, number>>): Generator<string> {
    const missing: EntryMeta[] = []
    for (const [author, top] of this.frontierMap) {
      const from = remote[author] ?? 0
      if (top <= from) continue
      for (let seq = from + 1; seq <= top; seq++) {
        const id = this.history.at(author, seq)
        if (id !== undefined) missing.push(this.metas.get(id)!)
      }
    }
    // Acceptance order is a causal order.
    missing.sort((a, b) => a.index - b.index)
    for (const m of missing) yield m.id
  }

  /** Decoded accepted entries of one type, for reducers (governance and trust types only). */
  entriesOfType (type: EntryType): SignedEntry[] {
    return [...this.kept.values()].filter(s => s.entry.type === type)
  }

  /** Cut per author (hex): entries with a greater seq are invalid. */
  cuts (): ReadonlyMap<string, number> { return this.cutMap }

  /** True when the entry is past its author's cut (learned after it was accepted). */
  isRevoked (id: string): boolean {
    const m = this.metas.get(id)
    if (m === undefined) return false
    const cut = this.cutMap.get(m.author)
    return cut !== undefined && m.seq > cut
  }

  /** Equivocation evidence gathered so far. */
  equivocations (): readonly EquivocationEvidence[] { return this.evidence }

  /** Governance state in the causal past of an entry, including the entry itself when it is a membership entry. */
  governanceAt (id: string): GovernanceState {
    const m = this.metas.get(id)
    if (m === undefined) throw new MalformedEntryError(`unknown entry ${id}`)
    if (MEMBERSHIP_TYPES.has(m.type)) return this.stateOf(this.internContext([id]))
    return this.stateOf(this.internContext([...m.govHeads]))
  }

  /** Governance state of everything accepted so far. */
  currentGovernance (): GovernanceState {
    return this.stateOf(this.headsContext())
  }

  /** Membership heads to cite as parents so a new entry is judged against the newest governance. */
  governanceHeads (): string[] {
    return this.headsContext().heads
  }

  /** The governance context of all current heads, cached until the next insert (asked on every gossip message). */
  private headsContext (): GovContext {
    this.currentContext ??= this.contextFor([...this.headSet])
    return this.currentContext
  }

  /**
   * Ancestry walk from `id` over prev and parents, breadth first, up to `depth`
   * edges (default unbounded). The start entry comes first.
   */
  ancestry (id: string, opts: { depth?: number, limit?: number } = {}): string[] {
    if (!this.metas.has(id)) return []
    const maxDepth = opts.depth ?? Infinity
    const limit = opts.limit ?? Infinity
    const seen = new Set([id])
    const out = [id]
    let frontier = [id]
    for (let d = 0; d < maxDepth && frontier.length > 0 && out.length < limit; d++) {
      const next: string[] = []
      for (const cur of frontier) {
        const m = this.metas.get(cur)!
        for (const p of m.prev === null ? m.parents : [m.prev, ...m.parents]) {
          if (!seen.has(p) && this.metas.has(p)) {
            seen.add(p)
            out.push(p)
            next.push(p)
            if (out.length >= limit) return out
          }
        }
      }
      frontier = next
    }
    return out
  }

  /**
   * The result for an entry this DAG holds already, accepted or pending; undefined for a new one.
   * `recentOnly`: ask only memory (the pending area and the recently accepted ids), never the
   * history, which in the daemon is a store read.
   */
  private knownStatus (id: string, recentOnly: boolean): AddResult | undefined {
    const result: AddResult = { status: 'duplicate', id, accepted: [], rejected: [], equivocations: [], missing: [] }
    if (this.recentlyAccepted.get(id) !== undefined || (!recentOnly && this.metas.has(id))) return result
    const pending = this.pendingMap.get(id)
    if (pending !== undefined) return { ...result, status: 'pending', missing: [...pending.missing] }
    return undefined
  }

  /**
   * Offers an entry. Returns accepted / pending / duplicate; throws a typed
   * GovmeshError when the entry is invalid.
   */
  add (input: Uint8Array | SignedEntry, opts: AddOptions = {}): AddResult {
    // The id is the hash of the bytes, so bytes already held were judged already: one hash, not a
    // second decode and signature check, for the copies gossip and sync deliver again (soon after
    // the first, so memory knows them; older copies are found after decoding, below).
    let cid: CID | undefined
    if (input instanceof Uint8Array && input.length <= MAX_ENTRY_BYTES) {
      cid = cidOfBytes(input, this.crypto)
      const known = this.knownStatus(cidString(cid), true)
      if (known !== undefined) return known
    }
    // The bytes were hashed just above: the decoder need not hash them again.
    const signed = input instanceof Uint8Array
      ? decodeEntry(input, { crypto: this.crypto, verify: opts.verified !== true, cid })
      : input
    if (!(input instanceof Uint8Array) && opts.verified !== true && !verifyEntrySignature(signed.entry, this.crypto)) {
      throw new BadSignatureError('signature does not verify for the author key')
    }
    const result: AddResult = {
      status: 'accepted', id: signed.id, accepted: [], rejected: [], equivocations: [], missing: []
    }
    // Above its author's frontier an entry cannot be held: memory only, no history lookup (a store read in the daemon).
    const known = this.knownStatus(signed.id, !this.mayHold(signed))
    if (known !== undefined) return known

    let missing: string[]
    try {
      missing = this.check(signed)
    } catch (err) {
      // Remember the refusal so entries already waiting on it (and later ones) fail fast.
      if (err instanceof GovmeshError && err.code !== 'entry.pending-full') this.rejectWaiters(signed.id, result)
      throw err
    }
    if (missing.length > 0) {
      if (this.pendingMap.size >= this.maxPending) throw new PendingFullError(
        `pending area full (${this.maxPending} entries)`
      )
      this.pendingMap.set(signed.id, { signed, missing: new Set(missing) })
      for (const m of missing) {
        let set = this.waiting.get(m)
        if (set === undefined) this.waiting.set(m, set = new Set())
        set.add(signed.id)
      }
      return { ...result, status: 'pending', missing }
    }
    this.accept(signed, result)
    this.release(signed.id, result)
    return result
  }

  /**
   * Whether the history may hold this entry: chains are contiguous from seq 1, so an accepted entry
   * (an equivocation twin included) is at or below its author's frontier.
   */
  private mayHold (signed: SignedEntry): boolean {
    return signed.entry.seq <= (this.frontierMap.get(keyHex(signed.entry.author)) ?? 0)
  }

  /** Removes a pending entry (e.g. evicted by the node after a timeout). */
  dropPending (id: string): boolean {
    const p = this.pendingMap.get(id)
    if (p === undefined) return false
    this.pendingMap.delete(id)
    for (const m of p.missing) this.waiting.get(m)?.delete(id)
    return true
  }

  /** Pending entries of one type (e.g. admits a node should already let connect), signatures verified. */
  pendingOfType<T extends EntryType> (type: T): Array<SignedEntry<T>> {
    const out: Array<SignedEntry<T>> = []
    for (const p of this.pendingMap.values()) if (p.signed.entry.type === type) out.push(p.signed as SignedEntry<T>)
    return out
  }

  /** Ids of pending entries and what each waits for. */
  pending (): Array<{ id: string, missing: string[] }> {
    return [...this.pendingMap].map(([id, p]) => ({ id, missing: [...p.missing] }))
  }

  /** Validates against known state; returns the ids it must wait for, or throws. */
  private check (signed: SignedEntry): string[] {
    const e = signed.entry
    if (e.type === 'mesh.genesis') throw new GenesisError('a mesh has exactly one genesis')
    if (e.mesh === null || !e.mesh.equals(this.meshId)) {
      throw new WrongMeshError(`entry belongs to mesh ${e.mesh?.toString() ?? 'null'}, not ${this.meshIdString}`)
    }
    if (e.seq === 1 && e.prev !== null) throw new WrongPrevError('seq 1 must have prev null')
    if (e.seq > 1 && e.prev === null) throw new WrongPrevError(
      `seq ${e.seq} must name the author's entry at seq ${e.seq - 1} as prev`
    )
    const author = keyHex(e.author)
    const cut = this.cutMap.get(author)
    if (!this.deferCuts && cut !== undefined && e.seq > cut) throw new CutExceededError(
      `author ${author.slice(0, 16)}… is cut at seq ${cut}`
    )

    const missing: string[] = []
    const deps = e.prev === null ? e.parents : [e.prev, ...e.parents]
    const depIds: string[] = new Array(deps.length)
    for (let i = 0; i < deps.length; i++) {
      const id = depIds[i] = cidString(deps[i]!)
      const known = this.metas.get(id)
      // Keep the accepted entry's own id string: the fresh one dies young instead of living in the index.
      if (known !== undefined) { depIds[i] = known.id; continue }
      if (this.rejectedRecently.has(id)) throw new ParentInvalidError(`parent ${id} was rejected`)
      missing.push(id)
    }
    if (e.prev !== null) {
      const prev = this.metas.get(depIds[0]!)
      if (prev !== undefined) {
        if (prev.author !== author) throw new WrongPrevError('prev names an entry of another author')
        if (prev.seq + 1 !== e.seq) throw new SeqGapError(`seq ${e.seq} does not follow prev seq ${prev.seq}`)
        if (e.seal !== undefined && e.seal.index > 0) checkSealChain(e.seal, this.sealOf(prev.id, author))
      }
    } else if (e.seal !== undefined && e.seal.index > 0) {
      throw new SealChainError(`a sealed entry at index ${e.seal.index} needs its batch-mate as prev`)
    }
    for (let i = e.prev === null ? 0 : 1; i < depIds.length; i++) {
      const pm = this.metas.get(depIds[i]!)
      if (pm !== undefined && pm.author === author) throw new MalformedEntryError(
        'parents: must be entries of other authors (use prev for your own)'
      )
    }
    if (e.type === 'trust.restore') {
      const body = e.body as TrustRestoreBody
      for (const c of body.clears) {
        if (!deps.some(d => d.equals(c))) throw new MalformedEntryError(
          'trust.restore: every cleared failure must also be a parent'
        )
      }
    }
    const base = e.type.startsWith('governor.') ? (e.body as { base: CID[] }).base.map(b => b.toString()) : []
    for (const b of base) if (!this.metas.has(b) && !missing.includes(b)) missing.push(b)
    if (missing.length > 0) return missing

    const ctx = this.contextFor(depIds)
    for (const b of base) {
      if (!this.inGovernancePast(b, ctx)) throw new MalformedEntryError(
        `${e.type}: base ${b} is not in its governance past`
      )
    }
    this.checked = { id: signed.id, ctx, author, depIds }
    const gov = this.stateOf(ctx)
    if (GOVERNANCE_TYPES.has(e.type)) {
      if (!gov.governors.has(author)) throw new NotGovernorError(`${e.type} must be authored by a governor`)
    } else if (!gov.members.has(author)) {
      throw new NotMemberError(`author ${author.slice(0, 16)}… is not a member in the entry's causal past`)
    }
    if (e.type === 'trust.restore') this.checkRestore(signed, gov)
    if (QUORUM_TYPES.has(e.type)) {
      checkQuorumEntry(
        this.meshId, e.type as QuorumEntryType, e.body as EntryBody<QuorumEntryType>, author, gov, this.crypto
      )
    }
    return []
  }

  /** The seal of an accepted entry: the author's latest sealed entry is kept, any other is decoded. */
  private sealOf (id: string, author: string): EntrySeal | undefined {
    const last = this.lastSeals.get(author)
    return last?.id === id ? last.seal : this.getEntry(id)?.entry.seal
  }

  private checkRestore (signed: SignedEntry, gov: GovernanceState): void {
    const body = signed.entry.body as TrustRestoreBody
    const subject = toHex(body.subject)
    for (const c of body.clears) {
      const fail = this.kept.get(c.toString())
      if (
        fail === undefined || fail.entry.type !== 'trust.fail' || toHex(
          (fail.entry.body as TrustFailBody).subject
        ) !== subject
      ) {
        throw new UnknownFailureError(
          `trust.restore clears ${c.toString()}, which is not a trust.fail about this subject`
        )
      }
    }
    const approvers = new Set<string>()
    for (const a of body.approvals) {
      const g = toHex(a.governor)
      if (!gov.governors.has(g)) throw new RestoreQuorumError(`approval by ${g.slice(0, 16)}…, who is not a governor`)
      if (!verifyRestoreApproval({ mesh: this.meshId, subject: body.subject, clears: body.clears }, a, this.crypto)) {
        throw new BadSignatureError(`restore approval by ${g.slice(0, 16)}… does not verify`)
      }
      approvers.add(g)
    }
    const quorum = effectiveQuorum(gov, 'restore')
    if (!restoreQuorum([...approvers].map(governor => ({ governor })), quorum).reached) {
      throw new RestoreQuorumError(`restore has ${approvers.size} governor approval(s); quorum is ${quorum}`)
    }
  }

  /** Ids whose rejection should fail their waiters fast; bounded like the pending area. */
  private readonly rejectedRecently = new Set<string>()

  /** What the last successful check computed, reused by accept (same entry, same synchronous call). */
  private checked: { id: string, ctx: GovContext, author: string, depIds: string[] } | undefined

  private accept (signed: SignedEntry, result: AddResult): void {
    const e = signed.entry
    const reuse = this.checked?.id === signed.id ? this.checked : undefined
    this.checked = undefined
    const author = reuse?.author ?? keyHex(e.author)
    const depIds = reuse?.depIds ?? (e.prev === null ? e.parents : [e.prev, ...e.parents]).map(cidString)
    const ctx = reuse?.ctx ?? this.contextFor(depIds)
    // Chains are contiguous from seq 1, so a seq at or below the frontier is taken.
    const existing = e.seq <= (this.frontierMap.get(author) ?? 0) ? this.history.at(author, e.seq) : undefined
    if (existing !== undefined && existing !== signed.id) {
      const ev = equivocationEvidence(this.history.bytes(existing)!, signed.bytes)
      this.evidence.push(ev)
      result.equivocations.push(ev)
      const cut = e.seq - 1
      this.cutMap.set(author, Math.min(cut, this.cutMap.get(author) ?? cut))
    }
    if (MEMBERSHIP_TYPES.has(e.type)) {
      const anc = new Set<string>()
      for (const h of ctx.heads) {
        anc.add(h)
        for (const a of this.membershipAncestors.get(h)!) anc.add(a)
      }
      this.membershipAncestors.set(signed.id, anc)
      this.membershipEntries.set(signed.id, signed)
    }
    if (e.type === 'member.remove' || e.type === 'governor.remove') {
      const body = e.body as { member: Uint8Array, cut: number } | GovernorRemoveBody
      const key = toHex('member' in body ? body.member : body.governor)
      this.cutMap.set(key, Math.min(body.cut, this.cutMap.get(key) ?? body.cut))
    }
    this.insert(signed, author, ctx, depIds)
    this.recentlyAccepted.set(signed.id, true)
    result.accepted.push(signed)
  }

  /**
   * `depIds`: the ids of prev (when not null) and then of every parent. `inHistory`: the history holds
   * this entry already (the genesis of a store that outlives this DAG).
   */
  private insert (signed: SignedEntry, author: string, ctx: GovContext, depIds: string[], inHistory = false): void {
    const e = signed.entry
    const meta: EntryMeta = {
      id: signed.id,
      cid: signed.cid,
      author,
      seq: e.seq,
      type: e.type,
      prev: e.prev === null ? null : depIds[0]!,
      parents: e.prev === null ? depIds : depIds.slice(1),
      time: e.time,
      govHeads: ctx.heads,
      index: this.count++
    }
    if (!inHistory) this.history.add(meta, signed.bytes)
    if ((this.frontierMap.get(author) ?? 0) < e.seq) this.frontierMap.set(author, e.seq)
    if (meta.prev !== null) this.headSet.delete(meta.prev)
    for (const p of meta.parents) this.headSet.delete(p)
    this.headSet.add(signed.id)
    this.currentContext = undefined
    if (isKeptType(e.type)) this.kept.set(signed.id, signed)
    if (e.seal !== undefined) this.lastSeals.set(author, { id: signed.id, seal: e.seal })
  }

  /** Retries pending entries whose last missing dependency just arrived. */
  private release (id: string, result: AddResult): void {
    const queue = [id]
    while (queue.length > 0) {
      const done = queue.shift()!
      const waiters = this.waiting.get(done)
      if (waiters === undefined) continue
      this.waiting.delete(done)
      for (const w of waiters) {
        const p = this.pendingMap.get(w)
        if (p === undefined) continue
        p.missing.delete(done)
        if (p.missing.size > 0) continue
        this.pendingMap.delete(w)
        try {
          const missing = this.check(p.signed)
          if (missing.length > 0) {
            // Cannot happen (all deps accepted), but never accept an unchecked entry.
            throw new MalformedEntryError('dependencies still missing')
          }
          this.accept(p.signed, result)
          queue.push(w)
        } catch (err) {
          const error = err instanceof GovmeshError ? err : new MalformedEntryError(String(err))
          result.rejected.push({ id: w, error })
          this.rejectWaiters(w, result)
        }
      }
    }
  }

  private rejectWaiters (id: string, result: AddResult): void {
    if (this.rejectedRecently.size >= this.maxPending) this.rejectedRecently.clear()
    this.rejectedRecently.add(id)
    const waiters = this.waiting.get(id)
    if (waiters === undefined) return
    this.waiting.delete(id)
    for (const w of waiters) {
      if (this.dropPending(w)) {
        result.rejected.push({ id: w, error: new ParentInvalidError(`parent ${id} was rejected`) })
        this.rejectWaiters(w, result)
      }
    }
  }

  /** True when `id` is a membership entry at or below the heads of `ctx`. */
  private inGovernancePast (id: string, ctx: GovContext): boolean {
    if (!this.membershipEntries.has(id)) return false
    return ctx.heads.some(h => h === id || this.membershipAncestors.get(h)!.has(id))
  }

  /** The maximal membership entries among what the given accepted dependencies know. */
  private contextFor (deps: string[]): GovContext {
    // Usual case: every dependency already knows the same governance, and none is itself a membership entry.
    let shared: readonly string[] | undefined
    for (const d of deps) {
      const m = this.metas.get(d)
      if (m === undefined) continue
      if (MEMBERSHIP_TYPES.has(m.type) || (shared !== undefined && !sameHeads(shared, m.govHeads))) {
        shared = undefined
        break
      }
      shared = m.govHeads
    }
    if (shared !== undefined) return this.contexts.get(shared.join(',')) ?? this.internContext([...shared])
    const candidates = new Set<string>()
    for (const d of deps) {
      const m = this.metas.get(d)
      if (m === undefined) continue
      if (MEMBERSHIP_TYPES.has(m.type)) candidates.add(d)
      else for (const h of m.govHeads) candidates.add(h)
    }
    const heads = [...candidates].filter(c => {
      for (const other of candidates) {
        if (other !== c && this.membershipAncestors.get(other)!.has(c)) return false
      }
      return true
    })
    return this.internContext(heads)
  }

  /**
   * Takes the working state from a checkpoint instead of a replay: the history already holds
   * every entry it counts, and `kept` are the decoded entries its `kept` ids name, in that order.
   * Only on a DAG that holds nothing but its genesis; the governance closure is rebuilt from the
   * kept membership entries.
   */
  resume (cp: DagCheckpoint, kept: SignedEntry[]): void {
    if (this.count !== 1 || this.pendingMap.size > 0) {
      throw new CheckpointMismatchError('resume: the DAG already holds entries')
    }
    if (cp.kept[0] !== this.meshIdString || kept.length !== cp.kept.length) {
      throw new CheckpointMismatchError(
        'checkpoint: kept entries do not start at this genesis or do not match their ids'
      )
    }
    if (cp.frontier[toHex(this.genesis.entry.author)] === undefined) {
      throw new CheckpointMismatchError('checkpoint: frontier lacks the genesis author')
    }
    const metas = kept.map((signed, i) => {
      if (signed.id !== cp.kept[i]) {
        throw new CheckpointMismatchError(`checkpoint: kept entry ${i} is not ${cp.kept[i]}`)
      }
      const m = this.metas.get(signed.id)
      if (m === undefined) {
        throw new CheckpointMismatchError(`checkpoint: kept entry ${signed.id} is not in the history`)
      }
      return m
    })
    this.count = cp.entries
    this.frontierMap.clear()
    for (const [a, seq] of Object.entries(cp.frontier)) this.frontierMap.set(a, seq)
    this.headSet.clear()
    for (const h of cp.heads) this.headSet.add(h)
    this.currentContext = undefined
    for (const [a, seq] of Object.entries(cp.cuts)) this.cutMap.set(a, seq)
    this.evidence.push(...cp.evidence)
    for (const [i, signed] of kept.entries()) {
      this.kept.set(signed.id, signed)
      if (i === 0 || !MEMBERSHIP_TYPES.has(signed.entry.type)) continue
      const m = metas[i]!
      const anc = new Set<string>()
      for (const h of m.govHeads) {
        anc.add(h)
        for (const a of this.membershipAncestors.get(h) ?? []) anc.add(a)
      }
      this.membershipAncestors.set(signed.id, anc)
      this.membershipEntries.set(signed.id, signed)
    }
  }

  private internContext (heads: string[]): GovContext {
    heads.sort()
    const key = heads.join(',')
    let ctx = this.contexts.get(key)
    if (ctx === undefined) {
      ctx = { key, heads }
      this.contexts.set(key, ctx)
    }
    return ctx
  }

  private stateOf (ctx: GovContext): GovernanceState {
    if (ctx.state !== undefined) return ctx.state
    const closure = new Set<string>()
    for (const h of ctx.heads) {
      closure.add(h)
      for (const a of this.membershipAncestors.get(h)!) closure.add(a)
    }
    const entries = [...closure].filter(id => id !== this.meshIdString).map(id => ({
      id, signed: this.membershipEntries.get(id)!, ancestors: this.membershipAncestors.get(id)!.size
    }))
    let state = this.contexts.get('')!.state!
    for (const signed of foldOrder(entries)) state = applyMembership(state, signed)
    ctx.state = state
    return state
  }
}

/** Equal sorted head lists; records read from a store carry their own arrays, memory ones share the context's. */
function sameHeads (a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * Creates the DAG of a mesh from its genesis entry.
 *
 * @example
 * ```ts
 * const dag = createDag({ genesis: genesisBytes })
 * dag.add(entryBytes)
 * ```
 */
export function createDag (init: DagInit): Dag {
  return new Dag(init)
}
