// A tiny element builder: text always goes in as text (never innerHTML), so names and notes the
// athletes typed cannot become markup.
type Child = Node | string | number | null | undefined | false;

export function h(tag: string, attrs: Record<string, string | boolean | undefined> = {},
                  ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === true) el.setAttribute(key, '');
    else if (typeof value === 'string') el.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function km(metres: number | null | undefined): string {
  return metres === null || metres === undefined ? '–' : `${(metres / 1000).toFixed(1)} km`;
}

export function ago(iso: string | null | undefined): string {
  if (!iso) return 'never';
  const hours = (Date.now() - new Date(iso).getTime()) / 3_600_000;
  if (hours < 1) return 'within the hour';
  if (hours < 48) return `${Math.round(hours)} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}
