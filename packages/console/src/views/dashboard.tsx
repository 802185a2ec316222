import { useMemo } from 'preact/hooks'
import type { ElementDefinition, StylesheetJson } from 'cytoscape'
import { getJson } from '../api.js'
import { formatAge, shortId, TRUST_COLORS } from '../format.js'
import { Graph, labelColor } from '../graph.js'
import { useLive, useTick } from '../live.js'
import type { CountersAnswer, Member, MembersAnswer } from '../types.js'
import { RateChart } from './rate-chart.js'

function YesNo(props: { value: boolean | null; yes: string; no: string }): preact.JSX.Element {
  if (props.value === null) return <span class="badge none">unknown</span>
  return <span class={`badge ${props.value ? 'yes' : 'no'}`}>{props.value ? props.yes : props.no}</span>
}

function meshElements(m: MembersAnswer): ElementDefinition[] {
  const self = m.members.find(x => x.self)
  const nodes: ElementDefinition[] = m.members.map(x => ({
    data: {
      id: x.peerId,
      label: `${shortId(x.peerId, 8)}\n${x.zone ?? '?'}`,
      color: x.self ? TRUST_COLORS.self : (TRUST_COLORS[x.status] ?? '#6e7781')
    }
  }))
  const edges: ElementDefinition[] =
    self === undefined
      ? []
      : m.members
          .filter(x => !x.self && x.connected)
          .map(x => ({ data: { id: `${self.peerId}-${x.peerId}`, source: self.peerId, target: x.peerId } }))
  return [...nodes, ...edges]
}

function graphStyle(): StylesheetJson {
  return [
    {
      selector: 'node',
      style: {
        'background-color': 'data(color)',
        label: 'data(label)',
        'font-size': 9,
        color: labelColor(),
        'text-wrap': 'wrap',
        'text-valign': 'bottom',
        width: 22,
        height: 22
      }
    },
    { selector: 'edge', style: { width: 1.5, 'line-color': '#8c959f', 'curve-style': 'straight' } }
  ]
}

function MemberRow(props: { m: Member; ageMs: number | null }): preact.JSX.Element {
  const { m } = props
  return (
    <tr data-peer={m.peerId} data-status={m.status}>
      <td>
        <span class="mono" title={m.peerId}>
          {shortId(m.peerId, 14)}
        </span>
        {m.self ? <strong> (this node)</strong> : null}
        {m.governor ? ' · governor' : ''}
      </td>
      <td>{m.zone ?? '-'}</td>
      <td>
        <span class={`badge ${m.status}`}>{m.status}</span>
        {m.reasons.length > 0 ? <div class="muted">{m.reasons.join('; ')}</div> : null}
      </td>
      <td>{m.self ? 'self' : formatAge(props.ageMs)}</td>
      <td>
        <YesNo value={m.policyMatches} yes="matches" no="differs" />{' '}
        <span class="mono" title={m.policyDigest ?? ''}>
          {shortId(m.policyDigest, 8)}
        </span>
      </td>
      <td>
        <YesNo value={m.measurementAllowed} yes="allowlisted" no="not allowlisted" />{' '}
        <span class="mono" title={m.measurement ?? ''}>
          {shortId(m.measurement, 8)}
        </span>
      </td>
      <td>
        {m.entries ?? '-'}
        {m.lag !== null && m.lag > 0 ? <span class="warn"> (−{m.lag})</span> : null}
      </td>
      <td>
        <YesNo value={m.connected} yes="connected" no="not connected" />
      </td>
    </tr>
  )
}

