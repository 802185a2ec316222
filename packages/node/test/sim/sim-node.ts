import type { CryptoProvider, KeyPair, SignedEntry } from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import {
  createLocalServices, createNetworkServices, type LocalServices, type NetworkServices
} from '../../src/compose.js'
import { NodeEventBus } from '../../src/events.js'
import { Ledger, type LedgerStore } from '../../src/ledger.js'
import { silentLogger } from '../../src/logger.js'
import { NodeMetrics } from '../../src/metrics.js'
import { PeerDirectory } from '../../src/peers.js'
import type { MeshNetwork } from '../../src/network.js'
import type { SimHub } from './hub.js'

/** The store of a simulated node: writes succeed at once (durability is the level store's test). */
const MEMORY_STORE: LedgerStore = {
  putAccepted: async () => {},
  putPending: async () => {},
  deletePending: async () => {}
}

const MEASUREMENT = '00'.repeat(32)

/**
 * node:crypto with verifications remembered by (signature, message, key): verifying the same bytes
 * always gives the same answer, so thirty nodes of one process check each signature once.
 */
function sharedVerifications (): CryptoProvider {
  const known = new Map<string, boolean>()
  return {
    ...nodeCrypto,
    name: 'node-shared-verify',
    verify: (sig, message, publicKey) => {
      const k = `${Buffer.from(sig).toString('base64')}|${Buffer.from(publicKey).toString('base64')}|${Buffer.from(nodeCrypto.sha256(message)).toString('base64')}`
      let ok = known.get(k)
      if (ok === undefined) {
        ok = nodeCrypto.verify(sig, message, publicKey)
        known.set(k, ok)
      }
      return ok
    }
  }
}

const SHARED = sharedVerifications()

/** One node of the simulated mesh: the real ledger and services, composed as the daemon composes them. */
export interface SimNode {
  ledger: Ledger
  events: NodeEventBus
  local: LocalServices
  services: NetworkServices
  /** Its view of the hub (to speak a protocol to a peer directly). */
  network: MeshNetwork
  stop: () => Promise<void>
}

/**
 * Composes and starts a node over the hub with the daemon's own composition functions; only the
 * store (memory) and the transport (the hub) differ. Heartbeats are sent by the schedule (`beat()`).
 */
export async function startSimNode (
  hub: SimHub, genesis: SignedEntry<'mesh.genesis'>, keys: KeyPair, crypto: CryptoProvider = SHARED,
  gossipCoalesceMs = 0
): Promise<SimNode> {
  const events = new NodeEventBus()
  const metrics = new NodeMetrics()
  const ledger = new Ledger({ genesis, keys, crypto }, { store: MEMORY_STORE, metrics, events, logger: silentLogger })
  const base = { ledger, peers: new PeerDirectory(), metrics, events, logger: silentLogger }
  const local = createLocalServices(base)
  const network = hub.join(ledger.peerId)
  // Anti-entropy, heartbeats and gossip run when the schedule says, not on timers.
  const services = createNetworkServices(base, local, network, {
    measurement: MEASUREMENT, periodicHeartbeats: false, antiEntropyMs: 2 ** 30, gossipCoalesceMs
  })
  for (const s of services.startables) await s.start()
  return {
    ledger,
    events,
    local,
    services,
    network,
    stop: async () => { for (const s of [...services.startables].reverse()) await s.stop() }
  }
}
