// One athlete: twelve weeks as bars with the 30-day longest run and the longest advisable next
// run as lines and the spike marked, the last 28 days day by day, ACWR as information, shoes with
// wear bars, the pain timeline (only when they share pain), and the warnings they were sent.
// Each section asks the API only for what the athlete granted; the API logs every read.
// Each chart keeps the numbers it drew on its element (`chartData`), for the browser tests.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import {
  getCoachAthleteLoad, listCoachAthleteCheckins, listCoachAthleteNotifications,
  listCoachAthleteShoes, listCoachAthletes,
} from './generated/sdk.gen';
import type { Checkin, Load, Notification, RosterEntry, Shoe } from './generated/types.gen';
import { ago, h, km } from './dom';
import { badges } from './roster';

type ChartData = { labels: string[]; series: Record<string, (number | null)[]> };
type ChartHost = HTMLElement & { chartData?: ChartData; chart?: uPlot };

export async function showAthlete(main: HTMLElement, id: string): Promise<void> {
  const roster = await listCoachAthletes({ query: { sort: 'risk' } });
  const entry = roster.data?.items.find((e) => e.athlete_id === id);
  if (!entry) {
    main.replaceChildren(h('h1', {}, 'Not one of your athletes'),
      h('p', {}, 'They may have unlinked you. '), h('a', { href: '#/' }, 'Back to the roster'));
    return;
  }
  const name = entry.display_name ?? entry.email;
  main.replaceChildren(
    h('p', {}, h('a', { href: '#/' }, '← All athletes')),
    h('h1', {}, name),
    h('p', { class: 'small' }, `Shares: ${entry.scopes.join(', ')}. Last run synced `
      + `${ago(entry.last_run_at)}.`),
    badges(entry).length
      ? h('ul', { class: 'badges' }, ...badges(entry).map((b) =>
        h('li', { class: `badge ${b.tone}`, 'data-kind': b.kind }, b.text)))
      : h('p', { class: 'calm' }, 'Nothing needs attention.'));
  const has = (scope: string) => entry.scopes.includes(scope);
  const sections: Promise<HTMLElement>[] = [];
  if (has('load')) sections.push(loadSections(id));
  if (has('runs')) sections.push(dailySection(id));
  if (has('shoes')) sections.push(shoesSection(id));
  if (has('pain')) sections.push(painSection(id));
  if (has('notifications')) sections.push(warningsSection(id, entry));
  for (const section of await Promise.all(sections)) main.append(section);
  for (const host of main.querySelectorAll<ChartHost>('.chart')) host.chart?.setSize(size(host));
}

function size(host: HTMLElement): { width: number; height: number } {
  const width = Math.max(260, Math.min(host.parentElement?.clientWidth ?? 600, 900));
  return { width, height: width < 500 ? 200 : 260 };
}

function chart(id: string, title: string, data: ChartData, series: uPlot.Series[],
               description: string): HTMLElement {
  const host = h('div', { class: 'chart', id, role: 'img', 'aria-label': description }) as ChartHost;
  host.chartData = data;
  const xs = data.labels.map((_, i) => i);
  const opts: uPlot.Options = {
    ...size(document.querySelector('main') ?? document.body),
    title,
    scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
    axes: [
      { values: (_u, ticks) => ticks.map((t) => data.labels[t]?.slice(5) ?? '') },
      { label: 'km' },
    ],
    series: [{}, ...series],
    legend: { live: false },
  };
  const values = Object.values(data.series).map((s) => s.map((m) => m === null ? null : m / 1000));
  host.chart = new uPlot(opts, [xs, ...values] as uPlot.AlignedData, host);
  return host;
}

const bars = uPlot.paths.bars!({ size: [0.6, 60] });

