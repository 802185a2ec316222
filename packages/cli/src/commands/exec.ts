import { randomBytes } from 'node:crypto'
import type { Command } from 'commander'
import { CID, DEFAULT_EXEC_TIMEOUT_MS, MAX_EXEC_TIMEOUT_MS, signAgentRequest, toHex } from '@govmesh/core'
import { ApiClient, clientOptions, type ClientOptions } from '../client.js'
import { readKeyFile } from '../keyfile.js'
import { CliError, emit, EXIT } from '../output.js'
import type { ExecResponse } from '@govmesh/node'

/** The deciding rules and policy digest, when the policy decided. */
function ruleLine (r: ExecResponse): string {
  if (r.policy === undefined) return ''
  return `rules: ${r.policy.rules.length === 0 ? '-' : r.policy.rules.join(', ')} (policy ` +
    `${r.policy.digest.slice(0, 16)}…)\n`
}

export function registerExec (program: Command): void {
  clientOptions(program.command('exec')
    .description('submit a governed execution at a node; exit 0 on success, 3 on refusal')
    .requiredOption('--action <action>', 'action name, e.g. echo')
    .requiredOption('--resource <resource>', 'resource name')
    .requiredOption('--target <target>', 'a PeerId or zone:NAME')
    .option('--payload <json>', 'JSON payload for the executor', 'null')
    .option('--route <peers>', 'comma-separated PeerIds to pass through first (default: the node plans the route)')
    .option('--timeout-ms <ms>',
      `deadline for the whole execution, 1 to ${MAX_EXEC_TIMEOUT_MS} ms (default ${DEFAULT_EXEC_TIMEOUT_MS})`)
    .option('--parent <cid>', 'parent execution CID this one extends')
    .option('--key <agent.key>', 'sign the request with an agent key (the principal becomes that key)'))
    .action(async (opts: ClientOptions & {
      action: string, resource: string, target: string, payload: string, route?: string, parent?: string, key?: string
      timeoutMs?: string
    }) => {
      let payload: unknown
      try {
        payload = JSON.parse(opts.payload)
      } catch {
        throw new CliError('--payload: not valid JSON', EXIT.usage)
      }
      const timeoutMs = opts.timeoutMs !== undefined ? Number(opts.timeoutMs) : undefined
      const validTimeout = (ms: number): boolean => Number.isInteger(ms) && ms >= 1 && ms <= MAX_EXEC_TIMEOUT_MS
      if (timeoutMs !== undefined && !validTimeout(timeoutMs)) {
        throw new CliError(`--timeout-ms: expected an integer from 1 to ${MAX_EXEC_TIMEOUT_MS}`, EXIT.usage)
      }
      const route = opts.route !== undefined ? opts.route.split(',').map(s => s.trim()).filter(Boolean) : []
      const client = new ApiClient(opts)
      const nonce = randomBytes(16).toString('hex')
      let agent: { key: string, sig: string } | undefined
      if (opts.key !== undefined) {
        const keys = readKeyFile(opts.key)
        const { meshId } = await client.get<{ meshId: string }>('/v1/status')
        let parent: CID | null = null
        if (opts.parent !== undefined) {
          try { parent = CID.parse(opts.parent) } catch { throw new CliError('--parent: not a CID', EXIT.usage) }
        }
        const signed = signAgentRequest(
          {
            mesh: CID.parse(meshId), action: opts.action, resource: opts.resource, target: opts.target, route, payload,
            parent, nonce
          },
          keys
        )
        agent = { key: toHex(signed.key), sig: toHex(signed.sig) }
      }
      const res = await client.post<ExecResponse>('/v1/exec', {
        action: opts.action, resource: opts.resource, target: opts.target, payload, route, nonce,
        ...(opts.parent !== undefined ? { parent: opts.parent } : {}),
        ...(agent !== undefined ? { agent } : {}),
        ...(timeoutMs !== undefined ? { timeoutMs } : {})
      })
      const r = res.body
      // The human form shows the route from this node; only it needs the node's own PeerId.
      const human = opts.json !== true && r.route !== undefined
      const origin = human ? (await client.get<{ peerId: string }>('/v1/status')).peerId : ''
      const routeLine = `route: ${r.route === undefined ? '-' : [origin, ...r.route].join(' → ')}`
      const lineage = `lineage: ${r.lineage.join(' → ')}`
      emit(opts.json === true, {
        ok: r.ok,
        result: r.result ?? null,
        ...(r.resultCid !== undefined ? { resultCid: r.resultCid } : {}),
        ...(r.refusalCid !== undefined ? { refusalCid: r.refusalCid } : {}),
        reason: r.reason ?? null,
        detail: r.detail ?? null,
        route: r.route ?? null,
        lineage: r.lineage,
        policy: r.policy ?? null
      }, () => r.ok
        ? `ok: ${JSON.stringify(r.result)}\n${routeLine}\n${ruleLine(r)}result: ${r.resultCid ?? '-'}\n${lineage}`
        : `refused: ${r.reason ?? 'unknown'} (${r.detail ?? ''})\n${routeLine}\n${ruleLine(r)}` +
          `refusal: ${r.refusalCid ?? '-'}\n${lineage}`)
      if (!r.ok) process.exitCode = r.reason !== undefined ? EXIT.refused : EXIT.error
    })
}
