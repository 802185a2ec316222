import * as dagCbor from '@ipld/dag-cbor'
import {
  checkEncodable, checkExecRequestInput, checkHopVerdict, CID, compilePolicy, DEFAULT_EXEC_TIMEOUT_MS, deadlineFrom,
  decodeEntry,
  executionBudget, executorRefusal, EXEC_DIAL_TIMEOUT_MS, EXEC_REQUEST_READ_TIMEOUT_MS,
  forwardBudget, fromHex, GovmeshError, InputRejectedError, MAX_EXEC_FRAME_BYTES, MAX_FRAME_CONTEXT, MAX_FRAME_HOP,
  MAX_FRAME_LINEAGE,
  MAX_PATH, planRoute, publicKeyFromPeerId, ReplayWindow, requestPrincipal, scanAncestry,
  selfRefusal, toHex,
  ZONE_TARGET_PREFIX, type CompiledPolicy, type ExecHopBody, type ExecRequestBody, type GovernanceState,
  type HopVerdict, type PolicyEvidence, type RefusalReason, type RouteMember, type RoutePlan, type SignedEntry,
  type Dag,
  type PolicyState
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { MAX_INBOUND_EXEC_STREAMS, MAX_REFUSAL_DETAIL_CHARS } from '../constants.js'
import { DeadlineError, ExecInputError } from '../errors.js'
import type { NodeEventBus } from '../events.js'
import { DEFAULT_EXECUTORS, runExecutor, type ExecutorConfig } from '../executors.js'
import { FramedStream, type FramedDuplex } from '../framing.js'
import type { Append, Ingest, IngestOutcome } from '../ledger.js'
import type { Logger } from '../logger.js'
import type { NodeMetrics } from '../metrics.js'
import type { MeshNetwork } from '../network.js'
import { newNonce } from '../nonce.js'
import { keyOfPeer, peerIdOfKey, type PeerDirectory } from '../peers.js'
import { EXEC_PROTOCOL } from '../protocol.js'
import { ExecContext } from './exec-context.js'
import type { StreamGuard } from './streams.js'
import type { Startable } from './startable.js'
import type { TrustReader } from './trust.js'

export { ExecInputError }

/** What a caller asks for at the origin node. */
export interface ExecSubmit {
  action: string
  resource: string
  /** A PeerId or `zone:NAME`. */
  target: string
  payload?: unknown
  route?: string[]
  parent?: string | null
  nonce?: string
  /** An agent's signature over the request statement (hex key and signature). */
  agent?: { key: string, sig: string } | null
  /** The caller's deadline, from now; the default when absent. */
  timeoutMs?: number
}

/** The answer every hop passes back toward the origin. */
export interface ExecResponse {
  ok: boolean
  result?: unknown
  resultCid?: string
  refusalCid?: string
  reason?: RefusalReason
  detail?: string
  /** Lineage CIDs of this execution, in order: request, hops, then result or refusal. */
  lineage: string[]
  /** At the origin: the planned path (PeerIds after the origin, the last executing); absent if none was found. */
  route?: string[]
  /** The policy digest and rule ids of the last decision (the executing or refusing node's). */
  policy?: PolicyEvidence
}

interface WireResponse extends ExecResponse {
  entries: Uint8Array[]
}

interface ForwardFrame {
  t: 'exec'
  /**
   * Entries the lineage depends on that the receiver may not hold yet: records the senders had
   * not gossiped when they forwarded (docs/PROTOCOL.md §21.2); absent from older senders.
   */
  context?: Uint8Array[]
  lineage: Uint8Array[]
  rest: string[]
  hop: number
  /** Milliseconds the receiver has, from reading the frame, to answer; absent from older senders. */
  remainingMs?: number
}

export interface ExecServiceInit {
  /** Executors by action (from the node's config file); default: echo and sleep. */
  executors?: Record<string, ExecutorConfig>
  /** The deadline of a request that names none. @defaultValue DEFAULT_EXEC_TIMEOUT_MS */
  timeoutMs?: number
}

export interface ExecComponents {
  dag: Dag
  policy: PolicyState
  /** This node's PeerId and hex key. */
  self: { peerId: string, key: string }
  zone: () => string | null
  append: Append
  ingest: Ingest
  trust: TrustReader
  peers: PeerDirectory
  network: MeshNetwork
  streams: StreamGuard
  /** This node's record by id while it waits to be gossiped (the gossip service). */
  unpublished?: (id: string) => SignedEntry | undefined
  /** Pulls from a peer now (the sync service); resolves when a pull begun after the call has ended. */
  pull?: (peerId: string) => Promise<void>
  metrics: NodeMetrics
  events: NodeEventBus
  logger: Logger
}

/**
 * Governed execution (`/govmesh/exec/1.0.0`). The origin records `exec.request`;
 * each receiving node checks the sender's trust, its own status, the policy for the
 * principal/action/resource in its zone, the zone transition, the hop limit and the
 * trust of every peer left on the route and every author in the lineage, records
 * `exec.hop`, then executes (`exec.result`) or forwards. Any doubt: `exec.refuse`.
 */
export class ExecService implements Startable {
  private compiled: CompiledPolicy | undefined
  private compiledDigest = ''
  // Not persisted: the floor (this engine's start) refuses anything older, so a restart opens no gap.
  private readonly replays = new ReplayWindow({ floor: Date.now() })
  private members: { of: GovernanceState, list: RouteMember[], keys: Map<string, string> } | undefined

  private readonly executors: Record<string, ExecutorConfig>
  private readonly timeoutMs: number
  private readonly context: ExecContext

  constructor (init: ExecServiceInit, private readonly node: ExecComponents) {
    this.executors = init.executors ?? DEFAULT_EXECUTORS
    this.timeoutMs = init.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS
    this.context = new ExecContext(node.unpublished)
  }

  async start (): Promise<void> {
    await this.node.network.handle(EXEC_PROTOCOL, (stream, from) => { void this.serve(stream, from) }, {
      maxInboundStreams: MAX_INBOUND_EXEC_STREAMS
    })
  }

  stop (): void {}

  private policy (): CompiledPolicy {
    const digest = this.node.policy.digest()
    if (this.compiled === undefined || this.compiledDigest !== digest) {
      this.compiled = compilePolicy(this.node.policy.document(), digest, this.node.policy.hasPolicy)
      this.compiledDigest = digest
    }
    return this.compiled
  }

  /** Starts an execution at this node (the origin). */
  async submit (req: ExecSubmit): Promise<ExecResponse> {
    const { entries: _entries, ...response } = await this.originate(req)
    return response
  }

  private async originate (req: ExecSubmit): Promise<WireResponse> {
    const node = this.node
    const deadline = deadlineFrom(Date.now(), req.timeoutMs ?? this.timeoutMs)
    if (!(req.target.startsWith(ZONE_TARGET_PREFIX) || keyOfPeer(req.target) !== undefined)) {
      throw new ExecInputError('target: expected a PeerId or zone:NAME')
    }
    for (
      const [i, r] of (req.route ?? []).entries()
    ) if (keyOfPeer(r) === undefined) throw new ExecInputError(`route[${i}]: not a PeerId`)
    let parent: CID | null = null
    if (req.parent != null) {
      try { parent = CID.parse(req.parent) } catch { throw new ExecInputError('parent: not a CID') }
    }
    const body: ExecRequestBody = {
      principal: req.agent != null ? req.agent.key.toLowerCase() : 'local',
      action: req.action,
      resource: req.resource,
      target: req.target,
      route: req.route ?? [],
      payload: req.payload ?? null,
      parent,
      nonce: req.nonce ?? newNonce(),
      agent: req.agent != null ? { key: fromHex(req.agent.key), sig: fromHex(req.agent.sig) } : null
    }
    checkExecRequestInput(body)
    if (
      requestPrincipal(node.dag.meshId, body, nodeCrypto) === undefined
    ) throw new ExecInputError('agent: the signature does not verify for this request')
    // A node that refuses everything says so before a route is sought; the planned path goes into the request.
    const own = selfRefusal(this.policy(), node.trust.selfStatus())
    const plan: RoutePlan = own !== undefined ? { ok: false, ...own } : planRoute(body, this.routeView())
    if (plan.ok) body.path = plan.path
    const parentKnown = parent !== null && node.dag.has(parent.toString()) && !node.dag.isRevoked(parent.toString())
    const request = await node.append('exec.request', body, parentKnown && parent !== null ? [parent] : [])
    const lineage = [request.id]
    if (parent !== null && !parentKnown) return await this.refuse(
      request, request, 0, 'ancestry.invalid', `parent execution ${parent.toString()} is unknown or revoked`, lineage
    )
    if (!plan.ok) return await this.refuse(request, request, 0, plan.reason, plan.detail, lineage)
    const route = { route: plan.path }
    const check = this.check(body, [request], plan.path, 0, undefined)
    if (check.refusal !== undefined) {
      return {
        ...await this.refuse(request, request, 0, check.refusal.reason, check.refusal.detail, lineage, check.policy),
        ...route
      }
    }
    const res = plan.path.length === 0
      ? await this.execute(request, body, request, lineage, 0, deadline, check.policy)
      : await this.forward(request, [request], plan.path, 1, lineage, deadline)
    return { ...res, ...route }
  }

  /** What route planning sees: current members, trust now, open connections, the policy's transitions. */
  private routeView (): Parameters<typeof planRoute>[1] {
    const node = this.node
    const gov = node.dag.currentGovernance()
    if (this.members?.of !== gov) {
      const keys = new Map<string, string>()
      const list = [...gov.members.entries()].map(([key, m]) => {
        const peerId = peerIdOfKey(key)
        keys.set(peerId, key)
        return { peerId, zone: m.zone }
      })
      this.members = { of: gov, list, keys }
    }
    const { list, keys } = this.members
    const policy = this.policy()
    return {
      self: node.self.peerId,
      members: list,
      status: (p) => {
        const key = keys.get(p)
        return key === undefined ? 'unknown' : node.trust.statusOfKey(key).status
      },
      connected: (p) => node.network.isConnected(p),
      transitions: policy.transitions,
      maxHops: policy.maxHops
    }
  }

  private zoneOf (peerId: string): string | null {
    const key = keyOfPeer(peerId)
    return key === undefined ? null : this.node.dag.currentGovernance().members.get(key)?.zone ?? null
  }

  /** Every check of one hop (core `checkHopVerdict`). */
  private check (
    body: ExecRequestBody, lineage: SignedEntry[], rest: string[], hop: number, from: string | undefined
  ): HopVerdict {
    const node = this.node
    return checkHopVerdict({
      body,
      principal: requestPrincipal(node.dag.meshId, body, nodeCrypto),
      hop,
      rest,
      self: { peerId: node.self.peerId, key: node.self.key, zone: node.zone(), status: node.trust.selfStatus() },
      sender: from === undefined ? undefined : {
        peerId: from, status: node.trust.statusOf(from), zone: this.zoneOf(from)
      },
      lineageAuthors: lineage.map(e => toHex(e.entry.author)),
      ancestry: scanAncestry(node.dag, body.parent?.toString() ?? null),
      policy: this.policy(),
      peerStatus: (p) => node.trust.statusOf(p)
    })
  }

  private async refuse (
    request: SignedEntry, last: SignedEntry, hop: number, reason: RefusalReason, detail: string, lineage: string[],
    policy?: PolicyEvidence
  ): Promise<WireResponse> {
    // The detail is text for humans; keep the entry within its field limit whatever an error said.
    detail = detail.length > MAX_REFUSAL_DETAIL_CHARS ? detail.slice(0, MAX_REFUSAL_DETAIL_CHARS - 1) + '…' : detail
    const evidence = policy !== undefined ? { policy } : {}
    const refusal = await this.node.append(
      'exec.refuse', { request: request.cid, hop, reason, detail, ...evidence }, [last.cid]
    )
    this.node.events.emit('exec:refused', { request: request.id, refusal: refusal.id, reason, detail, hop })
    this.node.logger.info('execution refused', { request: request.id, reason, detail, hop })
    return {
      ok: false, reason, detail, refusalCid: refusal.id, lineage: [
        ...lineage, refusal.id
      ], entries: [refusal.bytes], ...evidence
    }
  }

  private async execute (
    request: SignedEntry, body: ExecRequestBody, last: SignedEntry, lineage: string[], hop: number, deadline: number,
    policy?: PolicyEvidence
  ): Promise<WireResponse> {
    const config = this.executors[body.action]
    const missing = executorRefusal(body.action, config !== undefined)
    if (missing !== undefined || config === undefined) {
      return await this.refuse(request, last, hop, missing!.reason, missing!.detail, lineage)
    }
    const t0 = Date.now()
    const budget = executionBudget(deadline, t0)
    if (typeof budget !== 'number') return await this.refuse(request, last, hop, budget.reason, budget.detail, lineage)
    // The executor is stopped at the deadline: the caller gets a timeout refusal, not a late result.
    const signal = AbortSignal.timeout(budget)
    const input = {
      action: body.action, resource: body.resource, payload: body.payload, principal: body.principal,
      request: request.id
    }
    const out = await runExecutor(config, input, signal)
    if (signal.aborted) {
      const detail = `the executor did not finish within the ${budget} ms left of the deadline`
      return await this.refuse(request, last, hop, 'timeout', detail, lineage)
    }
    const record = (
      ok: boolean, output: unknown
    ): Promise<SignedEntry<'exec.result'>> => this.node.append('exec.result', {
      request: request.cid, ok, executor: config.type, output, durationMs: Date.now() - t0
    }, [last.cid])
    let result: SignedEntry<'exec.result'>
    let ok = out.ok
    let output: unknown
    try {
      output = recordableOutput(out.output)
      result = await record(ok, output)
    } catch (err) {
      // InputRejectedError and the entry codec's refusals (too large, malformed) are all GovmeshErrors.
      if (!(err instanceof GovmeshError)) throw err
      // Output a peer could not accept is recorded as such, never signed as is.
      ok = false
      output = { error: 'output-not-recordable', code: err.code, message: err.message.slice(0, 500) }
      result = await record(ok, output)
    }
    const evidence = policy !== undefined ? { policy } : {}
    return {
      ok, result: output, resultCid: result.id, lineage: [...lineage, result.id], entries: [result.bytes], ...evidence
    }
  }

  private async forward (
    request: SignedEntry, chain: SignedEntry[], rest: string[], hop: number, lineage: string[], deadline: number
  ): Promise<WireResponse> {
    const node = this.node
    const next = rest[0]!
    const last = chain.at(-1)!
    const early = forwardBudget(deadline, Date.now())
    if ('reason' in early) {
      return await this.refuse(request, last, hop - 1, 'timeout', `cannot forward to ${next}: ${early.detail}`, lineage)
    }
    let framed: FramedStream | undefined
    try {
      const stream = await node.network.openStream(next, EXEC_PROTOCOL, {
        signal: AbortSignal.timeout(Math.min(EXEC_DIAL_TIMEOUT_MS, early.waitMs)), addrs: node.peers.addrsOf(next)
      })
      // Measured again after the dial: the next node gets what is left now.
      const budget = forwardBudget(deadline, Date.now())
      if ('reason' in budget) throw new DeadlineError(budget.detail)
      // The wait ends before this node's own deadline, so it can still refuse and answer in time.
      framed = new FramedStream(stream, { maxFrameBytes: MAX_EXEC_FRAME_BYTES, readTimeoutMs: budget.waitMs })
      const context = this.context.forLineage(chain, keyOfPeer(next))
      node.metrics.execContextEntries.inc(context.length)
      const frame: ForwardFrame = {
        t: 'exec', lineage: chain.map(e => e.bytes), rest: rest.slice(1), hop, remainingMs: budget.remainingMs,
        ...(context.length > 0 ? { context } : {})
      }
      await framed.write(dagCbor.encode(frame))
      await framed.closeWrite()
      const bytes = await framed.read()
      if (bytes === undefined) throw new Error('stream closed without a response')
      const res = decodeWireResponse(bytes)
      await framed.close()
      // Refused before anything was written there (e.g. it does not trust us): the refusal is ours to record.
      if (!res.ok && res.entries.length === 0 && res.refusalCid === undefined) {
        const detail = `${next} refused: ${res.detail ?? ''}`
        return await this.refuse(request, last, hop - 1, res.reason ?? 'trust.unknown', detail, lineage)
      }
      // Downstream lineage is ingested here too, so every node on the path holds the whole chain.
      this.rememberAccepted(res.entries, await node.ingest(res.entries, 'sync'))
      return { ...res, lineage: [...lineage, ...res.lineage] }
    } catch (err) {
      framed?.abort(err as Error)
      const e = err as Error
      const timedOut = e.name === 'ReadTimeoutError' || e.name === 'TimeoutError' || e.name === 'DeadlineError'
      const detail = `${timedOut ? 'no answer from' : 'could not reach'} ${next}: ${e.message}`
      return await this.refuse(request, last, hop - 1, 'timeout', detail, lineage)
    }
  }

  /** Serves a forwarded execution. */
  private async serve (stream: FramedDuplex, from: string): Promise<void> {
    const node = this.node
    const framed = new FramedStream(stream, {
      maxFrameBytes: MAX_EXEC_FRAME_BYTES, readTimeoutMs: EXEC_REQUEST_READ_TIMEOUT_MS
    })
    const admission = node.streams.admit('exec', from)
    if (!admission.allow) {
      // Nothing is signed for a peer we do not trust; a member learns why, so that it records the refusal.
      if (admission.reason === 'not-member') {
        framed.abort(new Error('exec refused: not a member'))
        return
      }
      const reason: RefusalReason = admission.reason === 'untrusted'
        ? `trust.${node.trust.statusOf(from)}` as RefusalReason
        : 'timeout'
      await this.answerRefusal(framed, reason, `this node refuses executions from ${from}: ${admission.reason}`)
      return
    }
    try {
      const bytes = await framed.read()
      if (bytes === undefined) throw new Error('no request frame')
      const frame = decodeForwardFrame(bytes)
      const deadline = deadlineFrom(Date.now(), frame.remainingMs ?? this.timeoutMs)
      const response = await this.receive(frame, from, deadline)
      await framed.write(encodeWire(response))
      await framed.close()
    } catch (err) {
      node.metrics.reject('exec.protocol', 'exec')
      node.streams.warn('exec', from, 'stream failed', { error: (err as Error).message })
      framed.abort(err as Error)
    }
  }

  private async answerRefusal (framed: FramedStream, reason: RefusalReason, detail: string): Promise<void> {
    try {
      await framed.write(encodeWire({ ok: false, reason, detail, lineage: [], entries: [] }))
      await framed.close()
    } catch (err) {
      framed.abort(err as Error)
    }
  }

  /** Serves a request at most once per node (see docs/PROTOCOL.md, replay window); undefined when fresh. */
  private replayed (request: SignedEntry, from: string): WireResponse | undefined {
    const body = request.entry.body as ExecRequestBody
    const principal = body.agent !== null ? toHex(body.agent.key) : toHex(request.entry.author)
    const keys = [`request:${request.id}`, `nonce:${principal}:${body.nonce}`]
    const verdict = this.replays.check(keys, request.entry.time, Date.now())
    if (verdict === 'fresh') return undefined
    const detail = verdict === 'replay'
      ? `request ${request.id} is a replay`
      : `request ${request.id} is outside the replay window (${verdict})`
    this.node.streams.refuseLater('exec', from, verdict, detail)
    return { ok: false, reason: 'ancestry.invalid', detail, lineage: [], entries: [] }
  }

  private async receive (frame: ForwardFrame, from: string, deadline: number): Promise<WireResponse> {
    const node = this.node
    const context = frame.context ?? []
    const offered = await node.ingest([...context, ...frame.lineage], 'sync')
    const chain: SignedEntry[] = []
    for (const bytes of frame.lineage) chain.push(decodeEntry(bytes, { crypto: nodeCrypto, verify: false }))
    const request = chain[0]
    if (
      request === undefined || request.entry.type !== 'exec.request'
    ) throw new Error('lineage must start with an exec.request')
    const last = chain.at(-1)!
    this.rememberAccepted(context, offered)
    const outcomes = offered.slice(context.length)
    let bad = offered.find(o => o.status === 'rejected') ?? outcomes.find(o => o.status === 'pending')
    if (bad?.status === 'pending' && node.pull !== undefined) {
      // The sender holds what the lineage depends on (it accepted the lineage); gossip may still be on its way.
      await this.pullBefore(from, deadline)
      bad = outcomes.find((o, i) => o.status === 'pending' && !node.dag.has(chain[i]!.id))
    }
    if (bad !== undefined || !node.dag.has(last.id)) {
      return await this.refuseWhenPossible(
        request, last, frame.hop, 'ancestry.invalid',
        `lineage entry ${bad?.status ?? 'missing'}: ${bad?.reason ?? ''} ${bad?.message ?? ''}`, []
      )
    }
    const replay = this.replayed(request, from)
    if (replay !== undefined) return replay
    if (last.entry.type === 'exec.hop' && (last.entry.body as ExecHopBody).next !== node.self.peerId) {
      return await this.refuse(
        request, last, frame.hop, 'ancestry.invalid', 'the previous hop named another next peer', []
      )
    }
    const body = request.entry.body as ExecRequestBody
    const check = this.check(body, chain, frame.rest, frame.hop, from)
    // Answers carry only what this node and those after it added; each forwarder prepends its part.
    if (check.refusal !== undefined) {
      return await this.refuse(request, last, frame.hop, check.refusal.reason, check.refusal.detail, [], check.policy)
    }
    // Too little time left to run or forward: refuse now rather than hold the caller past its deadline.
    const late = frame.rest.length === 0 ? executionBudget(deadline, Date.now()) : forwardBudget(deadline, Date.now())
    if (typeof late === 'object' && 'reason' in late) {
      return await this.refuse(request, last, frame.hop, late.reason, late.detail, [])
    }
    const hopEntry = await node.append('exec.hop', {
      request: request.cid, hop: frame.hop, from, zone: node.zone() ?? 'unknown', next: frame.rest[0] ?? null,
      ...(check.policy !== undefined ? { policy: check.policy } : {})
    }, [last.cid])
    const res = frame.rest.length === 0
      ? await this.execute(request, body, hopEntry, [hopEntry.id], frame.hop, deadline, check.policy)
      : await this.forward(request, [...chain, hopEntry], frame.rest, frame.hop + 1, [hopEntry.id], deadline)
    return { ...res, entries: [hopEntry.bytes, ...res.entries] }
  }

  /** Entries an exec stream handed this node, which their authors may not have gossiped yet. */
  private rememberAccepted (items: readonly Uint8Array[], outcomes: readonly IngestOutcome[]): void {
    const entries: SignedEntry[] = []
    for (const [i, bytes] of items.entries()) {
      const status = outcomes[i]?.status
      if (status !== 'accepted' && status !== 'duplicate') continue
      entries.push(decodeEntry(bytes, { crypto: nodeCrypto, verify: false }))
    }
    this.context.remember(entries)
  }

  /** Pulls from `peer`, waiting at most until half of what is left of the deadline has passed. */
  private async pullBefore (peer: string, deadline: number): Promise<void> {
    this.node.metrics.execPulls.inc()
    let timer: NodeJS.Timeout | undefined
    const waited = new Promise<void>(resolve => {
      timer = setTimeout(resolve, Math.max(0, (deadline - Date.now()) / 2))
    })
    try {
      await Promise.race([this.node.pull!(peer), waited])
    } finally {
      clearTimeout(timer)
    }
  }

  /** A refusal needs its parent in the DAG; when the lineage itself is invalid, answer without recording. */
  private async refuseWhenPossible (
    request: SignedEntry, last: SignedEntry, hop: number, reason: RefusalReason, detail: string, lineage: string[]
  ): Promise<WireResponse> {
    if (
      this.node.dag.has(last.id) && this.node.dag.has(request.id)
    ) return await this.refuse(request, last, hop, reason, detail, lineage)
    this.node.events.emit('exec:refused', { request: request.id, reason, detail, hop })
    return { ok: false, reason, detail, lineage: [], entries: [] }
  }
}

/** dag-cbor has no `undefined`: drop absent optional fields before encoding a response. */
function encodeWire (r: WireResponse): Uint8Array {
  return dagCbor.encode(
    Object.fromEntries(
      Object.entries(
        { ...r, result: r.result === undefined ? undefined : jsonSafe(r.result) }
      ).filter(([, v]) => v !== undefined)
    )
  )
}

/** Executor output goes into a dag-cbor entry: drop undefined, keep JSON values. */
function jsonSafe (v: unknown): unknown {
  return v === undefined ? null : JSON.parse(JSON.stringify(v)) as unknown
}

/** JSON values of executor output, checked against the limits a peer's decoder applies. */
function recordableOutput (v: unknown): unknown {
  let json: unknown
  try {
    json = jsonSafe(v)
  } catch (err) {
    throw new InputRejectedError('output', 'type', `not JSON: ${(err as Error).message}`)
  }
  checkEncodable(json, { field: 'output' })
  return json
}

function decodeForwardFrame (bytes: Uint8Array): ForwardFrame {
  const f = dagCbor.decode<ForwardFrame>(bytes)
  if (f === null || typeof f !== 'object' || f.t !== 'exec' || !Array.isArray(f.lineage) || f.lineage.length === 0 ||
      f.lineage.length > MAX_FRAME_LINEAGE || !f.lineage.every(b => b instanceof Uint8Array) ||
      !Array.isArray(f.rest) || f.rest.length > MAX_PATH - 1 || !f.rest.every(r => typeof r === 'string') ||
      typeof f.hop !== 'number' || !Number.isInteger(f.hop) || f.hop < 1 || f.hop > MAX_FRAME_HOP ||
      (f.remainingMs !== undefined && !(Number.isSafeInteger(f.remainingMs) && f.remainingMs >= 0)) ||
      (f.context !== undefined && !(Array.isArray(f.context) && f.context.length <= MAX_FRAME_CONTEXT &&
        f.context.every(b => b instanceof Uint8Array)))) {
    throw new Error('malformed exec frame')
  }
  for (const r of f.rest) publicKeyFromPeerId(r)
  return f
}

function decodeWireResponse (bytes: Uint8Array): WireResponse {
  const r = dagCbor.decode<WireResponse>(bytes)
  if (
    r === null || typeof r !== 'object' || typeof r.ok !== 'boolean' || !Array.isArray(
      r.lineage
    ) || !Array.isArray(r.entries)
  ) {
    throw new Error('malformed exec response')
  }
  return r
}

/**
 * Creates the governed-execution service.
 *
 * @example
 * ```ts
 * const exec = execService({ executors })(components)
 * await exec.start()
 * const res = await exec.submit({ action: 'echo', resource: 'demo', target: 'zone:b' })
 * ```
 */
export function execService (init: ExecServiceInit = {}): (components: ExecComponents) => ExecService {
  return (components) => new ExecService(init, components)
}