async function loadSections(id: string): Promise<HTMLElement> {
  const { data } = await getCoachAthleteLoad({ path: { athlete_id: id } });
  if (!data) return h('p', {}, 'Training load could not be read.');
  const load: Load = data;
  // The load report covers fewer weeks; the earlier ones are summed from the runs, by the
  // athlete's local Monday, as the report sums them (the test checks both agree).
  const lastMonday = load.weeks[load.weeks.length - 1]?.week_start ?? load.as_of;
  const mondays = Array.from({ length: 12 }, (_, i) => shiftDay(lastMonday, (i - 11) * 7));
  const runs = await allCheckins(id, 'run', `${mondays[0]}T00:00:00Z`);
  const summed = new Map<string, number>();
  for (const run of runs) {
    const monday = mondayOf(run.local_date);
    summed.set(monday, (summed.get(monday) ?? 0) + (run.distance_m ?? 0));
  }
  const reported = new Map(load.weeks.map((w) => [w.week_start, w.distance_m]));
  const weeks = mondays.map((m) => ({ week_start: m,
                                      distance_m: reported.get(m) ?? summed.get(m) ?? 0 }));
  const longest = load.latest_run?.baseline_m ?? null;
  const advisable = load.longest_advisable_run_m;
  const spikeWeek = load.latest_run && load.latest_run.spike && load.latest_run.spike !== 'ok'
    ? weekOf(load.latest_run.started_at, weeks.map((w) => w.week_start)) : -1;
  const chartData: ChartData = {
    labels: weeks.map((w) => w.week_start),
    series: {
      weekly_distance_m: weeks.map((w) => w.distance_m),
      longest_30_days_m: weeks.map(() => longest),
      longest_advisable_m: weeks.map(() => advisable),
      spike_m: weeks.map((_, i) => (i === spikeWeek ? load.latest_run!.distance_m : null)),
    },
  };
  const latest = load.latest_run;
  const acwr = load.acwr;
  return h('section', { 'aria-labelledby': 'weeks-h' },
    h('h2', { id: 'weeks-h' }, 'Twelve weeks'),
    chart('weekly-chart', 'Weekly distance', chartData, [
      { label: 'Weekly distance', fill: '#4a7fb5', stroke: '#2f5f8f', paths: bars, points: { show: false } },
      { label: '30-day longest run', stroke: '#8a5a00', width: 2, dash: [6, 4], points: { show: false } },
      { label: 'Longest advisable next run', stroke: '#1b7a3a', width: 2, points: { show: false } },
      { label: 'Run spike', stroke: '#b00020', paths: () => null, points: { show: true, size: 12, fill: '#b00020' } },
    ], `Weekly distance for ${weeks.length} weeks; 30-day longest ${km(longest)}; `
       + `longest advisable next run ${km(advisable)}`),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Latest run'),
      h('dd', { id: 'latest-run' }, latest
        ? `${km(latest.distance_m)}${latest.percent_longer !== null
          ? `, ${latest.percent_longer} % past the 30-day longest (${km(latest.baseline_m)})` : ''}`
          + (latest.spike && latest.spike !== 'ok' ? `: ${latest.spike} spike` : '')
        : 'none in the last 14 days'),
      h('dt', {}, 'Longest advisable next run'), h('dd', {}, km(advisable)),
      h('dt', {}, 'Last 7 days against the 7 before'),
      h('dd', {}, `${km(load.weekly_change.last_7_days_m)} against `
        + `${km(load.weekly_change.previous_7_days_m)}: ${load.weekly_change.reason}`),
      h('dt', {}, 'ACWR (information, not a warning)'),
      h('dd', { id: 'acwr' }, acwr.coupled === null ? `not enough data (${acwr.state})`
        : `${acwr.coupled.toFixed(2)} coupled, ${acwr.uncoupled?.toFixed(2) ?? '–'} uncoupled `
          + `(${acwr.state.replace(/_/g, ' ')}); a ratio to read alongside the rest, not a rule`),
      load.return_mode.active
        ? h('dt', {}, 'Return mode') : null,
      load.return_mode.active
        ? h('dd', {}, `since ${load.return_mode.since}, until ${load.return_mode.until}`) : null,
      load.advice_paused ? h('dt', { class: 'pain' }, 'Advice paused') : null,
      load.advice_paused ? h('dd', { class: 'pain' }, load.advice_paused.reason) : null));
}

