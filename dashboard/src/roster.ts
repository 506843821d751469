// The roster: who needs attention first (the API's risk order), the reasons in words and as
// badges, a filter and a search that work on the loaded list (no request per keystroke, so 500
// athletes stay quick), and when each last synced a run.
import { listCoachAthletes } from './generated/sdk.gen';
import type { RosterEntry } from './generated/types.gen';
import { ago, h, km } from './dom';

const SPIKE_WORDS: Record<string, string> = {
  small: 'small run spike', moderate: 'moderate run spike', large: 'large run spike',
};
const TIER_WORDS: Record<string, string> = {
  emergency: 'pain: emergency', urgent: 'pain: urgent', review: 'pain: get it checked',
  inflammatory_screen: 'pain: inflammatory screen', self_care: 'pain: self-care',
};

export type Badge = { kind: string; text: string; tone: 'red' | 'amber' | 'blue' };

export function badges(e: RosterEntry): Badge[] {
  const out: Badge[] = [];
  for (const reason of e.attention) {
    if (reason.startsWith('pain_')) {
      const tier = reason.slice(5);
      out.push({ kind: reason, tone: tier === 'self_care' ? 'amber' : 'red',
                 text: TIER_WORDS[tier] ?? `pain: ${tier.replace(/_/g, ' ')}` });
    } else if (reason.startsWith('run_spike_')) {
      const spike = reason.slice(10);
      out.push({ kind: reason, tone: spike === 'large' ? 'red' : 'amber',
                 text: `${SPIKE_WORDS[spike] ?? spike} past the 30-day longest` });
    } else if (reason === 'weekly_jump') {
      const now = e.last_7_days_m ?? 0;
      const before = e.previous_7_days_m ?? 0;
      const pct = before > 0 ? Math.round((now / before - 1) * 100) : null;
      out.push({ kind: reason, tone: 'amber',
                 text: pct === null ? `weekly jump to ${km(now)}` : `weekly jump +${pct} %` });
    } else if (reason === 'shoe_plan' || reason === 'shoe_replace') {
      const status = reason.slice(5);
      for (const shoe of e.shoes_needing_attention ?? []) {
        if (shoe.status === status) {
          out.push({ kind: reason, tone: status === 'replace' ? 'red' : 'blue',
                     text: `${status === 'replace' ? 'replace' : 'plan to replace'} ${shoe.name}` });
        }
      }
    } else if (reason === 'unread_warnings') {
      const n = e.unread_warnings ?? 0;
      out.push({ kind: reason, tone: 'blue', text: `${n} unread warning${n === 1 ? '' : 's'}` });
    } else {
      out.push({ kind: reason, tone: 'blue', text: reason.replace(/_/g, ' ') });
    }
  }
  return out;
}

const FILTERS: Record<string, (e: RosterEntry) => boolean> = {
  all: () => true,
  attention: (e) => e.attention.length > 0,
  load: (e) => e.attention.some((a) => a.startsWith('run_spike') || a === 'weekly_jump'),
  shoes: (e) => e.attention.some((a) => a.startsWith('shoe_')),
  pain: (e) => e.attention.some((a) => a.startsWith('pain_')),
};

export async function showRoster(main: HTMLElement): Promise<void> {
  const { data, error } = await listCoachAthletes({ query: { sort: 'risk' } });
  if (error || !data) throw new Error('Could not load your athletes.');
  const loadedAt = new Date();
  const search = h('input', { id: 'search', type: 'search', placeholder: 'Name or email',
                              autocomplete: 'off' }) as HTMLInputElement;
  const filter = h('select', { id: 'filter' }) as HTMLSelectElement;
  for (const [value, label] of [['all', 'Everyone'], ['attention', 'Needs attention'],
    ['load', 'Load'], ['shoes', 'Shoes'], ['pain', 'Pain']]) {
    filter.append(h('option', { value }, label));
  }
  const list = h('ol', { class: 'roster', id: 'roster', 'aria-live': 'polite' });
  const count = h('p', { class: 'count', id: 'roster-count' });
  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const keep = data.items.filter((e) => FILTERS[filter.value](e)
      && (!q || `${e.display_name ?? ''} ${e.email}`.toLowerCase().includes(q)));
    list.replaceChildren(...keep.map(rosterItem));
    count.textContent = `${keep.length} of ${data.items.length} athletes`;
  };
  search.addEventListener('input', draw);
  filter.addEventListener('change', draw);
  const reload = h('button', { type: 'button', id: 'reload' }, 'Reload');
  reload.addEventListener('click', () => { void showRoster(main); });
  main.replaceChildren(
    h('h1', {}, 'Who needs attention this week'),
    h('div', { class: 'controls' },
      h('label', { for: 'search' }, 'Search'), search,
      h('label', { for: 'filter' }, 'Show'), filter, reload),
    h('p', { class: 'small' }, `Loaded at ${loadedAt.toLocaleTimeString()}.`),
    count, list);
  draw();
}

function rosterItem(e: RosterEntry): HTMLElement {
  const name = e.display_name ?? e.email;
  const marks = badges(e);
  return h('li', { class: 'athlete', 'data-athlete-id': e.athlete_id },
    h('div', { class: 'line' },
      h('a', { href: `#/athletes/${e.athlete_id}`, class: 'name' }, name),
      h('span', { class: 'sync' }, `last run synced ${ago(e.last_run_at)}`)),
    h('p', { class: 'week' },
      e.last_7_days_m === null ? 'load not shared'
        : `last 7 days ${km(e.last_7_days_m)}, the 7 before ${km(e.previous_7_days_m)}`),
    marks.length
      ? h('ul', { class: 'badges', 'aria-label': `Why ${name} needs attention` },
        ...marks.map((b) => h('li', { class: `badge ${b.tone}`, 'data-kind': b.kind }, b.text)))
      : h('p', { class: 'calm' }, 'Nothing needs attention.'));
}
