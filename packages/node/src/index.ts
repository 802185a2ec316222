/**
 * @govmesh/node — the govmesh daemon: libp2p mesh, gossip and sync replication,
 * level store, HTTP API and metrics.
 *
 * @packageDocumentation
 */
import './polyfill.js'
export { createGovmeshNode, GovmeshNode, type GovmeshNodeInit, type NodeStatus } from './node.js'
export {
  Ledger, type IngestOutcome, type IngestOptions, type Ingest, type Append, type LedgerStore, type LedgerInit
} from './ledger.js'
export { NodeEventBus, NODE_EVENTS, type NodeEvents, type NodeEventName, type EntrySource } from './events.js'
export * from './errors.js'
export * as constants from './constants.js'
export { apiService, ApiService, startApi, type ApiInit, type ApiServer, type ApiServiceInit } from './api/server.js'
export type { ApiContext } from './api/context.js'
export type * from './api/wire.js'
export { DEFAULT_HTTP_TIMEOUTS, type HttpTimeouts } from './http-timeouts.js'
export {
  componentLogger, createLogger, defaultLogFormat, silentLogger, type Logger, type LogLevel, type LogFormat,
  type LoggerInit
} from './logger.js'
export { VerifyPool, type VerifiedBatch } from './verify-pool.js'
export { GroupCommit, type GroupCommitStats } from './group-commit.js'
export { CHAIN_SCHEMA, Store, SCHEMA_VERSION, type InspectedStore, type StoredEntry } from './store.js'
export { StoreDamagedError, StoreLockedError, StoreMismatchError } from './store.js'
export { compareCheckpoints, compareMeta } from './checkpoint-check.js'
export { decodeMetaRecord } from './meta-record.js'
export { describeLoss, seqSpan, type IntegrityReport, type SeqRange } from './store-integrity.js'
export { readRefillMarker, writeRefillMarker, type RefillMarker } from './refill.js'
export { scanLevelLogs, type LogScan, type LogDamage } from './leveldb-log.js'
export { entryView, toJsonValue, type EntryView } from './entry-view.js'
export type { LineageGraph, LineageNode } from './console-data.js'
export { createMeshLibp2p, peerIdFromSeed, type MeshLibp2p, type MeshTransportInit } from './libp2p.js'
export { libp2pNetwork } from './libp2p-network.js'
export type { MeshNetwork, GossipResult, ConnectionInfo, StreamHandler } from './network.js'
export { FramedStream, type FramedDuplex } from './framing.js'
export {
  decodeLatestHeartbeats, encodeLatestHeartbeats, HEARTBEATS_PROTOCOL, LATEST_HEARTBEATS_MAX,
  type LatestHeartbeatsMessage, type RelayedHeartbeat
} from './latest-heartbeats.js'
export {
  SYNC_PROTOCOL, EXEC_PROTOCOL, entriesTopic, heartbeatsTopic, encodeSyncMessage, decodeSyncMessage
} from './protocol.js'
export { keyOfPeer, PeerDirectory, type PeerRecord } from './peers.js'
export { measureRuntime } from './measurement.js'
export { newNonce } from './nonce.js'
export { ExecService, execService, type ExecSubmit, type ExecResponse, type ExecComponents } from './services/exec.js'
export { SyncService, syncService, type SyncComponents } from './services/sync.js'
export { GossipService, gossipService, gossipMessageId, type GossipComponents } from './services/gossip.js'
export { HeartbeatService, heartbeatService, type HeartbeatComponents } from './services/heartbeat.js'
export { TrustTracker, trustService, type TrustEntry, type TrustReader } from './services/trust.js'
export { TrustReporter } from './services/reporter.js'
export { StreamGuard, STREAM_RATES } from './services/streams.js'
export { ConnectionGate, ConnectionService, connectionService } from './services/connections.js'
export type { Startable } from './services/startable.js'
export { parseExecutorConfig, runExecutor, DEFAULT_EXECUTORS, type ExecutorConfig } from './executors.js'
export { exportProofCar, readProofCar } from './proof-car.js'
