/** Steps of a run as a sequence diagram: one lane per actor and per service, one arrow per step. */
export interface Step {
  id?: string;
  title?: string;
  actor: string;
  service: string;
  operation: string;
  status: string;
  ms?: number;
  httpStatus?: number;
  rule?: string;
  message?: string;
}

const LANE = 170;
const ROW = 46;
const TOP = 40;

export function SequenceDiagram({ steps }: { steps: Step[] }) {
  const lanes = [...new Set(steps.map((s) => s.actor)), ...new Set(steps.map((s) => `${s.service}`))].filter(
    (v, i, all) => all.indexOf(v) === i,
  );
  const x = (lane: string) => LANE / 2 + lanes.indexOf(lane) * LANE;
  const height = TOP + steps.length * ROW + 20;
  return (
    <div class="sequence">
      <svg
        width={lanes.length * LANE}
        height={height}
        role="img"
        aria-label={`Sequence of ${steps.length} steps between ${lanes.join(', ')}`}
      >
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
          >
            <path d="M0,0 L10,5 L0,10 z" fill="currentColor" />
          </marker>
        </defs>
        {lanes.map((lane) => (
          <g>
            <rect x={x(lane) - 75} y={4} width={150} height={24} rx={4} class="lane-head" />
            <text x={x(lane)} y={20} text-anchor="middle" class="lane-name">
              {lane}
            </text>
            <line x1={x(lane)} y1={28} x2={x(lane)} y2={height} class="lane-line" />
          </g>
        ))}
        {steps.map((s, i) => {
          const y = TOP + i * ROW + 20;
          const from = x(s.actor);
          const to = x(s.service);
          return (
            <g class={`step ${s.status}`}>
              <line x1={from} y1={y} x2={to === from ? to + 40 : to} y2={y} marker-end="url(#arrow)" />
              <text x={(from + to) / 2} y={y - 6} text-anchor="middle">
                {s.operation} · {s.status}
                {s.httpStatus ? ` ${s.httpStatus}` : ''}
                {s.ms !== undefined ? ` · ${s.ms} ms` : ''}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
