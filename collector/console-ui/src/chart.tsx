// A small time-series chart over uPlot: one x axis of instants, one or more series, drawn as
// lines, or bars for a single series (several would hide each other). Redrawn when its data changes; sized to its container.
import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'

export interface Series {
  label: string
  values: (number | null)[]
  color: string
}

const bars = uPlot.paths.bars!({ size: [0.6, 60] })

function padded(_u: uPlot, min: number, max: number): [number, number] {
  const pad = max > min ? (max - min) / 20 : 86_400
  return [min - pad, max + pad]
}

export function Chart(props: { title: string; x: number[]; series: Series[]; kind?: 'line' | 'bars'; height?: number; testId?: string }) {
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const el = box.current
    if (el === null) return
    const plot = new uPlot(
      {
        width: Math.max(280, el.clientWidth),
        height: props.height ?? 200,
        legend: { show: true },
        // Bars need half a step of room at each end, or the first and last are cut in half.
        scales: { x: { time: true, ...(props.kind === 'bars' ? { range: padded } : {}) } },
        series: [{}, ...props.series.map((s) => ({
          label: s.label, stroke: s.color, fill: props.kind === 'bars' ? `${s.color}99` : undefined, width: 2,
          ...(props.kind === 'bars' ? { paths: bars, points: { show: false } } : {}),
        }))],
      },
      [props.x.map((ms) => ms / 1000), ...props.series.map((s) => s.values)],
      el,
    )
    return () => plot.destroy()
  }, [JSON.stringify([props.x, props.series])])
  return (
    <figure class="chart" data-testid={props.testId}>
      <figcaption>{props.title}</figcaption>
      <div ref={box} />
    </figure>
  )
}
