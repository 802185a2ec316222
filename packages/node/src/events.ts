/**
 * The node's events: one list, documented here once. The API streams every one of them as
 * server-sent events (`GET /v1/events`, event name = key, data = JSON of the detail).
 *
 * @packageDocumentation
 */
import { EventEmitter } from 'node:events'
import type { EntryType } from '@govmesh/core'
import type { PeerRecord } from './peers.js'

/** Where an entry came from; a label on metrics, logs and `entry:added`. */
export type EntrySource = 'api' | 'local' | 'gossip' | 'sync' | 'disk'

/** Every event a node emits, by name, with its detail. */
export interface NodeEvents {
  /** An entry was accepted and is on disk. */
  'entry:added': { id: string, type: EntryType, author: string, seq: number, source: EntrySource }
  /** Offered bytes were rejected (not pending entries that fail later). */
  'entry:rejected': { reason: string, source: EntrySource, message: string }
  /** A libp2p connection to a peer opened (after the connection rule admitted it). */
  'peer:connect': { peerId: string, member: boolean }
  'peer:disconnect': { peerId: string }
  /** The policy digest changed. */
  'policy:changed': { digest: string }
  /** A peer entered or left quarantine. */
  'trust:changed': { peerId: string, key: string, status: 'quarantined' | 'restored' }
  /** An execution was refused here (`refusal` absent when nothing could be recorded). */
  'exec:refused': { request: string, refusal?: string, reason: string, detail: string, hop: number }
  /** A valid heartbeat arrived from a member. */
  'heartbeat:received': PeerRecord
}

export type NodeEventName = keyof NodeEvents

/** The names of {@link NodeEvents}, in documentation order. */
export const NODE_EVENTS = [
  'entry:added', 'entry:rejected', 'peer:connect', 'peer:disconnect', 'policy:changed', 'trust:changed',
  'exec:refused', 'heartbeat:received'
] as const satisfies readonly NodeEventName[]

/**
 * A typed event bus for {@link NodeEvents}; services get it as their `events` component.
 *
 * @example
 * ```ts
 * const events = new NodeEventBus()
 * events.on('entry:added', (e) => { console.log(e.id, e.type) })
 * events.emit('policy:changed', { digest })
 * ```
 */
export class NodeEventBus {
  private readonly emitter = new EventEmitter()

  constructor () {
    // Every SSE client adds one listener per event.
    this.emitter.setMaxListeners(0)
  }

  on<K extends NodeEventName> (name: K, fn: (detail: NodeEvents[K]) => void): void {
    this.emitter.on(name, fn)
  }

  off<K extends NodeEventName> (name: K, fn: (detail: NodeEvents[K]) => void): void {
    this.emitter.off(name, fn)
  }

  emit<K extends NodeEventName> (name: K, detail: NodeEvents[K]): void {
    this.emitter.emit(name, detail)
  }

  /** Whether anyone listens: building a detail is skipped when nobody does. */
  listening (name: NodeEventName): boolean {
    return this.emitter.listenerCount(name) > 0
  }
}
