import { randomUUID } from 'node:crypto'
import * as dagCbor from '@ipld/dag-cbor'
import type { Connection, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import {
  checkEncodable, checkExecRequestInput, EntryTooLargeError, GovmeshError, InputRejectedError, CID, compilePolicy, decide, decodeEntry, fromHex, peerIdFromPublicKey, publicKeyFromPeerId, ReplayWindow, requestPrincipal, toHex,
  type CompiledPolicy, type DecisionRequest, type ExecHopBody, type ExecRequestBody, type RefusalReason, type SignedEntry
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { DEFAULT_EXECUTORS, runExecutor, type ExecutorConfig } from './executors.js'
import { FramedStream } from './framing.js'
import type { GovmeshNode } from './node.js'
import { keyOfPeer } from './peers.js'
import { EXEC_PROTOCOL } from './protocol.js'

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
}

interface WireResponse extends ExecResponse {
  entries: Uint8Array[]
}

interface ForwardFrame {
  t: 'exec'
  lineage: Uint8Array[]
  rest: string[]
  hop: number
}

const MAX_FRAME = 4 * 1024 * 1024
const ZONE_PREFIX = 'zone:'

/** A request was malformed before anything was recorded (HTTP 400). */
export class ExecInputError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'ExecInputError'
  }
}

/**
 * Governed execution (`/govmesh/exec/1.0.0`). The origin records `exec.request`;
 * each receiving node checks the sender's trust, its own status, the policy for the
 * principal/action/resource in its zone, the zone transition, the hop limit and the
 * trust of every peer left on the route and every author in the lineage, records
 * `exec.hop`, then executes (`exec.result`) or forwards. Any doubt: `exec.refuse`.
 */
export class ExecEngine {
  private compiled: CompiledPolicy | undefined
  private compiledDigest = ''
  // Not persisted: the floor (this engine's start) refuses anything older, so a restart opens no gap.
  private readonly replays = new ReplayWindow({ floor: Date.now() })

