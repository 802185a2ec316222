import type { FramedDuplex } from './framing.js'

/** A gossip validator's answer: accept (deliver and forward), reject (penalise the sender), ignore. */
export type GossipResult = 'accept' | 'reject' | 'ignore'

/** One open connection, as the services see it. */
export interface ConnectionInfo {
  peerId: string
  direction: 'inbound' | 'outbound'
  remoteAddr: string
}

/** Handles one inbound protocol stream from `from`. */
export type StreamHandler = (stream: FramedDuplex, from: string) => void

/**
 * What the services need of the network: peers, protocol streams and topics. libp2p provides it
 * in the daemon ({@link ./libp2p-network.ts}); the simulated mesh of the tests provides it in
 * memory, so the same services run over both. PeerIds are strings throughout.
 */
export interface MeshNetwork {
  /** This node's listen addresses. */
  addrs: () => string[]
  /** Peers with an open connection. */
  connectedPeers: () => string[]
  isConnected: (peerId: string) => boolean
  /** Open connections (cheap: no PeerId strings are made; may be up to half a second old). */
  connectionCount: () => number
  connections: () => ConnectionInfo[]
  /**
   * Opens a protocol stream to a peer: over an open connection, else by dialing `addrs`.
   * Rejects when neither works within the signal.
   */
  openStream: (
    peerId: string, protocol: string, opts: { signal: AbortSignal, addrs?: string[] }
  ) => Promise<FramedDuplex>
  handle: (protocol: string, handler: StreamHandler, opts: { maxInboundStreams: number }) => Promise<void>
  publish: (topic: string, data: Uint8Array) => Promise<void>
  /** Subscribes to a topic; every message is first judged by `validate` (`from` is the direct sender). */
  subscribe: (topic: string, validate: (from: string, data: Uint8Array) => Promise<GossipResult>) => void
  /** Dials addresses; resolves with the PeerId reached. */
  dial: (addrs: string[], opts?: { signal?: AbortSignal }) => Promise<string>
  /** Closes every connection to a peer. */
  hangUp: (peerId: string) => Promise<void>
  onPeerConnect: (fn: (peerId: string) => void) => void
  onPeerDisconnect: (fn: (peerId: string) => void) => void
}
