// A phone's life against a live Backstride server, through the SDK generated from
// openapi/openapi.json (src/generated/, `npm run generate`). Written as an app developer writes
// it: the generated types and nothing else, so a spec that says the wrong thing fails here, at
// compile time (tsc, strict) or when an answer does not pass its zod schema.
//
//   node dist/phone.js http://127.0.0.1:8000
//
// Prints one JSON summary on stdout and exits 1 if any step failed. The life is told in
// chapters; a chapter stops at its first failure, the next one still runs, so one run lists
// every way the spec and the server disagree.

import { randomUUID } from 'node:crypto';

import { ZodError } from 'zod';

import { type Client, createClient, createConfig } from './generated/client/index.js';
import {
  acceptCoachInvite,
  createCoachInvite,
  createImport,
  createPersonalToken,
  createToken,
  getCoachAthleteLoad,
  getImport,
  getLoad,
  getProfile,
  listCheckins,
  listCoachAthletes,
  listDevices,
  listNotifications,
  uploadCheckin,
  uploadCheckinBatch,
  register,
  registerDevice,
  revokePersonalToken,
  updateProfile,
} from './generated/sdk.gen.js';
import type { CheckinBatchItem, CheckinInput, Problem } from './generated/types.gen.js';
import { zProblem } from './generated/zod.gen.js';

const PASSWORD = 'tarmac-and-trails-2026';
const DAY_MS = 24 * 60 * 60 * 1000;

/** What every generated call resolves to: the data, or the error, and the raw response. */
type Answer<T> = { data?: T; error?: unknown; response?: Response };

class StepFailed extends Error {
  constructor(
    readonly step: string,
    readonly status: number | undefined,
    readonly detail: unknown,
  ) {
    super(`${step}: ${status ?? 'no answer'}`);
  }
}

type Failure = { chapter: string; step: string; status: number | null; detail: unknown };

const steps: Array<{ step: string; status: number }> = [];
const failures: Failure[] = [];
const seen: Record<string, unknown> = {};

/** The answer's data, once it came with the status expected and passed its zod schema. */
async function expect<T>(
  step: string,
  status: number,
  pending: Promise<Answer<T>>,
): Promise<{ data: T; response: Response }> {
  const answer = await pending;
  const response = answer.response;
  if (answer.error !== undefined || answer.data === undefined || response === undefined) {
    throw new StepFailed(step, response?.status, answer.error);
  }
  if (response.status !== status) {
    throw new StepFailed(step, response.status, `expected ${status}`);
  }
  steps.push({ step, status });
  return { data: answer.data, response };
}

/** A refusal with the status expected, as a problem document that passes its zod schema. */
async function refused<T>(
  step: string,
  status: number,
  pending: Promise<Answer<T>>,
): Promise<Problem> {
  const answer = await pending;
  const response = answer.response;
  if (answer.error === undefined || response === undefined || response.status !== status) {
    throw new StepFailed(step, response?.status, answer.error ?? `expected ${status}`);
  }
  const problem = zProblem.safeParse(answer.error);
  if (!problem.success) {
    throw new StepFailed(step, response.status, problem.error);
  }
  steps.push({ step, status });
  return problem.data;
}

function check(step: string, ok: boolean, detail: unknown): asserts ok {
  if (!ok) {
    throw new StepFailed(step, undefined, detail);
  }
}

function etag(step: string, response: Response): string {
  const tag = response.headers.get('ETag');
  check(step, tag !== null && tag !== '', 'the answer carries no ETag');
  return tag;
}

/** Zod's issues (first few) rather than an empty object; anything else as it is. */
function describe(detail: unknown): unknown {
  if (detail instanceof ZodError) {
    return {
      zod: detail.issues.length,
      issues: detail.issues.slice(0, 5).map((i) => ({
        path: i.path.map(String).join('.'), code: i.code, message: i.message,
      })),
    };
  }
  if (detail instanceof Error) {
    return `${detail.name}: ${detail.message}`;
  }
  return detail;
}

async function chapter(name: string, story: () => Promise<void>): Promise<boolean> {
  try {
    await story();
    return true;
  } catch (error) {
    failures.push(error instanceof StepFailed
      ? { chapter: name, step: error.step, status: error.status ?? null,
        detail: describe(error.detail) }
      : { chapter: name, step: 'unexpected', status: null, detail: describe(error) });
    return false;
  }
}

function daysAgo(days: number, hour = 7): string {
  const at = new Date(Date.now() - days * DAY_MS);
  at.setUTCHours(hour, 0, 0, 0);
  return at.toISOString();
}

