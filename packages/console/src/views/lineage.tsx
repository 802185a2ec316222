import { useEffect, useState } from 'preact/hooks'
import { getJson } from '../api.js'
import { formatTime, shortId } from '../format.js'
import type { EntryView, LineageNode } from '../types.js'
import { EntryPanel } from './entry-panel.js'
import { LineageGraphView } from './lineage-graph.js'

const TYPES = [
  '',
  'exec.request',
  'exec.hop',
  'exec.result',
  'exec.refuse',
  'trust.fail',
  'trust.restore',
  'policy.update',
  'member.admit',
  'member.remove',
  'mesh.genesis'
]

interface Query {
  cid: string
  author: string
  type: string
  since: string
  until: string
}

function readUrl(): { query: Query; open: string | undefined; ancestry: number } {
  const p = new URLSearchParams(location.search)
  return {
    query: {
      cid: p.get('q') ?? '',
      author: p.get('author') ?? '',
      type: p.get('type') ?? '',
      since: p.get('since') ?? '',
      until: p.get('until') ?? ''
    },
    open: p.get('cid') ?? undefined,
    ancestry: Math.min(5000, Math.max(0, Number(p.get('ancestry') ?? '0') || 0))
  }
}

function searchPath(q: Query): string {
  const p = new URLSearchParams({ limit: '200' })
  if (q.cid.trim() !== '') p.set('cid', q.cid.trim())
  if (q.author.trim() !== '') p.set('author', q.author.trim())
  if (q.type !== '') p.set('type', q.type)
  if (q.since !== '') p.set('since', String(Date.parse(q.since)))
  if (q.until !== '') p.set('until', String(Date.parse(q.until)))
  return `/v1/lineage/search?${p.toString()}`
}

/** `/lineage`: search entries, draw an execution across nodes, inspect any entry, export its proof. */
export function Lineage(): preact.JSX.Element {
  const initial = readUrl()
  const [query, setQuery] = useState<Query>(initial.query)
  const [results, setResults] = useState<EntryView[] | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  const [open, setOpen] = useState<string | undefined>(initial.open)
  const [ancestry, setAncestry] = useState(initial.ancestry)
  const [selected, setSelected] = useState<LineageNode | undefined>(undefined)

  const search = (q: Query): void => {
    getJson<{ entries: EntryView[] }>(searchPath(q)).then(
      r => {
        setResults(r.entries)
        setError(undefined)
      },
      (err: Error) => {
        setError(err.message)
      }
    )
  }
  const show = (cid: string): void => {
    setOpen(cid)
    setSelected(undefined)
    const p = new URLSearchParams(location.search)
    p.set('cid', cid)
    history.replaceState(null, '', `/lineage?${p.toString()}`)
  }
  useEffect(() => {
    search(query)
  }, [])
  const field =
    (name: keyof Query) =>
    (e: Event): void => {
      setQuery({ ...query, [name]: (e.target as HTMLInputElement).value })
    }

  return (
    <>
      <h1>Execution lineage</h1>
      <form
        class="inline"
        role="search"
        aria-label="Search the lineage"
        onSubmit={e => {
          e.preventDefault()
          search(query)
        }}
      >
        <label>
          CID (or prefix)
          <input name="cid" value={query.cid} onInput={field('cid')} size={30} />
        </label>
        <label>
          author (PeerId or hex key)
          <input name="author" value={query.author} onInput={field('author')} size={30} />
        </label>
        <label>
          type
          <select name="type" value={query.type} onChange={field('type')}>
            {TYPES.map(t => (
              <option key={t} value={t}>
                {t === '' ? 'any' : t}
              </option>
            ))}
          </select>
        </label>
        <label>
          from
          <input type="datetime-local" name="since" value={query.since} onInput={field('since')} />
        </label>
        <label>
          to
          <input type="datetime-local" name="until" value={query.until} onInput={field('until')} />
        </label>
        <button type="submit">Search</button>
      </form>
      {error !== undefined ? (
        <div class="notice error" role="alert">
          {error}
        </div>
      ) : null}
      <div class="split">
        <div>
          {open !== undefined ? (
            <>
              <div class="row">
                <h2>
                  Lineage of <span class="mono">{shortId(open, 16)}</span>
                </h2>
                <label>
                  past entries to include
                  <select
                    name="ancestry"
                    value={String(ancestry)}
                    onChange={e => {
                      setAncestry(Number((e.target as HTMLSelectElement).value))
                    }}
                  >
                    {[0, 50, 200, 1000, 5000].map(n => (
                      <option key={n} value={String(n)}>
                        {n === 0 ? 'execution only' : `up to ${n}`}
                      </option>
                    ))}
                  </select>
                </label>
              </div>
              <LineageGraphView
                cid={open}
                ancestry={ancestry}
                selected={selected?.cid}
                onSelect={setSelected}
                onRendered={() => {
                  document.body.dataset.lineageRendered = String(Date.now())
                }}
              />
            </>
          ) : (
            <p class="muted">Choose an entry below to draw its execution across the mesh.</p>
          )}
          <h2>Entries {results !== undefined ? <span class="muted">({results.length}, newest first)</span> : null}</h2>
          <div class="scroll">
            <table data-testid="results">
              <thead>
                <tr>
                  <th scope="col">type</th>
                  <th scope="col">CID</th>
                  <th scope="col">author</th>
                  <th scope="col">time</th>
                </tr>
              </thead>
              <tbody>
                {(results ?? []).map(r => (
                  <tr key={r.cid} data-type={r.type}>
                    <td>
                      <button
                        type="button"
                        class="secondary"
                        onClick={() => {
                          show(r.cid)
                        }}
                      >
                        {r.type}
                      </button>
                    </td>
                    <td class="mono">{shortId(r.cid, 16)}</td>
                    <td class="mono">{shortId(r.authorPeerId, 12)}</td>
                    <td>{formatTime(r.time)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
        <div>
          {selected !== undefined ? (
            <EntryPanel entry={selected} onOpen={show} />
          ) : (
            <p class="muted">Click a node of the graph (or a step) for its decoded body, signature and links.</p>
          )}
        </div>
      </div>
    </>
  )
}
