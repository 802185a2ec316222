import * as dagCbor from '@ipld/dag-cbor'
import type { CID } from 'multiformats/cid'
import { concatBytes, toHex, utf8 } from './bytes.js'
import { nobleCrypto, randomBytes, type CryptoProvider } from './crypto.js'
import type { RefusalReason } from './decide.js'

/** Domain tag of an agent's signature over an execution request. */
export const AGENT_REQUEST_DOMAIN = utf8('govmesh/exec-request/v1\0')

/** `exec.request`: what an agent or the local operator asks for, recorded by the origin node. */
export interface ExecRequestBody {
  /** `local` (the origin node's operator) or the agent's hex key. */
  principal: string
  action: string
  resource: string
  /** A PeerId, or `zone:NAME` for any trusted member of that zone. */
  target: string
  /** Explicit PeerIds to pass through before the target. */
  route: string[]
  /**
   * The path the origin planned (`planRoute`): the PeerIds after it, the last executing; empty
   * when the origin executes. Absent in requests refused before a path was found, and in
   * requests recorded before planning existed. Not part of the agent's statement.
   */
  path?: string[]
  payload: unknown
  /** A parent execution (its request or result CID) this one extends, or null. */
  parent: CID | null
  nonce: string
  /** The agent's signature, or null for an unsigned local request. */
  agent: { key: Uint8Array, sig: Uint8Array } | null
}

/**
 * Which policy decided a hop: its digest and the ids of the rules that decided (`Decision.rules`).
 * Optional in `exec.hop` and `exec.refuse`: absent in entries recorded before rule ids existed,
 * and in refusals decided before the policy was consulted.
 */
export interface PolicyEvidence {
  digest: string
  rules: string[]
}

/** `exec.hop`: a node accepted the request from `from` and runs or forwards it. */
export interface ExecHopBody {
  request: CID
  hop: number
  from: string
  zone: string
  /** The next PeerId, or null when this node executes. */
  next: string | null
  policy?: PolicyEvidence
}

/** `exec.refuse`: a node said no, with a machine-readable reason. */
export interface ExecRefuseBody {
  request: CID
  hop: number
  reason: RefusalReason
  detail: string
  policy?: PolicyEvidence
}

/** `exec.result`: the executing node's outcome. */
export interface ExecResultBody {
  request: CID
  ok: boolean
  executor: string
  output: unknown
  durationMs: number
}

/** The fields of a request an agent signs: everything but the principal and the signature, plus the mesh. */
export type AgentStatement = Omit<ExecRequestBody, 'principal' | 'agent' | 'path'> & { mesh: CID }

export function agentStatementBytes (s: AgentStatement): Uint8Array {
  return concatBytes(AGENT_REQUEST_DOMAIN, dagCbor.encode({
    mesh: s.mesh, action: s.action, resource: s.resource, target: s.target,
    route: s.route, payload: s.payload ?? null, parent: s.parent, nonce: s.nonce
  }))
}

/**
 * Signs a request as an agent, so lineage attributes it to the agent's key.
 *
 * @example
 * ```ts
 * const agent = signAgentRequest({
 *   mesh, action: 'echo', resource: 'r', target: 'zone:b', route: [], payload: {}, parent: null, nonce
 * }, agentKeys)
 * ```
 */
export function signAgentRequest (
  s: AgentStatement, keys: { secretKey: Uint8Array, publicKey: Uint8Array }, crypto: CryptoProvider = nobleCrypto
): { key: Uint8Array, sig: Uint8Array } {
  return { key: keys.publicKey, sig: crypto.sign(agentStatementBytes(s), keys.secretKey) }
}

/**
 * The principal of a request body, after checking an agent signature if there is one; undefined if the signature is
 * bad.
 */
export function requestPrincipal (
  mesh: CID, body: ExecRequestBody, crypto: CryptoProvider = nobleCrypto
): string | undefined {
  if (body.agent === null) return body.principal === 'local' ? 'local' : undefined
  const ok = crypto.verify(body.agent.sig, agentStatementBytes({ ...body, mesh }), body.agent.key)
  return ok && body.principal === toHex(body.agent.key) ? body.principal : undefined
}

/**
 * A complete `exec.request` body from the fields that matter, with defaults:
 * local principal, no route, no parent, no agent, a fresh nonce.
 *
 * @example
 * ```ts
 * node.append('exec.request', execRequestBody({ action: 'echo', resource: 'r', target: 'zone:b', payload: { hi: 1 } }))
 * ```
 */
export function execRequestBody (
  init: Partial<ExecRequestBody> & { action: string, resource: string, target: string }
): ExecRequestBody {
  return {
    principal: init.principal ?? 'local',
    action: init.action,
    resource: init.resource,
    target: init.target,
    route: init.route ?? [],
    payload: init.payload ?? null,
    parent: init.parent ?? null,
    nonce: init.nonce ?? toHex(randomBytes(16)),
    agent: init.agent ?? null,
    ...(init.path !== undefined ? { path: init.path } : {})
  }
}