/** A short run as a watch writes it: a GPX track with a point every 10 s. */
function gpxRun(startedAt: string): string {
  const start = Date.parse(startedAt);
  const points: string[] = [];
  for (let i = 0; i <= 180; i += 1) {
    const lat = (51.5 + i * 0.0001).toFixed(6);
    const time = new Date(start + i * 10_000).toISOString();
    points.push(`<trkpt lat="${lat}" lon="-0.120000"><time>${time}</time></trkpt>`);
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<gpx version="1.1" creator="backstride-phone" xmlns="http://www.topografix.com/GPX/1/1">',
    `<trk><name>Morning run</name><type>running</type><trkseg>${points.join('')}</trkseg></trk>`,
    '</gpx>',
  ].join('\n');
}

async function signIn(baseUrl: string, anonymous: Client, email: string): Promise<Client> {
  const { data: pair } = await expect(`sign in ${email.split('-')[0]}`, 200, createToken({
    client: anonymous, body: { email, password: PASSWORD },
  }));
  return createClient(createConfig({ baseUrl, auth: pair.access_token }));
}

async function phone(baseUrl: string): Promise<void> {
  const anonymous = createClient(createConfig({ baseUrl }));
  const suffix = randomUUID().slice(0, 8);
  const athleteEmail = `sam-${suffix}@example.org`;
  const coachEmail = `kim-${suffix}@example.org`;
  let athlete: Client | undefined;
  let athleteId: string | undefined;
  let manualRunId: string | undefined;

  // Sign up and sign in. Nothing else can run without it.
  const signedUp = await chapter('account', async () => {
    await expect('register', 201, register({
      client: anonymous,
      body: { email: athleteEmail, password: PASSWORD, timezone: 'Europe/London', units: 'km' },
      headers: { 'Idempotency-Key': randomUUID() },
    }));
    athlete = await signIn(baseUrl, anonymous, athleteEmail);
    const { data: me } = await expect('profile', 200, getProfile({ client: athlete }));
    check('profile', me.email === athleteEmail, me);
    athleteId = me.id;
    seen.athlete = { id: me.id, email: me.email, timezone: me.timezone, units: me.units };
    // A runner who trains at night turns quiet hours off (equal start and end), so the inbox
    // below reads the same at any hour of the day the phone lives its life.
    const { data: changed } = await expect('quiet hours off', 200, updateProfile({
      client: athlete, body: { quiet_hours: { start: '00:00', end: '00:00' } },
    }));
    check('quiet hours off',
      changed.quiet_hours.start === '00:00' && changed.quiet_hours.end === '00:00', changed);
  });
  if (!signedUp || athlete === undefined) {
    return;
  }
  const app = athlete;

  await chapter('sync', async () => {
    // The phone was offline for a week: everything it recorded goes up in one batch.
    const items: CheckinBatchItem[] = [
      { id: randomUUID(), kind: 'run', started_at: daysAgo(6), distance_m: 5_000,
        duration_s: 1_800 },
      { id: randomUUID(), kind: 'run', started_at: daysAgo(4), distance_m: 6_000,
        duration_s: 2_200, effort: 6, surface: 'road' },
      { id: randomUUID(), kind: 'run', started_at: daysAgo(2), distance_m: 8_000,
        duration_s: 2_900, surface: 'trail' },
      { id: randomUUID(), kind: 'exercise', recorded_at: daysAgo(2, 9), focus: 'stretch',
        duration_s: 600 },
      { id: randomUUID(), kind: 'pain', recorded_at: daysAgo(1, 8), severity: 8,
        location: 'lower_back', timing: 'next_morning', radiates: 'none' },
    ];
    const { data: batch } = await expect('batch upload', 200, uploadCheckinBatch({
      client: app, body: { items }, headers: { 'Idempotency-Key': randomUUID() },
    }));
    check('batch upload', batch.results.every((r) => r.result === 'created'), batch.results);
    seen.batch = batch.results.map((r) => r.result);

    // A second phone catches up from the start of the feed.
    const { data: first } = await expect('sync since 0', 200, listCheckins({
      client: app, query: { since: '0' },
    }));
    check('sync since 0', first.items.length === items.length, first.items.length);
    const cursor = first.next_cursor;
    check('sync since 0', cursor !== null, 'a sync page always has a cursor');

    // A run logged by hand under a new id, without If-Match: the phone has no tag for it yet.
    const runId = randomUUID();
    const run: CheckinInput = { kind: 'run', started_at: daysAgo(0, 6), distance_m: 4_000,
      duration_s: 1_500 };
    const created = await expect('PUT without If-Match', 201, uploadCheckin({
      client: app, path: { checkin_id: runId }, body: run,
    }));
    manualRunId = runId;
    const firstTag = etag('PUT without If-Match', created.response);

    // The runner corrects the distance; the phone sends the tag it holds.
    const updated = await expect('PUT with If-Match', 200, uploadCheckin({
      client: app, path: { checkin_id: runId }, body: { ...run, distance_m: 4_200 },
      headers: { 'If-Match': firstTag },
    }));
    check('PUT with If-Match', updated.data.version === created.data.version + 1,
      [created.data.version, updated.data.version]);
    const secondTag = etag('PUT with If-Match', updated.response);
    check('PUT with If-Match', secondTag !== firstTag, [firstTag, secondTag]);

    // Another phone still holds the old tag: its edit is refused, not silently applied.
    const stale = await refused('PUT with a stale If-Match', 412, uploadCheckin({
      client: app, path: { checkin_id: runId }, body: { ...run, distance_m: 9_999 },
      headers: { 'If-Match': firstTag },
    }));

    // The second phone syncs again and gets only what changed since.
    const { data: second } = await expect('sync since cursor', 200, listCheckins({
      client: app, query: { since: cursor },
    }));
    check('sync since cursor',
      second.items.length === 1 && second.items[0]?.distance_m === 4_200, second.items);
    seen.sync = { first: first.items.length, second: second.items.length, cursor,
      etags: [firstTag, secondTag], stale: { status: stale.status, title: stale.title } };
  });

  await chapter('load', async () => {
    const { data: load } = await expect('load', 200, getLoad({ client: app }));
    check('load', load.weeks.length > 0, load.weeks);
    if (manualRunId !== undefined) {
      check('load', load.latest_run?.run_id === manualRunId, load.latest_run);
    }
    seen.load = { latest_run_m: load.latest_run?.distance_m ?? null,
      advice_paused: load.advice_paused?.tier ?? null };
  });

  await chapter('inbox', async () => {
    // The severe pain check-in was triaged as it arrived: its notification waits in the inbox.
    const { data: inbox } = await expect('inbox', 200, listNotifications({ client: app }));
    const triggers = inbox.items.flatMap((n) =>
      (n.data.rule === 'pain_review' ? n.data.triggers : []));
    check('inbox', triggers.length > 0, inbox.items.map((n) => n.kind));
    seen.inbox = { kinds: inbox.items.map((n) => n.kind), triggers };
  });

  await chapter('devices', async () => {
    const { data: device } = await expect('register device', 201, registerDevice({
      client: app,
      body: { kind: 'expo', token: `ExponentPushToken[${suffix}]`, label: "Sam's phone" },
    }));
    const { data: devices } = await expect('devices', 200, listDevices({ client: app }));
    check('devices', devices.items.some((d) => d.id === device.id), devices.items);
    seen.device = { id: device.id, kind: device.kind, hint: device.hint };
  });

  await chapter('import', async () => {
    // Last month's run from the watch, as the app holds it: bytes in memory, no file name.
    const gpx = new Blob([gpxRun(daysAgo(20))], { type: 'application/gpx+xml' });
    const { data: upload } = await expect('import upload', 202, createImport({
      client: app, body: { file: gpx },
    }));
    const { data: job } = await expect('import read back', 200, getImport({
      client: app, path: { import_id: upload.id },
    }));
    seen.import = { id: job.id, status: job.status, filename: job.filename };
  });

  await chapter('coach', async () => {
    // A coach signs up, makes a token for their roster script and invites the athlete.
    await expect('coach register', 201, register({
      client: anonymous, body: { email: coachEmail, password: PASSWORD },
    }));
    const coach = await signIn(baseUrl, anonymous, coachEmail);
    const { data: pat } = await expect('coach personal token', 201, createPersonalToken({
      client: coach, body: { name: 'roster script', scopes: ['coach:read'], expires_in_days: 30 },
    }));
    const { data: invite } = await expect('coach invite', 201, createCoachInvite({
      client: coach,
    }));
    const { data: link } = await expect('accept invite', 201, acceptCoachInvite({
      client: app, body: { code: invite.code, scopes: ['runs', 'load', 'shoes', 'pain'] },
    }));

    // The coach's script reads the roster with the personal token alone.
    const script = createClient(createConfig({ baseUrl, auth: pat.token }));
    const { data: roster } = await expect('roster', 200, listCoachAthletes({ client: script }));
    const entry = roster.items.find((a) => a.athlete_id === athleteId);
    check('roster', entry !== undefined, roster.items);
    const { data: load } = await expect('athlete load', 200, getCoachAthleteLoad({
      client: script, path: { athlete_id: entry.athlete_id },
    }));
    check('athlete load', load.weeks.length > 0, load);

    // The coach revokes the token; the script is locked out at once.
    await expect('revoke personal token', 204, revokePersonalToken({
      client: coach, path: { token_id: pat.id },
    }));
    const denied = await refused('roster with a revoked token', 401,
      listCoachAthletes({ client: script }));
    seen.coach = { coach_id: link.coach_id, scopes: link.scopes, roster: roster.items.length,
      triage_tier: entry.triage_tier, attention: entry.attention, revoked: denied.status };
  });
}

const baseUrl = process.argv[2] ?? process.env.BACKSTRIDE_URL ?? 'http://127.0.0.1:8000';
await chapter('phone', () => phone(baseUrl));
console.log(JSON.stringify({ ok: failures.length === 0, steps, failures, seen }, null, 2));
process.exitCode = failures.length === 0 ? 0 : 1;
