import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { subscribe } from '../live.js'

const BUCKET_MS = 5000
const BUCKETS = 60

/**
 * Entries accepted and input rejected per 5 s at this node, from the event stream since the page
 * opened (the last 5 minutes): a live time series without polling.
 */
export function RateChart(): preact.JSX.Element {
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => {
    if (box.current === null) return
    const now = Math.floor(Date.now() / BUCKET_MS)
    const times = Array.from({ length: BUCKETS }, (_, i) => ((now - BUCKETS + 1 + i) * BUCKET_MS) / 1000)
    const accepted = new Array<number>(BUCKETS).fill(0)
    const rejected = new Array<number>(BUCKETS).fill(0)
    const plot = new uPlot(
      {
        width: Math.max(300, box.current.clientWidth),
        height: 160,
        series: [
          {},
          { label: 'entries accepted / 5 s', stroke: '#1a7f37', width: 2 },
          { label: 'rejections / 5 s', stroke: '#cf222e', width: 2 }
        ],
        axes: [{ stroke: '#8c959f' }, { stroke: '#8c959f' }]
      },
      [times, accepted, rejected],
      box.current
    )
    const advance = (): void => {
      const bucket = Math.floor(Date.now() / BUCKET_MS)
      while ((times[times.length - 1] ?? 0) * 1000 < bucket * BUCKET_MS) {
        times.push((times[times.length - 1]! * 1000 + BUCKET_MS) / 1000)
        accepted.push(0)
        rejected.push(0)
        times.shift()
        accepted.shift()
        rejected.shift()
      }
    }
    const redraw = (): void => {
      plot.setData([times, accepted, rejected])
    }
    const off = subscribe(name => {
      if (name !== 'entry:added' && name !== 'entry:rejected') return
      advance()
      const series = name === 'entry:added' ? accepted : rejected
      series[series.length - 1] = (series[series.length - 1] ?? 0) + 1
      redraw()
    })
    // The time axis moves on the local clock even when nothing happens.
    const tick = setInterval(() => {
      advance()
      redraw()
    }, BUCKET_MS)
    return () => {
      off()
      clearInterval(tick)
      plot.destroy()
    }
  }, [])
  return (
    <figure>
      <div
        ref={box}
        data-testid="rate-chart"
        role="img"
        aria-label="Entries accepted and rejections per 5 seconds at this node"
      />
      <figcaption class="muted">Since this page opened, from the node's event stream.</figcaption>
    </figure>
  )
}