function shiftDay(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

function mondayOf(day: string): string {
  const weekday = (new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7;
  return shiftDay(day, -weekday);
}

function weekOf(iso: string, starts: string[]): number {
  const day = iso.slice(0, 10);
  let index = -1;
  starts.forEach((start, i) => { if (start <= day) index = i; });
  return index;
}

async function allCheckins(id: string, kind: 'run' | 'pain', from: string): Promise<Checkin[]> {
  const out: Checkin[] = [];
  let cursor: string | undefined;
  do {
    const { data } = await listCoachAthleteCheckins({
      path: { athlete_id: id }, query: { kind, from, limit: 200, ...(cursor ? { cursor } : {}) } });
    if (!data) break;
    out.push(...data.items);
    cursor = data.next_cursor ?? undefined;
  } while (cursor);
  return out;
}

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

async function dailySection(id: string): Promise<HTMLElement> {
  const today = new Date();
  const days = Array.from({ length: 28 }, (_, i) =>
    isoDay(new Date(today.getTime() - (27 - i) * 86_400_000)));
  const runs = await allCheckins(id, 'run', new Date(today.getTime() - 29 * 86_400_000).toISOString());
  const byDay = new Map<string, number>();
  for (const run of runs) byDay.set(run.local_date, (byDay.get(run.local_date) ?? 0) + (run.distance_m ?? 0));
  const chartData: ChartData = {
    labels: days, series: { daily_distance_m: days.map((d) => byDay.get(d) ?? 0) } };
  return h('section', { 'aria-labelledby': 'days-h' },
    h('h2', { id: 'days-h' }, 'The last 28 days'),
    chart('daily-chart', 'Distance per day', chartData, [
      { label: 'Distance', fill: '#4a7fb5', stroke: '#2f5f8f', paths: bars, points: { show: false } },
    ], `Distance per day over 28 days, ${runs.length} runs`));
}

async function shoesSection(id: string): Promise<HTMLElement> {
  const { data } = await listCoachAthleteShoes({ path: { athlete_id: id } });
  const shoes: Shoe[] = data?.items ?? [];
  return h('section', { 'aria-labelledby': 'shoes-h' },
    h('h2', { id: 'shoes-h' }, 'Shoes'),
    shoes.length ? h('ul', { class: 'shoes', id: 'shoes' }, ...shoes.map((s) => {
      const wear = Math.round(Math.min(1, s.distance_m / s.max_distance_m) * 100);
      return h('li', { 'data-status': s.status },
        h('span', { class: 'name' }, s.name), ' ',
        h('span', { class: `status ${s.status}` }, s.status),
        h('meter', { min: '0', max: '100', value: String(wear), 'aria-label': `${s.name} wear` }),
        h('span', { class: 'small' }, `${km(s.distance_m)} of ${km(s.max_distance_m)} (${wear} %); `
          + `replace by ${s.replace_by}`));
    })) : h('p', {}, 'No shoes recorded.'));
}

async function painSection(id: string): Promise<HTMLElement> {
  const pains = await allCheckins(id, 'pain', new Date(Date.now() - 84 * 86_400_000).toISOString());
  return h('section', { 'aria-labelledby': 'pain-h', class: 'pain', id: 'pain' },
    h('h2', { id: 'pain-h' }, 'Pain timeline'),
    pains.length ? h('ol', { class: 'timeline' }, ...pains.map((p) =>
      h('li', {},
        h('span', { class: 'date' }, p.local_date), ' ',
        h('span', {}, `${(p.location ?? 'unspecified').replace(/_/g, ' ')}, severity ${p.severity}/10`),
        h('meter', { min: '0', max: '10', value: String(p.severity ?? 0),
                     'aria-label': `severity on ${p.local_date}` }),
        p.triage && p.triage.tier !== 'none'
          ? h('span', { class: 'badge red' }, p.triage.title ?? p.triage.tier) : null)))
      : h('p', {}, 'No pain reported in twelve weeks.'));
}

async function warningsSection(id: string, entry: RosterEntry): Promise<HTMLElement> {
  const { data } = await listCoachAthleteNotifications({ path: { athlete_id: id } });
  const items: Notification[] = data?.items ?? [];
  return h('section', { 'aria-labelledby': 'warn-h' },
    h('h2', { id: 'warn-h' }, 'Warnings sent'),
    h('p', { class: 'small' }, `${entry.unread_warnings ?? 0} unread.`),
    items.length ? h('ul', { class: 'warnings', id: 'warnings' }, ...items.map((n) => {
      const source = (n.data as { source?: string }).source;
      return h('li', { 'data-rule': n.data.rule },
        h('strong', {}, n.title), ' ',
        h('span', { class: 'small' }, `${n.created_at.slice(0, 10)}; rule ${n.data.rule}`
          + `${source ? `, source ${source}` : ''}; ${n.read_at ? 'read' : 'unread'}`),
        h('p', {}, n.body));
    })) : h('p', {}, 'None sent.'));
}
