import cytoscape, { type ElementDefinition, type LayoutOptions, type StylesheetJson } from 'cytoscape'
import dagre from 'cytoscape-dagre'
import { useEffect, useRef } from 'preact/hooks'

cytoscape.use(dagre)

export interface GraphProps {
  elements: ElementDefinition[]
  layout: LayoutOptions
  style: StylesheetJson
  /** Describes the graph for screen readers (the canvas itself is not accessible). */
  label: string
  tall?: boolean
  selected?: string
  onSelect?: (id: string) => void
  /** Called once the first layout has been drawn (used by the render-time benchmark). */
  onRendered?: () => void
}

/** A cytoscape graph; rebuilt when its elements change, with the current selection kept. */
export function Graph(props: GraphProps): preact.JSX.Element {
  const box = useRef<HTMLDivElement>(null)
  const cy = useRef<cytoscape.Core | undefined>(undefined)
  const onSelect = useRef(props.onSelect)
  onSelect.current = props.onSelect
  useEffect(() => {
    if (box.current === null) return
    performance.mark('graph:build')
    const instance = cytoscape({
      container: box.current,
      elements: props.elements,
      style: props.style,
      layout: { name: 'preset' },
      minZoom: 0.02,
      maxZoom: 1.5,
      // Large graphs stay responsive while panning and zooming.
      textureOnViewport: props.elements.length > 500,
      hideEdgesOnViewport: props.elements.length > 500
    })
    instance.on('tap', 'node', e => {
      onSelect.current?.(e.target.id())
    })
    performance.mark('graph:layout')
    const layout = instance.layout(props.layout)
    // Drawn once the layout has placed the nodes and the next frame has painted them.
    layout.one('layoutstop', () => {
      performance.mark('graph:laid-out')
      requestAnimationFrame(() => {
        performance.mark('graph:painted')
        props.onRendered?.()
      })
    })
    layout.run()
    cy.current = instance
    return () => {
      instance.destroy()
      cy.current = undefined
    }
  }, [props.elements])
  useEffect(() => {
    const c = cy.current
    if (c === undefined) return
    c.nodes().unselect()
    if (props.selected !== undefined) c.getElementById(props.selected).select()
  }, [props.selected, props.elements])
  return (
    <div
      ref={box}
      class={`graph${props.tall === true ? ' tall' : ''}`}
      role="img"
      aria-label={props.label}
      data-testid="graph"
    />
  )
}

/** Text colour for graph labels that reads on the current theme's panel. */
export function labelColor(): string {
  return matchMedia('(prefers-color-scheme: dark)').matches ? '#e6edf3' : '#1f2328'
}
