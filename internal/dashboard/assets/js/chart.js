// Charts on uPlot (vendored, loaded by index.html as the global uPlot).
const palette = ["#1f6feb", "#2da44e", "#d1242f", "#bf8700", "#8250df", "#0a9396", "#e85aad", "#6e7781"];

function css(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

// chart draws series into el and follows its width. series are
// [{label, bars}], data is [xs, ys...]; time says whether x is a time in
// seconds. It returns the uPlot, whose setData updates it.
export function chart(el, { series, data, time = true, height = 220, xLabel, yLabel, xRange }) {
  if (!window.uPlot) throw new Error("the chart library did not load");
  const fg = css("--muted"), line = css("--line");
  const axis = { stroke: fg, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 } };
  const opts = {
    width: Math.max(el.clientWidth, 200),
    height,
    scales: { x: { time, auto: !xRange, range: xRange || ((u, min, max) => {
      // A lone point (one run, one value) gets room around it rather
      // than an axis of years.
      if (min === max || min === null) return [(min ?? 0) - (time ? 3600 : 1), (max ?? 0) + (time ? 3600 : 1)];
      const pad = series.some((s) => s.bars) ? (max - min) * 0.05 : 0;
      return [min - pad, max + pad];
    }) } },
    axes: [{ ...axis, label: xLabel }, { ...axis, label: yLabel, size: 76 }],
    series: [{ label: xLabel || (time ? "time" : "x") }, ...series.map((s, i) => ({
      label: s.label,
      stroke: s.color || palette[i % palette.length],
      fill: s.bars ? (s.color || palette[i % palette.length]) + "99" : undefined,
      width: 2,
      points: { show: false },
      paths: s.bars ? uPlot.paths.bars({ size: [0.9, 80] }) : undefined,
    }))],
    legend: { live: true },
  };
  const u = new uPlot(opts, data, el);
  const ro = new ResizeObserver(() => u.setSize({ width: Math.max(el.clientWidth, 200), height }));
  ro.observe(el);
  let gone = false;
  u.dispose = () => { if (gone) return; gone = true; ro.disconnect(); u.destroy(); };
  return u;
}
