/**
 * @govmesh/node — the govmesh daemon: libp2p mesh, gossip and sync replication,
 * level store, HTTP API and metrics.
 *
 * @packageDocumentation
 */
import './polyfill.js'
export { createGovmeshNode, GovmeshNode, type GovmeshNodeInit, type IngestOutcome, type NodeStatus, type EntrySource } from './node.js'
export { startApi, type ApiInit, type ApiServer } from './api.js'
export { DEFAULT_HTTP_TIMEOUTS, type HttpTimeouts } from './http-timeouts.js'
export { createLogger, defaultLogFormat, silentLogger, type Logger, type LogLevel, type LogFormat, type LoggerInit } from './logger.js'
export {
  Store, StoreDamagedError, StoreLockedError, StoreMismatchError, SCHEMA_VERSION, type InspectedStore
} from './store.js'
export { describeLoss, seqSpan, type IntegrityReport, type SeqRange } from './store-integrity.js'
export { NodeRefillingError, readRefillMarker, writeRefillMarker, type RefillMarker } from './refill.js'
export { scanLevelLogs, type LogScan, type LogDamage } from './leveldb-log.js'
export { entryView, toJsonValue, type EntryView } from './entry-view.js'
export type { LineageGraph, LineageNode } from './console-data.js'
export { createMeshLibp2p, peerIdFromSeed, type MeshLibp2p, type MeshTransportInit } from './libp2p.js'
export { FramedStream, FrameTooLargeError, ReadTimeoutError } from './framing.js'
export { SYNC_PROTOCOL, EXEC_PROTOCOL, entriesTopic, heartbeatsTopic, encodeSyncMessage, decodeSyncMessage } from './protocol.js'
export { keyOfPeer, type PeerRecord } from './peers.js'
export { measureRuntime } from './measurement.js'
export { ExecEngine, ExecInputError, type ExecSubmit, type ExecResponse } from './exec.js'
export { parseExecutorConfig, runExecutor, DEFAULT_EXECUTORS, ExecutorError, type ExecutorConfig } from './executors.js'
export { TrustTracker, type TrustEntry } from './trust-tracker.js'
export { exportProofCar, readProofCar } from './proof-car.js'
