import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import {
  parsePolicyTestRequest, parseSince, testPolicy, type PolicyDiff, type PolicyTestRequest, type ReplayResult
} from '@govmesh/core'
import { ApiClient, clientOptions, type ClientOptions } from '../client.js'
import { CliError, emit, EXIT, table } from '../output.js'
import { readPolicyFile } from './genesis.js'

interface TestOptions { request?: string, requests?: string, json?: boolean }

function readRequests (opts: TestOptions): PolicyTestRequest[] {
  if ((opts.request === undefined) === (opts.requests === undefined)) {
    throw new CliError('give exactly one of --request JSON or --requests FILE', EXIT.usage)
  }
  let json: unknown
  const source = opts.request !== undefined ? '--request' : opts.requests!
  try {
    json = JSON.parse(opts.request ?? readFileSync(opts.requests!, 'utf8'))
  } catch (err) {
    throw new CliError(`${source}: ${(err as Error).message}`, EXIT.usage)
  }
  const list = Array.isArray(json) ? json : [json]
  if (list.length === 0) throw new CliError(`${source}: no requests`, EXIT.usage)
  try {
    return list.map((r, i) => parsePolicyTestRequest(r, list.length === 1 ? 'request' : `request[${i}]`))
  } catch (err) {
    throw new CliError(`${source}: ${(err as Error).message}`, EXIT.usage)
  }
}

const ruleList = (rules: string[]): string => rules.length === 0 ? '-' : rules.join(',')

function diffText (d: PolicyDiff & { liveDigest: string, proposedDigest: string }): string {
  if (!d.changed) return `no change: the live policy already matches (digest ${d.liveDigest})`
  const lines = [`live ${d.liveDigest} → proposed ${d.proposedDigest}`]
  for (const r of d.rules.added) lines.push(`+ rule ${r.id} (${r.effect} ${r.actions.join(',')})`)
  for (const r of d.rules.removed) lines.push(`- rule ${r.id} (${r.effect} ${r.actions.join(',')})`)
  for (const c of d.rules.changed) {
    const fields = (Object.keys(c.after) as Array<keyof typeof c.after>)
      .filter(k => JSON.stringify(c.before[k]) !== JSON.stringify(c.after[k]))
      .map(k => `${k} ${JSON.stringify(c.before[k])} → ${JSON.stringify(c.after[k])}`)
    lines.push(`~ rule ${c.id}: ${fields.join('; ')}`)
  }
  for (const r of d.roles.added) lines.push(`+ role ${r}`)
  for (const r of d.roles.removed) lines.push(`- role ${r}`)
  for (const c of d.roles.changed) lines.push(`~ role ${c.id}: ${c.before.join(',')} → ${c.after.join(',')}`)
  for (const [a, b] of d.transitions.added) lines.push(`+ transition ${a} → ${b}`)
  for (const [a, b] of d.transitions.removed) lines.push(`- transition ${a} → ${b}`)
  for (const m of d.measurements.added) lines.push(`+ measurement ${m}`)
  for (const m of d.measurements.removed) lines.push(`- measurement ${m}`)
  for (const s of d.settings) lines.push(`~ ${s.id}: ${s.before} → ${s.after}`)
  return lines.join('\n')
}

interface Digests { liveDigest: string, proposedDigest: string }
const verdict = (v: { allow: boolean, rules: string[] }): string =>
  `${v.allow ? 'allow' : 'deny'} (${ruleList(v.rules)})`

/** `policy test`, `policy diff` and `policy replay`: see what a policy file would do before anyone signs it. */
export function registerPolicyDryRun (policy: Command): void {
  policy.command('test')
    .description('decide requests under the policy in FILE (offline), naming the rules that decided')
    .argument('<file>', 'proposed policy JSON file')
    .option('--request <json>', 'one request: {"principal","action","resource","zone","fromZone"?} (or a JSON array)')
    .option('--requests <file>', 'a JSON file holding an array of requests')
    .option('--json', 'print JSON')
    .action((file: string, opts: TestOptions) => {
      const doc = readPolicyFile(file)
      const result = testPolicy(doc, readRequests(opts))
      const header = ['PRINCIPAL', 'ACTION', 'RESOURCE', 'ZONE', 'VERDICT', 'REASON', 'RULES']
      emit(opts.json === true, result, () => table(header, result.decisions.map(d => [
        d.request.principal.length > 16 ? d.request.principal.slice(0, 16) + '…' : d.request.principal,
        d.request.action, d.request.resource,
        d.request.fromZone !== undefined ? `${d.request.fromZone}→${d.request.zone}` : d.request.zone,
        d.allow ? 'allow' : 'deny', d.reason, ruleList(d.rules)
      ]), { shrink: [2] }))
    })

  clientOptions(policy.command('diff')
    .description('what the policy in FILE changes against the node\'s live policy, rule by rule')
    .argument('<file>', 'proposed policy JSON file'))
    .action(async (file: string, opts: ClientOptions) => {
      const doc = readPolicyFile(file)
      const r = await new ApiClient(opts).post<PolicyDiff & Digests>('/v1/policy/diff', { policy: doc })
      emit(opts.json === true, r.body, () => diffText(r.body))
    })

  clientOptions(policy.command('replay')
    .description('re-decide the execution requests recorded in the DAG under the policy in FILE; ' +
      'list every verdict that changes')
    .argument('<file>', 'proposed policy JSON file')
    .option('--since <time>', 'only requests recorded at or after TIME (ISO date or unix ms)'))
    .action(async (file: string, opts: ClientOptions & { since?: string }) => {
      const since = parseSince(opts.since)
      if (since !== undefined && Number.isNaN(since)) {
        throw new CliError(`--since ${opts.since ?? ''}: expected an ISO date or unix ms`, EXIT.usage)
      }
      const doc = readPolicyFile(file)
      const r = await new ApiClient(opts).post<ReplayResult & Digests>('/v1/policy/replay',
        { policy: doc, ...(since !== undefined ? { since } : {}) })
      const res = r.body
      emit(opts.json === true, res, () => {
        const head = `${res.replayed} recorded request(s) replayed; ${res.changes.length} verdict(s) change`
        if (res.changes.length === 0) return head
        const header = ['REQUEST', 'TIME', 'ACTION', 'RESOURCE', 'ZONE', 'LIVE', 'PROPOSED']
        return head + '\n' + table(header, res.changes.map(c => [
          c.cid, new Date(c.time).toISOString(), c.request.action, c.request.resource, c.after.zone,
          verdict(c.before), verdict(c.after)
        ]), { shrink: [0, 3] })
      })
    })
}
