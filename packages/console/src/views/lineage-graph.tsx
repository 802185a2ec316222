import { useMemo } from 'preact/hooks'
import type { ElementDefinition, LayoutOptions, StylesheetJson } from 'cytoscape'
import { getJson } from '../api.js'
import { shortId, text, zoneColor } from '../format.js'
import { Graph, labelColor } from '../graph.js'
import { useLive } from '../live.js'
import type { LineageGraph, LineageNode } from '../types.js'

const SHAPES: Record<string, string> = {
  'exec.request': 'round-rectangle',
  'exec.hop': 'ellipse',
  'exec.result': 'star',
  'exec.refuse': 'octagon',
  'trust.fail': 'triangle',
  'trust.restore': 'diamond'
}

/**
 * Columns by longest path from the oldest entries (acceptance order is causal, so one pass
 * suffices), rows by order within a column: linear time, for graphs too large for dagre.
 */
function layeredPositions(g: LineageGraph, edges: Array<[string, string]>): Map<string, { x: number; y: number }> {
  const depth = new Map<string, number>()
  const incoming = new Map<string, string[]>()
  for (const [from, to] of edges) incoming.set(to, [...(incoming.get(to) ?? []), from])
  const rows = new Map<number, number>()
  const out = new Map<string, { x: number; y: number }>()
  for (const n of g.nodes) {
    const d = Math.max(-1, ...(incoming.get(n.cid) ?? []).map(p => depth.get(p) ?? -1)) + 1
    depth.set(n.cid, d)
    const row = rows.get(d) ?? 0
    rows.set(d, row + 1)
    out.set(n.cid, { x: d * 40, y: row * 40 })
  }
  return out
}

function elementsOf(g: LineageGraph): { elements: ElementDefinition[]; large: boolean } {
  const byId = new Map(g.nodes.map(n => [n.cid, n]))
  const large = g.nodes.length > DAGRE_LIMIT
  const edges: Array<[string, string]> = []
  for (const n of g.nodes) {
    for (const p of n.prev === null ? n.parents : [n.prev, ...n.parents]) {
      const parent = byId.get(p)
      // In a large ancestry every entry cites the genesis; those edges say nothing and cost the most.
      if (parent !== undefined && !(large && parent.type === 'mesh.genesis')) edges.push([p, n.cid])
    }
  }
  const positions = large ? layeredPositions(g, edges) : undefined
  const nodes: ElementDefinition[] = g.nodes.map(n => ({
    data: {
      id: n.cid,
      // Past entries stay unlabelled (measuring 1,000 labels dominates the first render); click one for its details.
      label: n.role === 'ancestry' ? '' : `${n.type}\n${shortId(n.authorPeerId, 8)} · ${n.zone ?? '?'}`,
      color:
        n.type === 'trust.fail' || n.type === 'exec.refuse'
          ? '#cf222e'
          : n.type === 'trust.restore'
            ? '#1a7f37'
            : zoneColor(n.zone),
      shape: SHAPES[n.type] ?? 'ellipse',
      size: n.role === 'ancestry' ? 10 : 26
    },
    classes: n.role,
    ...(positions !== undefined ? { position: positions.get(n.cid)! } : {})
  }))
  return {
    elements: [...nodes, ...edges.map(([from, to]) => ({ data: { id: `${from}>${to}`, source: from, target: to } }))],
    large
  }
}

function style(): StylesheetJson {
  return [
    {
      selector: 'node',
      style: {
        'background-color': 'data(color)',
        shape: 'data(shape)' as never,
        width: 'data(size)',
        height: 'data(size)',
        label: 'data(label)',
        'font-size': 8,
        'text-max-width': '90px',
        color: labelColor(),
        'text-wrap': 'wrap',
        'text-valign': 'bottom'
      }
    },
    { selector: 'node.ancestry', style: { opacity: 0.6 } },
    { selector: 'node:selected', style: { 'border-width': 4, 'border-color': '#0969da' } },
    {
      selector: 'edge',
      style: {
        width: 1.2,
        'line-color': '#8c959f',
        'target-arrow-color': '#8c959f',
        'target-arrow-shape': 'triangle',
        'curve-style': 'bezier'
      }
    }
  ]
}

const DAGRE_LIMIT = 200
const EXEC_TYPES = new Set(['exec.request', 'exec.hop', 'exec.refuse', 'exec.result', 'trust.fail', 'trust.restore'])

