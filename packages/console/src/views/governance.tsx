import { getJson } from '../api.js'
import { diffLines } from '../diff.js'
import { formatTime, shortId, text } from '../format.js'
import { useLive } from '../live.js'
import { peerIdOfKey } from '../keys.js'
import type { EntryView, GovernanceAnswer, PolicyVersion, TrustAnswer, TrustFailure } from '../types.js'

const GOVERNANCE_TYPES = new Set([
  'member.admit', 'member.remove', 'policy.update', 'trust.fail', 'trust.restore', 'governor.add', 'governor.remove',
  'governor.quorum'
])
const onGovernance = (name: string, data: unknown): boolean =>
  name !== 'entry:added' || GOVERNANCE_TYPES.has((data as { type?: string } | null)?.type ?? '')

interface Approvals {
  subject: string
  approvals: Array<{ governor: string; clears: string[] }>
}

async function loadAll(): Promise<{
  gov: GovernanceAnswer
  trust: TrustAnswer
  history: PolicyVersion[]
  members: EntryView[]
  approvals: Approvals[]
}> {
  const [gov, trust, history, admits, removes] = await Promise.all([
    getJson<GovernanceAnswer>('/v1/governance'),
    getJson<TrustAnswer>('/v1/trust'),
    getJson<{ versions: PolicyVersion[] }>('/v1/policy/history'),
    getJson<{ entries: EntryView[] }>('/v1/dag/log?type=member.admit&limit=500'),
    getJson<{ entries: EntryView[] }>('/v1/dag/log?type=member.remove&limit=500')
  ])
  const subjects = [...new Set(trust.failures.filter(f => !f.cleared).map(f => f.subject))]
  const approvals = await Promise.all(
    subjects.map(async s => ({
      subject: s,
      ...(await getJson<Omit<Approvals, 'subject'>>(`/v1/trust/approvals?subject=${s}`))
    }))
  )
  const members = [...admits.entries, ...removes.entries].sort((a, b) => b.time - a.time)
  return { gov, trust, history: history.versions, members, approvals }
}

function PolicyHistory(props: { versions: PolicyVersion[] }): preact.JSX.Element {
  const rows = props.versions.map((v, i) => ({ v, before: i > 0 ? props.versions[i - 1] : undefined })).reverse()
  return (
    <ol reversed class="steps" data-testid="policy-history">
      {rows.map(({ v, before }) => (
        <li key={v.cid ?? 'genesis'}>
          <div>
            <strong>{v.cid === null ? 'genesis policy' : 'policy.update'}</strong>{' '}
            {v.author !== null ? (
              <>
                by{' '}
                <span class="mono" title={v.author}>
                  {shortId(peerIdOfKey(v.author), 14)}
                </span>{' '}
              </>
            ) : null}
            at {formatTime(v.time)} → digest <span class="mono">{shortId(v.digest, 12)}</span>
            {v.cid !== null ? (
              <>
                {' '}
                · <a href={`/lineage?cid=${v.cid}`}>entry</a>
              </>
            ) : null}
          </div>
          {before !== undefined ? (
            <details>
              <summary>what changed</summary>
              <pre class="diff" aria-label="policy diff">
                {diffLines(JSON.stringify(before.document, null, 2), JSON.stringify(v.document, null, 2)).map(
                  (l, k) => (
                    <span key={k} class={l.kind}>
                      {l.text}
                    </span>
                  )
                )}
              </pre>
            </details>
          ) : null}
        </li>
      ))}
    </ol>
  )
}

