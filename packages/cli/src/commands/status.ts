import type { Command } from 'commander'
import { ApiClient, clientOptions, wideOutput, type ClientOptions } from '../client.js'
import { memberNames, peerLabel } from '../names.js'
import { emit, table } from '../output.js'
import type { PeerView as Peer, StatusResponse as Status } from '@govmesh/node'


export function registerStatus (program: Command): void {
  clientOptions(
    program.command('status').description('show a node\'s identity, mesh, policy digest, DAG heads and peers')
  )
    .action(async (opts: ClientOptions) => {
      const client = new ApiClient(opts)
      const s = await client.get<Status>('/v1/status')
      const name = opts.json === true ? undefined : (await memberNames(client)).get(s.peerId)
      emit(opts.json === true, s, () => [
        ...(name !== undefined ? [`name:           ${name}`] : []),
        `peer id:        ${s.peerId}`,
        `mesh:           ${s.meshName} ${s.meshId}`,
        `zone:           ${s.zone ?? '(not a member)'}`,
        `policy digest:  ${s.policyDigest}${s.hasPolicy ? '' : ' (no policy yet)'}`,
        `entries:        ${s.entries} (${s.pending} pending), authors ${Object.keys(s.frontier).length}`,
        `heads:          ${s.heads.join(', ')}`,
        `peers:          ${s.peers}`,
        `measurement:    ${s.measurement}`,
        'addrs:',
        ...s.addrs.map(a => `  ${a}`)
      ].join('\n'))
    })

  clientOptions(
    program.command('peers').description('list the peers a node knows, with membership, zone and last heartbeat')
  )
    .action(async (opts: ClientOptions) => {
      const client = new ApiClient(opts)
      const { peers } = await client.get<{ peers: Peer[] }>('/v1/peers')
      if (opts.json === true) { emit(true, { peers }, () => ''); return }
      const names = await memberNames(client)
      const wide = wideOutput(opts)
      emit(false, { peers }, () => peers.length === 0
        ? 'no peers'
        : table(['PEER', 'CONNECTED', 'MEMBER', 'ZONE', 'LAST HEARTBEAT', 'POLICY'], peers.map(p => [
          peerLabel(p.peerId, names, wide), p.connected ? 'yes' : 'no', p.member ? 'yes' : 'no', p.zone ?? '-',
          p.lastHeartbeat === null ? '-' : `${Math.round((Date.now() - p.lastHeartbeat) / 100) / 10}s ago`,
          wide ? p.policyDigest ?? '-' : p.policyDigest?.slice(0, 12) ?? '-'
        ]), { wide, shrink: [0] }))
    })

  clientOptions(
    program.command('join').description(
      'ask a running node to dial a peer (a bootstrap multiaddr with /p2p/)'
    ).argument('<multiaddr>')
  )
    .action(async (addr: string, opts: ClientOptions) => {
      const res = await new ApiClient(opts).post<{ peerId: string }>('/v1/join', { multiaddr: addr })
      emit(opts.json === true, res.body, () => `connected to ${res.body.peerId}`)
    })
}
