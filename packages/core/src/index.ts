/**
 * @govmesh/core — the rules of govmesh as pure functions and data structures:
 * signed lineage entries, DAG validation, governance, the Yjs policy and its
 * decisions, and the trust view. No sockets, no disk.
 *
 * @packageDocumentation
 */
export * from './bytes.js'
export * from './errors.js'
export * from './crypto.js'
export * from './identity.js'
export * from './bodies.js'
export * from './limits.js'
export * from './input-check.js'
export * from './entry.js'
export * from './genesis.js'
export * from './governance.js'
export * from './evidence.js'
export * from './restore.js'
export * from './dag.js'
export * from './append.js'
export * from './policy-schema.js'
export * from './policy.js'
export * from './decide.js'
export * from './trust.js'
export { CID } from 'multiformats/cid'
export * from './heartbeat.js'
export * from './heartbeat-rules.js'
export * from './governance-rules.js'
export * from './exec.js'
export * from './route.js'
export * from './hop-check.js'
export * from './deadline.js'
export * from './module-url.js'
export * from './proof.js'
export * from './bounded-map.js'
export * from './admission.js'
export * from './replay-window.js'
export * from './rate-limit.js'
