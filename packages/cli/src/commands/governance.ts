import type { Command } from 'commander'
import { fromBase64, parsePublicKey, removalCut, policyUpdateFor, ZONE_PATTERN } from '@govmesh/core'
import { ApiClient, clientOptions, type ClientOptions } from '../client.js'
import { readKeyFile } from '../keyfile.js'
import { CliError, emit, EXIT } from '../output.js'
import { signAndSubmit } from '../submit.js'
import { readPolicyFile } from './genesis.js'
import type { PolicyResponse } from '@govmesh/node'
import { registerPolicyDryRun } from './policy-dryrun.js'


export function registerGovernance (program: Command): void {
  const policy = program.command('policy').description('show or change the replicated policy')
  clientOptions(policy.command('show').description('print the node\'s materialized policy and its digest'))
    .action(async (opts: ClientOptions) => {
      const p = await new ApiClient(opts).get<PolicyResponse>('/v1/policy')
      emit(opts.json === true, { digest: p.digest, hasPolicy: p.hasPolicy, document: p.document }, () =>
        `digest: ${p.digest}${p.hasPolicy ? '' : ' (no policy yet)'}\n${JSON.stringify(p.document, null, 2)}`)
    })
  clientOptions(policy.command('apply').description('sign a policy.update with a governor key (locally) turning the policy into FILE, and submit it')
    .argument('<file>', 'policy JSON file')
    .requiredOption('--governor <keyfile>', 'governor key file'))
    .action(async (file: string, opts: ClientOptions & { governor: string }) => {
      const doc = readPolicyFile(file)
      const keys = readKeyFile(opts.governor)
      const client = new ApiClient(opts)
      const current = await client.get<PolicyResponse>('/v1/policy')
      const update = policyUpdateFor(fromBase64(current.state), doc)
      if (update === null) {
        emit(opts.json === true, { changed: false, digest: current.digest }, () => `policy already matches ${file} (digest ${current.digest})`)
        return
      }
      const signed = await signAndSubmit(client, keys, 'policy.update', { update })
      const after = await client.get<PolicyResponse>('/v1/policy')
      emit(opts.json === true, { changed: true, cid: signed.id, digest: after.digest }, () => `policy.update ${signed.id}\ndigest: ${after.digest}`)
    })

  registerPolicyDryRun(policy)

  const member = program.command('member').description('admit or remove mesh members (governor key required)')
  clientOptions(member.command('admit').description('sign a member.admit with a governor key and submit it')
    .argument('<peerid>', 'PeerId (or hex public key) of the node to admit')
    .requiredOption('--zone <zone>', 'zone of the new member')
    .requiredOption('--governor <keyfile>', 'governor key file'))
    .action(async (peer: string, opts: ClientOptions & { zone: string, governor: string }) => {
      if (!ZONE_PATTERN.test(opts.zone)) throw new CliError(`--zone must match ${ZONE_PATTERN.source}`, EXIT.usage)
      const key = parseKey(peer)
      const signed = await signAndSubmit(new ApiClient(opts), readKeyFile(opts.governor), 'member.admit', { member: key, zone: opts.zone })
      emit(opts.json === true, { cid: signed.id, peerId: peer, zone: opts.zone }, () => `member.admit ${signed.id}: ${peer} in zone ${opts.zone}`)
    })
  clientOptions(member.command('remove').description('sign a member.remove with a governor key and submit it')
    .argument('<peerid>', 'PeerId (or hex public key) of the member to remove')
    .requiredOption('--governor <keyfile>', 'governor key file')
    .option('--reason <text>', 'why', 'removed by governor'))
    .action(async (peer: string, opts: ClientOptions & { governor: string, reason: string }) => {
      const key = parseKey(peer)
      const client = new ApiClient(opts)
      const { frontier } = await client.get<{ frontier: Record<string, number> }>('/v1/dag/heads')
      const hex = Buffer.from(key).toString('hex')
      const cut = removalCut(frontier, hex)
      const signed = await signAndSubmit(client, readKeyFile(opts.governor), 'member.remove', { member: key, cut, reason: opts.reason })
      emit(opts.json === true, { cid: signed.id, peerId: peer, cut }, () => `member.remove ${signed.id}: ${peer} (entries past seq ${cut} are invalid)`)
    })
}

function parseKey (text: string): Uint8Array {
  try {
    return parsePublicKey(text)
  } catch (err) {
    throw new CliError(`${text}: ${(err as Error).message}`, EXIT.usage)
  }
}