function CounterTable(props: { title: string; rows: CountersAnswer['rejections']; empty: string }): preact.JSX.Element {
  return (
    <div>
      <h2>{props.title}</h2>
      {props.rows.length === 0 ? (
        <p class="muted">{props.empty}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">labels</th>
              <th scope="col">count</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map(r => (
              <tr key={JSON.stringify(r.labels)}>
                <td class="mono">
                  {Object.entries(r.labels)
                    .map(([k, v]) => `${k}=${v}`)
                    .join(' ')}
                </td>
                <td>{r.value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  )
}

/** `/`: every member's health and trust at a glance, live from the event stream. */
export function Dashboard(): preact.JSX.Element {
  const members = useLive(
    () => getJson<MembersAnswer>('/v1/mesh/members'),
    ['heartbeat:received', 'trust:changed', 'peer:connect', 'peer:disconnect', 'policy:changed', 'entry:added'],
    [],
    undefined,
    500
  )
  const counters = useLive(
    () => getJson<CountersAnswer>('/v1/mesh/counters'),
    ['entry:added', 'entry:rejected', 'heartbeat:received'],
    [],
    undefined,
    1000
  )
  const now = useTick()
  const data = members.data
  const elements = useMemo(
    () => (data === undefined ? [] : meshElements(data)),
    [data === undefined ? '' : data.members.map(m => `${m.peerId}${m.status}${m.connected}`).join()]
  )
  const loadedAt = useMemo(() => Date.now(), [data])
  if (members.error !== undefined)
    return (
      <div class="notice error" role="alert">
        Cannot read the node: {members.error}
      </div>
    )
  if (data === undefined) return <p aria-busy="true">Loading…</p>
  const linked = data.members.filter(m => m.connected && !m.self).length
  const counts = data.members.reduce<Record<string, number>>((acc, m) => {
    acc[m.status] = (acc[m.status] ?? 0) + 1
    return acc
  }, {})
  return (
    <>
      <h1>Infrastructure health: {data.meshName}</h1>
      <div class="cards">
        <div class="card">
          <div class="label">members</div>
          <div class="value" data-testid="member-count">
            {data.members.filter(m => m.member).length}
          </div>
        </div>
        {Object.entries(counts).map(([s, n]) => (
          <div class="card" key={s}>
            <div class="label">{s}</div>
            <div class="value">{n}</div>
          </div>
        ))}
        <div class="card">
          <div class="label">entries here</div>
          <div class="value">{data.entries}</div>
        </div>
        <div class="card">
          <div class="label">policy digest</div>
          <div class="value mono" title={data.policyDigest}>
            {shortId(data.policyDigest, 12)}
          </div>
        </div>
      </div>
      <h2>Members</h2>
      <div class="scroll">
        <table data-testid="members">
          <caption class="sr-only">Every member as this node sees it</caption>
          <thead>
            <tr>
              <th scope="col">PeerId</th>
              <th scope="col">zone</th>
              <th scope="col">trust (why)</th>
              <th scope="col">heartbeat</th>
              <th scope="col">policy digest</th>
              <th scope="col">measurement</th>
              <th scope="col">entries (lag)</th>
              <th scope="col">link</th>
            </tr>
          </thead>
          <tbody>
            {data.members.map(m => (
              <MemberRow
                key={m.peerId}
                m={m}
                ageMs={m.heartbeatAgeMs === null ? null : m.heartbeatAgeMs + (now - loadedAt)}
              />
            ))}
          </tbody>
        </table>
      </div>
      <h2>Mesh (connections of this node, coloured by trust)</h2>
      <div class="legend" aria-hidden="true">
        {Object.entries(TRUST_COLORS).map(([k, c]) => (
          <span key={k}>
            <i style={{ background: c }} />
            {k === 'self' ? 'this node' : k}
          </span>
        ))}
      </div>
      <Graph
        elements={elements}
        style={graphStyle()}
        layout={{
          name: 'concentric',
          minNodeSpacing: 20,
          concentric: n => (n.id() === data.self ? 2 : 1),
          levelWidth: () => 1
        }}
        label={`Mesh graph: ${data.members.length} members, ${linked} connected to this node`}
      />
      <h2>Activity</h2>
      <RateChart />
      {counters.data !== undefined ? (
        <div class="split">
          <CounterTable title="Rejections" rows={counters.data.rejections} empty="no rejections" />
          <div>
            <CounterTable title="Sync sessions" rows={counters.data.syncSessions} empty="no sync sessions yet" />
            <CounterTable title="Sync entries" rows={counters.data.syncEntries} empty="nothing synced yet" />
          </div>
        </div>
      ) : null}
    </>
  )
}
