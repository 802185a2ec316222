/**
 * Length-prefixed (unsigned varint) framing over a libp2p 2.x stream, for
 * request/response protocols that exchange several frames each way.
 *
 * @packageDocumentation
 */
import * as lp from 'it-length-prefixed'
import type { Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import { FrameTooLargeError, ReadTimeoutError } from './errors.js'

/** Default upper bound on a single frame's payload (1 MiB). */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024

export { FrameTooLargeError, ReadTimeoutError }

/** Options for {@link FramedStream}. */
export interface FramedStreamOptions {
  /** Largest accepted payload, both directions. @defaultValue {@link DEFAULT_MAX_FRAME_BYTES} */
  maxFrameBytes?: number
  /** Default timeout for {@link FramedStream.read}; absent means wait forever. */
  readTimeoutMs?: number
}

/** Per-call options for {@link FramedStream.read}. */
export interface ReadOptions {
  /** Overrides the stream-wide `readTimeoutMs`. */
  timeoutMs?: number
}

/** The subset of a libp2p stream that framing needs; eases testing with in-memory duplexes. */
export type FramedDuplex = Pick<Stream, 'source' | 'sink' | 'close' | 'abort'>

interface Outgoing {
  frame: Uint8ArrayList
  resolve: () => void
  reject: (err: Error) => void
}

/**
 * Frame-at-a-time reader/writer over one libp2p stream.
 *
 * Reads and writes are independent, so a handler can read a request, write
 * several response frames, then read again. A read that throws
 * {@link ReadTimeoutError} loses nothing: the next `read()` resumes waiting for
 * the same frame. Oversized incoming frames abort the stream (framing cannot
 * resynchronise) and throw {@link FrameTooLargeError}; oversized outgoing
 * frames throw locally and leave the stream usable.
 *
 * @example
 * ```ts
 * // server
 * node.handle('/govmesh/sync/1.0.0', async ({ stream }) => {
 *   const framed = new FramedStream(stream, { maxFrameBytes: 64 * 1024, readTimeoutMs: 5_000 })
 *   try {
 *     const req = await framed.read()
 *     if (req === undefined) return
 *     for (const chunk of answer(req)) await framed.write(chunk)
 *     await framed.close()
 *   } catch (err) {
 *     framed.abort(err as Error)
 *   }
 * })
 *
 * // client
 * const framed = new FramedStream(await node.dialProtocol(peer, '/govmesh/sync/1.0.0'))
 * await framed.write(request)
 * await framed.closeWrite()
 * for (let f = await framed.read(); f !== undefined; f = await framed.read()) use(f)
 * ```
 */
export class FramedStream {
  readonly maxFrameBytes: number
  private readonly readTimeoutMs: number | undefined
  private readonly stream: FramedDuplex
  private readonly frames: AsyncIterator<Uint8ArrayList>
  // A read abandoned by a timeout keeps its promise here so the frame is not lost.
  private pendingRead: Promise<IteratorResult<Uint8ArrayList>> | undefined
  private reading = false

  private readonly outbox: Outgoing[] = []
  private wakeWriter: (() => void) | undefined
  private writeEnded = false
  private writeError: Error | undefined
  private readonly sinkDone: Promise<void>

  constructor (stream: FramedDuplex, options: FramedStreamOptions = {}) {
    this.stream = stream
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
    this.readTimeoutMs = options.readTimeoutMs
    const max = this.maxFrameBytes
    this.frames = lp.decode(stream.source, {
      // Our own check in onLength reports the actual size; lp's built-in one does not.
      maxDataLength: Number.MAX_SAFE_INTEGER,
      onLength: (length) => {
        if (length > max) throw new FrameTooLargeError(length, max)
      }
    })[Symbol.asyncIterator]()
    this.sinkDone = stream.sink(this.drainOutbox()).catch((err: unknown) => {
      this.failWrites(toError(err))
    })
  }

  /**
   * Read the next frame's payload; `undefined` once the remote has closed its
   * write side cleanly. Concurrent reads are not allowed.
   */
  async read (options: ReadOptions = {}): Promise<Uint8Array | undefined> {
    if (this.reading) throw new Error('FramedStream.read() called while another read is pending')
    this.reading = true
    try {
      if (this.pendingRead === undefined) {
        this.pendingRead = this.frames.next()
        // If a timed-out read is never retried, its later rejection must not
        // surface as an unhandled rejection.
        this.pendingRead.catch(() => {})
      }
      const timeoutMs = options.timeoutMs ?? this.readTimeoutMs
      const result = await withTimeout(this.pendingRead, timeoutMs)
      this.pendingRead = undefined
      if (result.done === true) return undefined
      const bytes = result.value.subarray()
      // Node's TCP layer yields Buffers; a plain view (no copy) keeps callers'
      // deep-equality checks and type assumptions predictable.
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    } catch (err) {
      if (err instanceof ReadTimeoutError) throw err
      this.pendingRead = undefined
      // After an oversized length prefix the byte stream cannot be resynchronised.
      if (err instanceof FrameTooLargeError) this.abort(err)
      throw err
    } finally {
      this.reading = false
    }
  }

  /** Queue one frame; resolves once the stream has taken it (back-pressure). */
  async write (bytes: Uint8Array): Promise<void> {
    if (bytes.byteLength > this.maxFrameBytes) {
      throw new FrameTooLargeError(bytes.byteLength, this.maxFrameBytes)
    }
    if (this.writeError != null) throw this.writeError
    if (this.writeEnded) throw new Error('FramedStream is closed for writing')
    const frame = lp.encode.single(bytes)
    await new Promise<void>((resolve, reject) => {
      this.outbox.push({ frame, resolve, reject })
      this.wake()
    })
  }

  /** Flush queued frames and half-close: the remote's reads end, ours continue. */
  async closeWrite (): Promise<void> {
    this.writeEnded = true
    this.wake()
    await this.sinkDone
    if (this.writeError != null) throw this.writeError
  }

  /** Flush queued frames, then close both directions gracefully. */
  async close (): Promise<void> {
    await this.closeWrite()
    await this.stream.close()
  }

  /** Reset the stream immediately; pending and future writes fail with `err`. */
  abort (err: Error): void {
    this.failWrites(err)
    this.stream.abort(err)
  }

  private async * drainOutbox (): AsyncGenerator<Uint8ArrayList> {
    let inFlight: Outgoing | undefined
    try {
      while (true) {
        inFlight = this.outbox.shift()
        if (inFlight != null) {
          yield inFlight.frame
          // Control returns here only when the sink asks for more, i.e. after
          // it has handed this frame to the muxer.
          inFlight.resolve()
          inFlight = undefined
          continue
        }
        if (this.writeEnded) return
        await new Promise<void>((resolve) => { this.wakeWriter = resolve })
      }
    } finally {
      // Reached with frames outstanding only when the stream stopped pulling
      // (abort/reset); their writers must not hang.
      this.writeEnded = true
      const err = this.writeError ?? new Error('stream closed before frame was sent')
      inFlight?.reject(err)
      for (const pending of this.outbox.splice(0)) pending.reject(err)
    }
  }

  private wake (): void {
    const wake = this.wakeWriter
    this.wakeWriter = undefined
    wake?.()
  }

  private failWrites (err: Error): void {
    this.writeError ??= err
    this.writeEnded = true
    for (const pending of this.outbox.splice(0)) pending.reject(err)
    this.wake()
  }
}

function toError (err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}

async function withTimeout<T> (promise: Promise<T>, timeoutMs: number | undefined): Promise<T> {
  if (timeoutMs === undefined) return promise
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new ReadTimeoutError(timeoutMs)) }, timeoutMs)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
