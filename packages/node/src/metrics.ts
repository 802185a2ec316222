import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { GroupCommitStats } from './group-commit.js'

/** Prometheus metrics of one node; each node has its own registry so several can share a process. */
export class NodeMetrics {
  readonly registry = new Registry()
  readonly entries = new Gauge(
    { name: 'govmesh_entries', help: 'Accepted entries in the local DAG', registers: [this.registry] }
  )
  readonly pending = new Gauge(
    { name: 'govmesh_pending_entries', help: 'Entries waiting for parents', registers: [this.registry] }
  )
  readonly peers = new Gauge({ name: 'govmesh_peers', help: 'Connected peers', registers: [this.registry] })
  readonly accepted = new Counter(
    {
      name: 'govmesh_entries_accepted_total', help: 'Entries accepted, by source', labelNames: ['source'],
      registers: [this.registry]
    }
  )
  readonly rejections = new Counter(
    {
      name: 'govmesh_rejections_total', help: 'Rejected input, by reason and source', labelNames: ['reason', 'source'],
      registers: [this.registry]
    }
  )
  readonly syncSessions = new Counter(
    {
      name: 'govmesh_sync_sessions_total', help: 'Sync sessions, by role and result', labelNames: ['role', 'result'],
      registers: [this.registry]
    }
  )
  readonly syncEntries = new Counter(
    {
      name: 'govmesh_sync_entries_total', help: 'Entries sent or received by sync', labelNames: ['direction'],
      registers: [this.registry]
    }
  )
  readonly gossip = new Counter(
    {
      name: 'govmesh_gossip_messages_total', help: 'Gossip messages received, by topic and validation result',
      labelNames: ['topic', 'result'], registers: [this.registry]
    }
  )
  /** Sealed batches this node wrote, and the records they held: records ÷ batches is the mean batch size. */
  readonly sealedBatches = new Counter({
    name: 'govmesh_sealed_batches_total',
    help: 'Batches of execution records this node sealed',
    registers: [this.registry]
  })
  readonly sealedRecords = new Counter({
    name: 'govmesh_sealed_records_total',
    help: 'Execution records in the batches this node sealed',
    registers: [this.registry]
  })
  /** A forwarded execution whose lineage was pending here: its receiver pulled from the sender first. */
  readonly execPulls = new Counter({
    name: 'govmesh_exec_pulls_total',
    help: 'Forwarded executions whose lineage had missing parents, pulled from the sender before judging',
    registers: [this.registry]
  })
  /** Entries this node sent in exec frames' `context` (what the next node may not have by gossip yet). */
  readonly execContextEntries = new Counter({
    name: 'govmesh_exec_context_entries_total',
    help: 'Entries sent in the context of forwarded exec frames',
    registers: [this.registry]
  })
  readonly apiRequests = new Counter(
    {
      name: 'govmesh_api_requests_total', help: 'HTTP API requests, by route and status',
      labelNames: ['route', 'status'], registers: [this.registry]
    }
  )
  readonly outsidersRefused = new Counter({
    name: 'govmesh_outsider_connections_refused_total',
    help: 'Connections refused after the handshake (not a member nor a pending admit), by reason and direction',
    labelNames: ['reason', 'direction'],
    registers: [this.registry]
  })
  readonly streamsRefused = new Counter({
    name: 'govmesh_streams_refused_total',
    help: 'Inbound sync and exec streams refused without writing anything, by protocol and reason',
    labelNames: ['protocol', 'reason'],
    registers: [this.registry]
  })
  readonly ingestSeconds = new Histogram(
    {
      name: 'govmesh_ingest_seconds', help: 'Time to validate and persist a batch of entries',
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1], registers: [this.registry]
    }
  )

  private storeStats: () => Readonly<GroupCommitStats> = () => ({ batches: 0, requests: 0, largest: 0 })
  readonly storeBatches = new Gauge({
    name: 'govmesh_store_batches',
    help: 'Level batches written since start (group commit: concurrent writes share one)',
    registers: [this.registry],
    collect: () => { this.storeBatches.set(this.storeStats().batches) }
  })
  readonly storeWrites = new Gauge({
    name: 'govmesh_store_batched_writes',
    help: 'Writes the level batches carried since start (divided by govmesh_store_batches: writes per batch)',
    registers: [this.registry],
    collect: () => { this.storeWrites.set(this.storeStats().requests) }
  })

  /** Reads the store's group commit figures at scrape time. */
  watchStore (stats: () => Readonly<GroupCommitStats>): void { this.storeStats = stats }

  reject (reason: string, source: string): void {
    this.rejections.inc({ reason, source })
  }
}
