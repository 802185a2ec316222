import { getJson } from '../api.js'
import { formatTime, shortId } from '../format.js'
import { useLive } from '../live.js'
import type { LineageNode } from '../types.js'

/** Details of one entry: decoded body, signature status, parents and children, proof export. */
export function EntryPanel(props: { entry: LineageNode; onOpen: (cid: string) => void }): preact.JSX.Element {
  const e = props.entry
  const children = useLive(
    () => getJson<{ children: string[] }>(`/v1/lineage/children/${e.cid}`),
    ['entry:added'],
    [e.cid]
  )
  const parents = e.prev === null ? e.parents : [e.prev, ...e.parents]
  const link = (cid: string): preact.JSX.Element => (
    <li key={cid}>
      <a
        class="mono"
        href={`/lineage?cid=${cid}`}
        onClick={ev => {
          ev.preventDefault()
          props.onOpen(cid)
        }}
      >
        {shortId(cid, 16)}
      </a>
    </li>
  )
  return (
    <section aria-label="Selected entry" data-testid="entry-panel">
      <h2>
        {e.type} <span class="muted">#{e.seq}</span>
      </h2>
      <dl>
        <dt>CID</dt>
        <dd class="mono" data-testid="entry-cid">
          {e.cid}
        </dd>
        <dt>author</dt>
        <dd class="mono">
          {e.authorPeerId} (zone {e.zone ?? '-'})
        </dd>
        <dt>time</dt>
        <dd>{formatTime(e.time)}</dd>
        <dt>signature</dt>
        <dd>
          <span class="badge valid">{e.signature}</span> verified by this node before storing
          {e.revoked ? <strong class="bad"> · revoked (past its author's cut)</strong> : null}
        </dd>
        <dt>policy digest in its causal past</dt>
        <dd class="mono">{e.policyDigest}</dd>
      </dl>
      <p>
        <a href={`/v1/dag/export/${e.cid}`} download={`proof-${e.cid}.car`} data-testid="export-proof">
          Export proof (CAR)
        </a>{' '}
        — verify it offline in the <a href="/proof">proof viewer</a>.
      </p>
      <h3>Parents</h3>
      {parents.length === 0 ? <p class="muted">none (genesis)</p> : <ul>{parents.map(link)}</ul>}
      <h3>Children</h3>
      {children.data === undefined ? (
        <p aria-busy="true">…</p>
      ) : children.data.children.length === 0 ? (
        <p class="muted">none yet</p>
      ) : (
        <ul>{children.data.children.map(link)}</ul>
      )}
      <h3>Body</h3>
      <pre>{JSON.stringify(e.body, null, 2)}</pre>
    </section>
  )
}