  constructor (private readonly node: GovmeshNode, private readonly executors: Record<string, ExecutorConfig> = DEFAULT_EXECUTORS, private readonly timeoutMs = 15_000) {}

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
    const { entries: _entries, ...response } = await this.start(req)
    return response
  }

  private async start (req: ExecSubmit): Promise<WireResponse> {
    const node = this.node
    if (!(req.target.startsWith(ZONE_PREFIX) || keyOfPeer(req.target) !== undefined)) throw new ExecInputError('target: expected a PeerId or zone:NAME')
    for (const [i, r] of (req.route ?? []).entries()) if (keyOfPeer(r) === undefined) throw new ExecInputError(`route[${i}]: not a PeerId`)
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
      nonce: req.nonce ?? randomUUID(),
      agent: req.agent != null ? { key: fromHex(req.agent.key), sig: fromHex(req.agent.sig) } : null
    }
    checkExecRequestInput(body)
    if (requestPrincipal(node.dag.meshId, body, nodeCrypto) === undefined) throw new ExecInputError('agent: the signature does not verify for this request')
    const parentKnown = parent !== null && node.dag.has(parent.toString()) && !node.dag.isRevoked(parent.toString())
    const request = await node.append('exec.request', body, parentKnown && parent !== null ? [parent] : [])
    const lineage = [request.id]
    if (parent !== null && !parentKnown) return await this.refuse(request, request, 0, 'ancestry.invalid', `parent execution ${parent.toString()} is unknown or revoked`, lineage)

    const path = this.plan(body)
    if ('reason' in path) return await this.refuse(request, request, 0, path.reason, path.detail, lineage)
    const check = this.check(body, [request], path.path, 0, undefined)
    if (check !== undefined) return await this.refuse(request, request, 0, check.reason, check.detail, lineage)
    if (path.path.length === 0) return await this.execute(request, body, request, lineage)
    return await this.forward(request, [request], path.path, 1, lineage)
  }

  /** Route to walk: explicit route, then the target (a peer, or a trusted member of the zone). */
  private plan (body: ExecRequestBody): { path: string[] } | { reason: RefusalReason, detail: string } {
    const self = this.node.peerId
    let final: string
    if (body.target.startsWith(ZONE_PREFIX)) {
      const zone = body.target.slice(ZONE_PREFIX.length)
      const last = body.route.at(-1)
      if (last !== undefined && this.zoneOf(last) === zone) {
        final = last
      } else if (body.route.length === 0 && this.node.zone() === zone) {
        final = self
      } else {
        const members = [...this.node.dag.currentGovernance().members.values()].filter(m => m.zone === zone && m.key !== this.node.publicKey)
        if (members.length === 0) return { reason: 'trust.unknown', detail: `no member in zone ${zone}` }
        const statuses = members.map(m => ({ m, s: this.node.trust.statusOfKey(m.key).status }))
        const trusted = statuses.filter(x => x.s === 'trusted').map(x => x.m.key).sort()
        const connected = trusted.filter(k => this.node.connectionsTo(peerIdOfKey(k)).length > 0)
        const pick = connected[0] ?? trusted[0]
        if (pick === undefined) return { reason: `trust.${statuses[0]!.s}` as RefusalReason, detail: `no trusted member in zone ${zone} (${statuses.map(x => x.s).join(', ')})` }
        final = peerIdOfKey(pick)
      }
    } else {
      final = body.target
    }
    const path = [...body.route]
    if (path.at(-1) !== final) path.push(final)
    if (path[0] === self) path.shift()
    return { path: path.length === 1 && path[0] === self ? [] : path }
  }

  private zoneOf (peerId: string): string | null {
    const key = keyOfPeer(peerId)
    return key === undefined ? null : this.node.dag.currentGovernance().members.get(key)?.zone ?? null
  }

  /** Every check of one hop; undefined when all pass. */
  private check (body: ExecRequestBody, lineage: SignedEntry[], rest: string[], hop: number, from: string | undefined): { reason: RefusalReason, detail: string } | undefined {
    const node = this.node
    const principal = requestPrincipal(node.dag.meshId, body, nodeCrypto)
    if (principal === undefined) return { reason: 'ancestry.invalid', detail: 'the request signature does not verify' }
    if (from !== undefined) {
      const s = node.trust.statusOf(from)
      if (s !== 'trusted') return { reason: `trust.${s}` as RefusalReason, detail: `forwarded by ${from}, which is ${s}` }
    }
    const authors = new Set<string>()
    for (const e of lineage) authors.add(toHex(e.entry.author))
    if (body.parent !== null) {
      for (const id of node.dag.ancestry(body.parent.toString(), { limit: 256 })) {
        const m = node.dag.meta(id)
        if (m !== undefined && m.type.startsWith('exec.')) authors.add(m.author)
        if (node.dag.isRevoked(id)) return { reason: 'ancestry.invalid', detail: `ancestry entry ${id} is revoked` }
      }
    }
    authors.delete(node.publicKey)
    const peers = [...rest.filter(p => p !== node.peerId), ...[...authors].map(peerIdOfKey)]
    const d: DecisionRequest = {
      principal,
      signed: body.agent !== null,
      action: body.action,
      resource: body.resource,
      zone: node.zone() ?? '',
      fromZone: from !== undefined ? this.zoneOf(from) ?? undefined : undefined,
      hops: hop + rest.length,
      peers
    }
    const decision = decide(d, this.policy(), { self: node.trust.selfStatus(), peer: (p) => node.trust.statusOf(p) })
    if (!decision.allow) return { reason: decision.reason!, detail: decision.reasons[0]?.detail ?? decision.reason! }
    return undefined
  }

  private async refuse (request: SignedEntry, last: SignedEntry, hop: number, reason: RefusalReason, detail: string, lineage: string[]): Promise<WireResponse> {
    // The detail is text for humans; keep the entry within its field limit whatever an error said.
    detail = detail.length > 1000 ? detail.slice(0, 999) + '…' : detail
    const refusal = await this.node.append('exec.refuse', { request: request.cid, hop, reason, detail }, [last.cid])
    this.node.emit('exec:refused', { request: request.id, refusal: refusal.id, reason, detail, hop })
    this.node.log.info('execution refused', { request: request.id, reason, detail, hop })
    return { ok: false, reason, detail, refusalCid: refusal.id, lineage: [...lineage, refusal.id], entries: [refusal.bytes] }
  }

  private async execute (request: SignedEntry, body: ExecRequestBody, last: SignedEntry, lineage: string[], hop = 0): Promise<WireResponse> {
    const config = this.executors[body.action]
    if (config === undefined) return await this.refuse(request, last, hop, 'policy.denied', `no executor configured for action ${body.action}`, lineage)
    const t0 = Date.now()
    const out = await runExecutor(config, { action: body.action, resource: body.resource, payload: body.payload, principal: body.principal, request: request.id })
    const record = (ok: boolean, output: unknown): Promise<SignedEntry<'exec.result'>> => this.node.append('exec.result', {
      request: request.cid, ok, executor: config.type, output, durationMs: Date.now() - t0
    }, [last.cid])
    let result: SignedEntry<'exec.result'>
    let ok = out.ok
    let output: unknown
    try {
      output = recordableOutput(out.output)
      result = await record(ok, output)
    } catch (err) {
      if (!(err instanceof InputRejectedError || err instanceof EntryTooLargeError || err instanceof GovmeshError)) throw err
      // Output a peer could not accept is recorded as such, never signed as is.
      ok = false
      output = { error: 'output-not-recordable', code: err.code, message: err.message.slice(0, 500) }
      result = await record(ok, output)
    }
    return { ok, result: output, resultCid: result.id, lineage: [...lineage, result.id], entries: [result.bytes] }
  }

  private async forward (request: SignedEntry, chain: SignedEntry[], rest: string[], hop: number, lineage: string[]): Promise<WireResponse> {
    const node = this.node
    const next = rest[0]!
    const last = chain.at(-1)!
    let framed: FramedStream | undefined
    try {
      const conn = await this.connect(next)
      // The protocol name travels with the first frame: one round trip fewer per hop.
      const stream = await conn.newStream(EXEC_PROTOCOL, { signal: AbortSignal.timeout(5000), negotiateFully: false })
      framed = new FramedStream(stream, { maxFrameBytes: MAX_FRAME, readTimeoutMs: this.timeoutMs })
      const frame: ForwardFrame = { t: 'exec', lineage: chain.map(e => e.bytes), rest: rest.slice(1), hop }
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
      await node.ingest(res.entries, 'sync')
      return { ...res, lineage: [...lineage, ...res.lineage] }
    } catch (err) {
      framed?.abort(err as Error)
      const timedOut = (err as Error).name === 'ReadTimeoutError' || (err as Error).name === 'TimeoutError'
      return await this.refuse(request, last, hop - 1, 'timeout', `${timedOut ? 'no answer from' : 'could not reach'} ${next}: ${(err as Error).message}`, lineage)
    }
  }

  private async connect (peerId: string): Promise<Connection> {
    const open = this.node.connectionsTo(peerId).find(c => c.status === 'open')
    if (open !== undefined) return open
    const rec = this.node.peerRecords.get(keyOfPeer(peerId) ?? '')
    if (rec === undefined || rec.addrs.length === 0) throw new Error(`no known address for ${peerId}`)
    return await this.node.libp2p.dial(rec.addrs.map(a => multiaddr(a)), { signal: AbortSignal.timeout(5000) })
  }

  /** Serves a forwarded execution. */
  handle (stream: Stream, connection: Connection): void {
    void this.serve(stream, connection)
  }

  private async serve (stream: Stream, connection: Connection): Promise<void> {
    const node = this.node
    const from = connection.remotePeer.toString()
    const framed = new FramedStream(stream, { maxFrameBytes: MAX_FRAME, readTimeoutMs: this.timeoutMs })
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
      const response = await this.receive(frame, from)
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

  private async receive (frame: ForwardFrame, from: string): Promise<WireResponse> {
    const node = this.node
    const outcomes = await node.ingest(frame.lineage, 'sync')
    const chain: SignedEntry[] = []
    for (const bytes of frame.lineage) chain.push(decodeEntry(bytes, { crypto: nodeCrypto, verify: false }))
    const request = chain[0]
    if (request === undefined || request.entry.type !== 'exec.request') throw new Error('lineage must start with an exec.request')
    const last = chain.at(-1)!
    const bad = outcomes.find(o => o.status === 'rejected' || o.status === 'pending')
    if (bad !== undefined || !node.dag.has(last.id)) {
      return await this.refuseWhenPossible(request, last, frame.hop, 'ancestry.invalid', `lineage entry ${bad?.status ?? 'missing'}: ${bad?.reason ?? ''} ${bad?.message ?? ''}`, [])
    }
    const replay = this.replayed(request, from)
    if (replay !== undefined) return replay
    if (last.entry.type === 'exec.hop' && (last.entry.body as ExecHopBody).next !== node.peerId) {
      return await this.refuse(request, last, frame.hop, 'ancestry.invalid', 'the previous hop named another next peer', [])
    }
    const body = request.entry.body as ExecRequestBody
    const check = this.check(body, chain, frame.rest, frame.hop, from)
    // Answers carry only what this node and those after it added; each forwarder prepends its part.
    if (check !== undefined) return await this.refuse(request, last, frame.hop, check.reason, check.detail, [])
    const hopEntry = await node.append('exec.hop', {
      request: request.cid, hop: frame.hop, from, zone: node.zone() ?? 'unknown', next: frame.rest[0] ?? null
    }, [last.cid])
    const res = frame.rest.length === 0
      ? await this.execute(request, body, hopEntry, [hopEntry.id], frame.hop)
      : await this.forward(request, [...chain, hopEntry], frame.rest, frame.hop + 1, [hopEntry.id])
    return { ...res, entries: [hopEntry.bytes, ...res.entries] }
  }

  /** A refusal needs its parent in the DAG; when the lineage itself is invalid, answer without recording. */
  private async refuseWhenPossible (request: SignedEntry, last: SignedEntry, hop: number, reason: RefusalReason, detail: string, lineage: string[]): Promise<WireResponse> {
    if (this.node.dag.has(last.id) && this.node.dag.has(request.id)) return await this.refuse(request, last, hop, reason, detail, lineage)
    this.node.emit('exec:refused', { request: request.id, reason, detail, hop })
    return { ok: false, reason, detail, lineage: [], entries: [] }
  }
}

