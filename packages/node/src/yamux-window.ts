/**
 * Yamux receive-window updates at half the window, as go-yamux sends them.
 *
 * @chainsafe/libp2p-yamux sends a WINDOW_UPDATE frame after every data frame a stream reads, so
 * each gossip message a node receives costs a second, 30-byte noise-encrypted write back to the
 * sender: on an idle mesh about half of all socket writes, and a syscall plus a decrypt on both
 * ends. The yamux spec leaves the timing to the receiver; the sender may use the whole window, so
 * updating once half of it is consumed never stalls a sender that has the other half.
 *
 * @packageDocumentation
 */
import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'

/** The stream's own fields this patch reads (private in the library's types, public at run time). */
interface WindowState {
  state: StreamState
  recvWindow: unknown
  recvWindowCapacity: unknown
}

let installed = false

/**
 * Whether a stream should send a window update now: always while its handshake flags (SYN/ACK)
 * are still to be sent, else only once at least half of the receive window was consumed. A stream
 * whose fields are not what this module expects (another library version) always sends.
 *
 * @example
 * ```ts
 * windowUpdateDue({ state: StreamState.Established, recvWindow: 262144, recvWindowCapacity: 261000 }) // false
 * ```
 */
export function windowUpdateDue (s: WindowState): boolean {
  if (typeof s.recvWindow !== 'number' || typeof s.recvWindowCapacity !== 'number') return true
  if (s.state === StreamState.Init || s.state === StreamState.SYNReceived) return true
  return s.recvWindow - s.recvWindowCapacity >= s.recvWindow / 2
}

/**
 * Installs the half-window rule on every yamux stream of this process (once).
 *
 * @example
 * ```ts
 * installHalfWindowUpdates()
 * const node = await createLibp2p({ streamMuxers: [yamux()], ... })
 * ```
 */
export function installHalfWindowUpdates (): void {
  if (installed) return
  installed = true
  const proto = YamuxStream.prototype
  const send = Object.getOwnPropertyDescriptor(proto, 'sendWindowUpdate')?.value as (this: YamuxStream) => void
  proto.sendWindowUpdate = function (this: YamuxStream): void {
    if (windowUpdateDue(this as unknown as WindowState)) send.call(this)
  }
}