/** The execution DAG across nodes for an entry, redrawn live as hops, results and trust changes arrive. */
export function LineageGraphView(props: {
  cid: string
  ancestry: number
  selected?: string
  onSelect: (n: LineageNode) => void
  onRendered?: () => void
}): preact.JSX.Element {
  const live = useLive(
    () => getJson<LineageGraph>(`/v1/lineage/graph/${props.cid}?ancestry=${props.ancestry}`),
    ['entry:added'],
    [props.cid, props.ancestry],
    (_n, d) => EXEC_TYPES.has((d as { type?: string } | null)?.type ?? '')
  )
  const g = live.data
  if (g !== undefined) performance.mark('lineage:data')
  const key = g === undefined ? '' : g.nodes.map(n => n.cid).join()
  const built = useMemo(() => (g === undefined ? { elements: [], large: false } : elementsOf(g)), [key])
  if (live.error !== undefined)
    return (
      <div class="notice error" role="alert">
        {live.error}
      </div>
    )
  if (g === undefined) return <p aria-busy="true">Loading the lineage…</p>
  // dagre draws executions best, but costs a dummy node per rank for every long edge; large graphs come laid out.
  const layout = built.large
    ? ({ name: 'preset', fit: true } as LayoutOptions)
    : ({ name: 'dagre', rankDir: 'LR', nodeSep: 20, rankSep: 110, animate: false } as unknown as LayoutOptions)
  const zones = [...new Set(g.nodes.map(n => n.zone))]
  const exec = g.nodes.filter(n => n.role === 'execution')
  const summary = exec.map(n => `${n.type} by ${shortId(n.authorPeerId, 8)} in zone ${n.zone ?? '?'}`).join(', then ')
  return (
    <div>
      <div class="legend" aria-hidden="true">
        {zones.map(z => (
          <span key={z}>
            <i style={{ background: zoneColor(z) }} />
            zone {z ?? '?'}
          </span>
        ))}
        <span>
          <i style={{ background: '#cf222e' }} />
          refusal / trust.fail
        </span>
        <span>
          <i style={{ background: '#1a7f37' }} />
          trust.restore
        </span>
      </div>
      <Graph
        elements={built.elements}
        style={style()}
        layout={layout}
        tall
        selected={props.selected}
        onRendered={props.onRendered}
        label={`Lineage graph of ${g.nodes.length} entries: ${summary}`}
        onSelect={id => {
          const n = g.nodes.find(x => x.cid === id)
          if (n !== undefined) props.onSelect(n)
        }}
      />
      <h2>Execution steps</h2>
      <table data-testid="exec-steps">
        <thead>
          <tr>
            <th scope="col">type</th>
            <th scope="col">node</th>
            <th scope="col">zone</th>
            <th scope="col">policy digest used</th>
            <th scope="col">detail</th>
          </tr>
        </thead>
        <tbody>
          {g.nodes
            .filter(n => n.role !== 'ancestry')
            .map(n => (
              <tr key={n.cid} data-type={n.type}>
                <td>
                  <button
                    type="button"
                    class="secondary"
                    onClick={() => {
                      props.onSelect(n)
                    }}
                  >
                    {n.type}
                  </button>
                </td>
                <td class="mono" title={n.authorPeerId}>
                  {shortId(n.authorPeerId, 12)}
                </td>
                <td>{n.zone ?? '-'}</td>
                <td class="mono">{shortId(n.policyDigest, 10)}</td>
                <td>{stepDetail(n)}</td>
              </tr>
            ))}
        </tbody>
      </table>
    </div>
  )
}

function stepDetail(n: LineageNode): string {
  const b = n.body
  switch (n.type) {
    case 'exec.request':
      return `${text(b.principal)} asks ${text(b.action)} on ${text(b.resource)} → ${text(b.target)}`
    case 'exec.hop':
      const then = b.next === null ? ', executes here' : ` → ${shortId(text(b.next), 10)}`
      return `hop ${text(b.hop)} from ${shortId(text(b.from), 10)}${then}`
    case 'exec.refuse':
      return `refused: ${text(b.reason)} (${text(b.detail)})`
    case 'exec.result':
      return `${b.ok === true ? 'ok' : 'failed'} by ${text(b.executor)} in ${String(b.durationMs)} ms`
    case 'trust.fail':
      return `reported: ${text(b.reason)}`
    case 'trust.restore':
      return 'quarantine lifted by the governor quorum'
    default:
      return ''
  }
}