function peerIdOfKey (key: string): string {
  return peerIdFromPublicKey(fromHex(key))
}

/** dag-cbor has no `undefined`: drop absent optional fields before encoding a response. */
function encodeWire (r: WireResponse): Uint8Array {
  return dagCbor.encode(Object.fromEntries(Object.entries({ ...r, result: r.result === undefined ? undefined : jsonSafe(r.result) }).filter(([, v]) => v !== undefined)))
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
  if (f === null || typeof f !== 'object' || f.t !== 'exec' || !Array.isArray(f.lineage) || f.lineage.length === 0 || f.lineage.length > 64 ||
      !f.lineage.every(b => b instanceof Uint8Array) || !Array.isArray(f.rest) || f.rest.length > 16 || !f.rest.every(r => typeof r === 'string') ||
      typeof f.hop !== 'number' || !Number.isInteger(f.hop) || f.hop < 1 || f.hop > 64) {
    throw new Error('malformed exec frame')
  }
  for (const r of f.rest) publicKeyFromPeerId(r)
  return f
}

function decodeWireResponse (bytes: Uint8Array): WireResponse {
  const r = dagCbor.decode<WireResponse>(bytes)
  if (r === null || typeof r !== 'object' || typeof r.ok !== 'boolean' || !Array.isArray(r.lineage) || !Array.isArray(r.entries)) {
    throw new Error('malformed exec response')
  }
  return r
}
