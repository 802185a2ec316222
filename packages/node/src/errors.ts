/**
 * The node's error family. Every error the daemon raises on purpose is a {@link NodeError}: a
 * {@link GovmeshError} with a stable `name` and a machine-readable `code` (the API's `error`
 * field and the metrics label), as core's errors are. Callers branch on `code`, never on text.
 *
 * | class | code |
 * |---|---|
 * | ExecInputError | `exec.input` |
 * | DeadlineError | `exec.deadline` |
 * | ExecutorError | `exec.executor` |
 * | OwnEntryRejectedError | `node.own-entry-rejected` |
 * | NodeRefillingError | `node.refilling` |
 * | SyncProtocolError | `sync.protocol` |
 * | HeartbeatsProtocolError | `heartbeats.protocol` |
 * | FrameTooLargeError | `frame.too-large` |
 * | ReadTimeoutError | `frame.read-timeout` |
 * | ConsoleNotBuiltError | `console.not-built` |
 * | StoreMismatchError, StoreLockedError, StoreDamagedError (store.ts) | `store.mismatch`, `store.locked`,
 * `store.damaged` |
 * | HistoryDamagedError | `store.damaged` |
 *
 * @packageDocumentation
 */
import { GovmeshError } from '@govmesh/core'

/** Base of every error the node raises on purpose. */
export class NodeError extends GovmeshError {
  constructor (code: string, message: string) {
    super(code, message)
    this.name = 'NodeError'
  }
}

/** A NodeError subclass with its own stable `name` and `code`, for errors that carry only a message. */
function nodeErrorClass (name: string, code: string): new (message: string) => NodeError {
  const cls = class extends NodeError {
    constructor (message: string) {
      super(code, message)
      this.name = name
    }
  }
  Object.defineProperty(cls, 'name', { value: name })
  return cls
}

/** A request was malformed before anything was recorded (HTTP 400). */
export const ExecInputError = nodeErrorClass('ExecInputError', 'exec.input')
export type ExecInputError = InstanceType<typeof ExecInputError>

/** The deadline ran out while this node was still reaching the next one. */
export const DeadlineError = nodeErrorClass('DeadlineError', 'exec.deadline')
export type DeadlineError = InstanceType<typeof DeadlineError>

/** An executor's configuration is invalid or it failed to run. */
export const ExecutorError = nodeErrorClass('ExecutorError', 'exec.executor')
export type ExecutorError = InstanceType<typeof ExecutorError>

/** This node's own entry failed the checks a peer applies; it was not stored nor published. */
export class OwnEntryRejectedError extends NodeError {
  constructor (readonly reason: string, detail: string) {
    super('node.own-entry-rejected', `own entry not accepted: ${reason} ${detail}`.trimEnd())
    this.name = 'OwnEntryRejectedError'
  }
}

/** The node is refilling its store after a rebuild and does not author yet (HTTP 503). */
export class NodeRefillingError extends NodeError {
  readonly statusCode = 503
  constructor (have: number, need: number) {
    super('node.refilling', `the store is refilling from peers after a rebuild (own seq ${have} of ${need}): ` +
      'this node authors nothing until its own entries are back')
    this.name = 'NodeRefillingError'
  }
}

/** A sync peer broke the protocol (unexpected message, wrong mesh, oversized batch). */
export const SyncProtocolError = nodeErrorClass('SyncProtocolError', 'sync.protocol')
export type SyncProtocolError = InstanceType<typeof SyncProtocolError>

/** A peer's latest-heartbeats frame is not what §19.4 allows (shape, mesh, size). */
export const HeartbeatsProtocolError = nodeErrorClass('HeartbeatsProtocolError', 'heartbeats.protocol')
export type HeartbeatsProtocolError = InstanceType<typeof HeartbeatsProtocolError>

/** A frame's payload exceeds the configured maximum (on read or write). */
export class FrameTooLargeError extends NodeError {
  constructor (readonly frameBytes: number, readonly maxFrameBytes: number) {
    super('frame.too-large', `frame of ${frameBytes} bytes exceeds limit of ${maxFrameBytes} bytes`)
    this.name = 'FrameTooLargeError'
  }
}

/** No frame arrived within the read timeout. */
export class ReadTimeoutError extends NodeError {
  constructor (readonly timeoutMs: number) {
    super('frame.read-timeout', `no frame received within ${timeoutMs} ms`)
    this.name = 'ReadTimeoutError'
  }
}

/**
 * A query read a stored entry that is missing, or whose bytes do not hash to its CID: the store
 * is damaged. Reported (HTTP 500, `store.damaged`), never served; `govmesh dag verify` names the rest.
 */
export const HistoryDamagedError = nodeErrorClass('HistoryDamagedError', 'store.damaged')
export type HistoryDamagedError = InstanceType<typeof HistoryDamagedError>

/** Thrown at start-up when the console was not built (`npm run build` builds it). */
export const ConsoleNotBuiltError = nodeErrorClass('ConsoleNotBuiltError', 'console.not-built')
export type ConsoleNotBuiltError = InstanceType<typeof ConsoleNotBuiltError>
