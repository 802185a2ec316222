/** Sum of the samples of one Prometheus metric whose labels include every given `key="value"`. */
export function metricSum (metrics: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue
    total += Number(line.split(' ').pop())
  }
  return total
}
