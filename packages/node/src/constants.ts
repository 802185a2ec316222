/**
 * Every default and limit of the daemon in one place. Protocol limits that a peer must apply too
 * (entry sizes, route length, frame sizes) live in `@govmesh/core` (`limits.ts`) or in
 * `protocol.ts`; these are the node's own operating choices.
 *
 * @packageDocumentation
 */

/** Anti-entropy: pull from one random member this often, while a member advertises other heads. */
export const DEFAULT_ANTI_ENTROPY_MS = 2_000
/** Most pending (parent-less) entries the DAG holds before it drops the oldest. */
export const DEFAULT_MAX_PENDING = 10_000
/** Most open connections libp2p keeps. */
export const DEFAULT_MAX_CONNECTIONS = 64
/**
 * Members a node dials on its own, from their heartbeats (others may still dial it). Gossip needs a
 * few mesh peers (D 4) and sync one; each further connection costs gossip copies at idle, so a
 * 50-member mesh need not be a full mesh. Executions dial the next hop when not connected.
 */
export const DEFAULT_TARGET_PEERS = 8
/** Delay of the first heartbeat after start (the policy's timing applies afterwards, PROTOCOL §19.1). */
export const FIRST_HEARTBEAT_DELAY_MS = 50
/**
 * A node's first member connected (it joined): it heartbeats again this long after, each time past
 * more gossipsub heartbeats. The first repeat comes once the peer is in its gossip mesh; the later
 * ones reach members whose meshes were still forming while the mesh grew (a large testnet starting),
 * which otherwise first heard the joiner at its keep-alive, `staleMs / 2` later (75 s at 50 nodes).
 */
export const CONNECT_REANNOUNCE_MS: readonly number[] = [1_500, 5_000, 15_000]
/** Most listen addresses a heartbeat advertises. */
export const HEARTBEAT_MAX_ADDRS = 16

/** Concurrent inbound streams per connection, by protocol. */
export const MAX_INBOUND_SYNC_STREAMS = 32
export const MAX_INBOUND_EXEC_STREAMS = 256

/** Sync: a reader gives up on a silent peer after this long. */
export const SYNC_READ_TIMEOUT_MS = 15_000
/** Sync: opening a sync stream (protocol negotiation included) must take no longer. */
export const SYNC_OPEN_TIMEOUT_MS = 5_000
/** Sync after gossip brought an entry whose parents are missing: at most this often per peer. */
export const SYNC_ON_PENDING_MIN_INTERVAL_MS = 250
/**
 * How long execution records wait to share one gossip message (services/gossip.ts). An execution
 * never waits for it: the records a forwarded request depends on and that are still held back
 * travel in the exec frame's `context`, and a receiver missing any pulls from the sender
 * (docs/PROTOCOL.md §21.2, §21.5).
 */
export const GOSSIP_COALESCE_MS = 20
/** Sync after a heartbeat showed the peer has more: at most this often per peer. */
export const SYNC_ON_HEARTBEAT_MIN_INTERVAL_MS = 2_000

/** Redial bootstrap peers (while no member is connected) at most this often. */
export const BOOTSTRAP_REDIAL_MS = 2_000
/** Timeout of one bootstrap dial. */
export const BOOTSTRAP_DIAL_TIMEOUT_MS = 5_000
/** Dial a peer learned from its heartbeat at most this often. */
export const HEARTBEAT_DIAL_BACKOFF_MS = 5_000

/** A refusal log line (outsider, stream) is written at most once per key and interval. */
export const REFUSAL_LOG_INTERVAL_MS = 10_000

/** Longest human-readable refusal detail recorded in an `exec.refuse` entry. */
export const MAX_REFUSAL_DETAIL_CHARS = 1_000

/** HTTP API: largest request body. */
export const API_BODY_LIMIT_BYTES = 1024 * 1024
/** HTTP API: most entries in one `POST /v1/entries`. */
export const API_MAX_ENTRIES_PER_POST = 100
/** HTTP API: an SSE comment line this often keeps proxies from closing `/v1/events`. */
export const SSE_KEEPALIVE_MS = 15_000
/** HTTP API: default and largest page of `/v1/dag/log` and lineage search. */
export const API_DEFAULT_PAGE = 100
export const API_MAX_PAGE = 10_000
/** HTTP API: default and largest `/v1/dag/ancestry` answer. */
export const API_DEFAULT_ANCESTRY = 10_000
export const API_MAX_ANCESTRY = 100_000