function OpenFailures(props: { failures: TrustFailure[]; approvals: Approvals[]; quorum: number }): preact.JSX.Element {
  const open = props.failures.filter(f => !f.cleared)
  if (open.length === 0)
    return (
      <p class="ok" data-testid="no-failures">
        No open trust failures: nothing is quarantined.
      </p>
    )
  const bySubject = [...new Set(open.map(f => f.subject))]
  return (
    <div data-testid="open-failures">
      {bySubject.map(subject => {
        const peer = peerIdOfKey(subject)
        const fails = open.filter(f => f.subject === subject)
        const approvals = props.approvals.find(a => a.subject === subject)?.approvals ?? []
        return (
          <div class="card" key={subject} data-subject={peer}>
            <div>
              <strong class="mono">{peer}</strong> <span class="badge quarantined">reported</span>
            </div>
            <table>
              <thead>
                <tr>
                  <th scope="col">failure</th>
                  <th scope="col">reporter</th>
                  <th scope="col">detector</th>
                  <th scope="col">reason (evidence)</th>
                  <th scope="col">time</th>
                </tr>
              </thead>
              <tbody>
                {fails.map(f => (
                  <tr key={f.id}>
                    <td>
                      <a class="mono" href={`/lineage?cid=${f.id}`}>
                        {shortId(f.id, 12)}
                      </a>
                    </td>
                    <td class="mono">{shortId(peerIdOfKey(f.reporter), 12)}</td>
                    <td>{f.detector}</td>
                    <td>{f.reason}</td>
                    <td>{formatTime(f.time)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <p>
              Restore approvals collected:{' '}
              <strong data-testid="approvals">
                {approvals.length} / {props.quorum}
              </strong>
              . A governor runs, on their own machine (the governor key never reaches a node):
            </p>
            <pre data-testid="restore-command">
              govmesh trust restore {peer} --governor GOVERNOR.key --api {location.origin} --token "$TOKEN"
            </pre>
          </div>
        )
      })}
    </div>
  )
}

/** `/governance`: governors, members, zones, quorums, the policy and its history, open failures and restores. */
export function Governance(): preact.JSX.Element {
  const live = useLive(loadAll, ['policy:changed', 'trust:changed', 'entry:added'], [], onGovernance)
  if (live.error !== undefined)
    return (
      <div class="notice error" role="alert">
        Cannot read the node: {live.error}
      </div>
    )
  const d = live.data
  if (d === undefined) return <p aria-busy="true">Loading…</p>
  const current = d.history.at(-1)
  return (
    <>
      <h1>Governance: {d.gov.name}</h1>
      <div class="cards">
        <div class="card">
          <div class="label">governors</div>
          <div class="value">{d.gov.governors.length}</div>
        </div>
        <div class="card">
          <div class="label">members</div>
          <div class="value">{d.gov.members.length}</div>
        </div>
        <div class="card">
          <div class="label">fail quorum</div>
          <div class="value">{d.gov.quorums.fail}</div>
        </div>
        <div class="card">
          <div class="label">restore quorum</div>
          <div class="value">{d.gov.quorums.restore}</div>
        </div>
        <div class="card">
          <div class="label">policy digest</div>
          <div class="value mono" data-testid="policy-digest" title={current?.digest}>
            {shortId(current?.digest, 12)}
          </div>
        </div>
      </div>
      <div class="split">
        <div>
          <h2>Members and zones</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">PeerId</th>
                <th scope="col">zone</th>
                <th scope="col">trust</th>
              </tr>
            </thead>
            <tbody>
              {d.gov.members.map(m => {
                const t = d.trust.peers.find(p => p.key === m.key)
                return (
                  <tr key={m.key}>
                    <td class="mono">{peerIdOfKey(m.key)}</td>
                    <td>{m.zone}</td>
                    <td>
                      <span class={`badge ${t?.status ?? 'unknown'}`}>{t?.status ?? 'unknown'}</span>
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
          <h2>Governors</h2>
          <ul>
            {d.gov.governors.map(g => (
              <li key={g} class="mono">
                {peerIdOfKey(g)}
              </li>
            ))}
          </ul>
          {Object.keys(d.gov.removed).length > 0 ? (
            <>
              <h2>Removed</h2>
              <ul>
                {Object.entries(d.gov.removed).map(([k, cut]) => (
                  <li key={k} class="mono">
                    {peerIdOfKey(k)} (cut at seq {cut})
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </div>
        <div>
          <h2>Open trust failures</h2>
          <OpenFailures failures={d.trust.failures} approvals={d.approvals} quorum={d.trust.quorums.restore} />
        </div>
      </div>
      <h2>Policy (current document)</h2>
      <pre data-testid="policy-document">{JSON.stringify(current?.document ?? null, null, 2)}</pre>
      <h2>Policy history</h2>
      <PolicyHistory versions={d.history} />
      <h2>Admit / remove history</h2>
      {d.members.length === 0 ? (
        <p class="muted">No member.admit or member.remove since the genesis.</p>
      ) : (
        <table data-testid="member-history">
          <thead>
            <tr>
              <th scope="col">type</th>
              <th scope="col">member</th>
              <th scope="col">zone / reason</th>
              <th scope="col">by</th>
              <th scope="col">time</th>
            </tr>
          </thead>
          <tbody>
            {d.members.map(e => (
              <tr key={e.cid}>
                <td>
                  <a href={`/lineage?cid=${e.cid}`}>{e.type}</a>
                </td>
                <td class="mono">{peerIdOfKey(text(e.body.member))}</td>
                <td>{text(e.body.zone ?? e.body.reason)}</td>
                <td class="mono">{shortId(e.authorPeerId, 12)}</td>
                <td>{formatTime(e.time)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  )
}
