"""The coach's dashboard in a real browser: Debian's Chromium driven by Playwright against a live
server (`backstride serve`, SQLite) with the demo seeded, as a newcomer would run it.

The coach signs in through the consent page as the dashboard (the first-party public client,
PKCE); the tests then read the page as a coach would (order, badges, words) and the numbers each
chart drew (the chart element's `chartData`), against what the API answers the same coach. An
athlete's narrowed grants and a revoked link are made through the athlete's own API, and the
access log read back. axe-core (from dashboard/node_modules, pinned by its lock) is injected on
both pages. The screenshots in docs/ are taken here, at desktop and phone widths.

One server and one browser for the module: the tests run in file order, each on its own athlete
where it changes anything (Mo's grants, Ola's link), and the roster test comes first.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from service.cli.demo import DOMAIN, PASSWORD
from tests.processes.clients import ROOT, npm_ci
from tests.processes.procs import answers, free_port, http, start, stop, wait_until

pytestmark = pytest.mark.processes
CHROMIUM = Path("/usr/bin/chromium")
DASHBOARD = ROOT / "dashboard"
DOCS = ROOT / "docs"
COACH = f"coach@{DOMAIN}"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def chromium() -> str:
    """Debian's Chromium, installed with apt when missing (never Playwright's own download)."""
    if not CHROMIUM.exists():
        if shutil.which("apt-get") is None:
            pytest.fail("/usr/bin/chromium is missing and apt-get is not there to install it")
        subprocess.run(["apt-get", "update"], check=True, capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "chromium"], check=True, capture_output=True,
                       timeout=900)
    return str(CHROMIUM)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("dashboard")
    port = free_port()
    env = {"BACKSTRIDE_DATA_DIR": str(tmp / "var"), "BACKSTRIDE_DATABASE_URL": "",
           "BACKSTRIDE_BROKER_URL": "", "BACKSTRIDE_SECRET_KEY": "", "PORT": str(port),
           "BACKSTRIDE_PASSWORD_PROFILE": "cheapest",
           "BACKSTRIDE_RATELIMIT_DEFAULT": "100000 per minute",
           "BACKSTRIDE_RATELIMIT_AUTH": "100000 per minute"}
    log = tmp / "serve.log"
    for step in (["db", "upgrade"], ["demo", "seed"]):
        assert start(step, env, log, cwd=tmp).wait(120) == 0, log.read_text()
    server = start(["serve", "--workers", "1"], env, log, cwd=tmp)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers(f"{url}/healthz"), 30, "the API", log)
        yield url
    finally:
        stop(server)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium(),
                                              args=["--no-sandbox", "--disable-gpu"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def axe_source() -> str:
    return (npm_ci(DASHBOARD) / "axe-core" / "axe.min.js").read_text()


def token(base: str, email: str) -> str:
    status, _, body = http("POST", f"{base}/v1/auth/token",
                           {"email": email, "password": PASSWORD})
    assert status == 200, body
    return body["access_token"]


def api(base: str, email: str, method: str, path: str, body: Any = None) -> Any:
    status, _, answer = http(method, f"{base}{path}", body, token=token(base, email))
    assert status < 300, (status, answer)
    return answer


@contextlib.contextmanager
def coach_page(browser: Any, base: str, *, viewport: dict[str, int] = DESKTOP,
               untick: tuple[str, ...] = ()) -> Iterator[Any]:
    """A fresh browser context, signed in as the demo coach through the consent page."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    try:
        sign_in(page, base, untick=untick)
        yield page
        assert not [p for p in problems if "Content Security Policy" in p], problems
    finally:
        context.close()


def sign_in(page: Any, base: str, *, untick: tuple[str, ...] = ()) -> None:
    page.goto(f"{base}/coach/")
    page.get_by_role("button", name="Sign in with Backstride").click()
    page.wait_for_url(re.compile(r"/oauth/authorize"))
    if page.locator("#email").count():
        page.fill("#email", COACH)
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Sign in").click()
    for scope in untick:
        page.locator(f'input[name="grant"][value="{scope}"]').uncheck()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(re.compile(r"/coach/"))
    page.wait_for_selector("main[data-ready]")


def roster_names(page: Any) -> list[str]:
    return page.locator("#roster > li .name").all_inner_texts()


def item_of(page: Any, name: str) -> Any:
    return page.locator("#roster > li").filter(
        has=page.get_by_role("link", name=name, exact=True))


def axe(page: Any, source: str) -> list[dict[str, Any]]:
    page.evaluate(source)  # evaluated by the driver, so the page's CSP does not refuse it
    result = page.evaluate("async () => await axe.run(document)")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def twelve_weeks(base: str, athlete_id: str, first_monday: str) -> dict[str, int]:
    """Weekly sums of the runs the API lists, by local Monday, from first_monday on."""
    runs = api(base, COACH, "GET", f"/v1/coach/athletes/{athlete_id}/checkins"
               f"?kind=run&limit=200&from={first_monday}T00:00:00Z")["items"]
    weeks: dict[str, int] = {}
    for run in runs:
        day = date.fromisoformat(run["local_date"])
        monday = (day - timedelta(days=day.weekday())).isoformat()
        if monday >= first_monday:
            weeks[monday] = weeks.get(monday, 0) + run["distance_m"]
    return weeks


def athletes(base: str) -> dict[str, dict[str, Any]]:
    items = api(base, COACH, "GET", "/v1/coach/athletes?sort=risk")["items"]
    return {item["display_name"]: item for item in items}


# --- the tests --------------------------------------------------------------------------------

def test_the_coach_signs_in_through_the_consent_page_and_sees_the_roster_in_order(
        base, browser, axe_source):
    with urllib.request.urlopen(f"{base}/coach/") as answer:
        csp = answer.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    assert "connect-src 'self'" in csp and "frame-ancestors 'none'" in csp
    expected = api(base, COACH, "GET", "/v1/coach/athletes?sort=risk")["items"]
    with coach_page(browser, base) as page:
        assert page.url.startswith(f"{base}/coach/") and "code=" not in page.url
        names = roster_names(page)
        assert names == [e["display_name"] for e in expected]
        assert set(names) == {"Bea", "Max", "Ola", "Mo"}
        for entry in expected:
            item = page.locator(f'#roster > li[data-athlete-id="{entry["athlete_id"]}"]')
            kinds = item.locator(".badge").evaluate_all("els => els.map(e => e.dataset.kind)")
            assert sorted(set(kinds)) == sorted(entry["attention"]), entry
        max_item = item_of(page, "Max")
        assert "moderate run spike past the 30-day longest" in max_item.inner_text()
        ola_item = item_of(page, "Ola")
        assert "replace Faithful trainers" in ola_item.inner_text()
        mo_item = item_of(page, "Mo")
        assert "pain: inflammatory screen" in mo_item.inner_text()
        assert "2 unread warnings" in item_of(page, "Bea").inner_text()
        assert page.locator("#roster-count").inner_text() == "4 of 4 athletes"
        page.fill("#search", "ol")
        assert roster_names(page) == ["Ola"]
        page.fill("#search", "")
        page.select_option("#filter", "pain")
        assert set(roster_names(page)) == {e["display_name"] for e in expected
                                           if any(a.startswith("pain_") for a in e["attention"])}
        page.select_option("#filter", "all")
        assert axe(page, axe_source) == []
        page.screenshot(path=str(DOCS / "dashboard-roster-desktop.png"), full_page=True)
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(DOCS / "dashboard-roster-phone.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_an_athlete_page_draws_its_charts_from_the_apis_numbers(base, browser, axe_source):
    max_ = athletes(base)["Max"]
    load = api(base, COACH, "GET", f"/v1/coach/athletes/{max_['athlete_id']}/load")
    since = (datetime.now(UTC) - timedelta(days=29)).isoformat()
    runs = api(base, COACH, "GET", f"/v1/coach/athletes/{max_['athlete_id']}/checkins"
               f"?kind=run&limit=200&from={since.replace('+', '%2B')}")["items"]
    with coach_page(browser, base) as page:
        # by keyboard: Tab to Max's link, Enter
        item_of(page, "Max").locator("a.name").focus()
        page.keyboard.press("Enter")
        page.wait_for_selector(f'main[data-ready="#/athletes/{max_["athlete_id"]}"]')
        weekly = page.locator("#weekly-chart").evaluate("el => el.chartData")
        weeks = weekly["labels"]
        assert len(weeks) == 12 and weeks[-1] == load["weeks"][-1]["week_start"]
        drawn_m = dict(zip(weeks, weekly["series"]["weekly_distance_m"], strict=True))
        assert {w["week_start"]: drawn_m[w["week_start"]] for w in load["weeks"]} == {
            w["week_start"]: w["distance_m"] for w in load["weeks"]}
        assert {w: m for w, m in drawn_m.items() if m} == twelve_weeks(base, max_["athlete_id"],
                                                                       weeks[0])
        assert set(weekly["series"]["longest_30_days_m"]) == {load["latest_run"]["baseline_m"]}
        assert set(weekly["series"]["longest_advisable_m"]) == {load["longest_advisable_run_m"]}
        marked = [(weeks[i], m) for i, m in enumerate(weekly["series"]["spike_m"])
                  if m is not None]
        assert load["latest_run"]["spike"] == "moderate"
        run_day = date.fromisoformat(load["latest_run"]["started_at"][:10])
        assert marked == [((run_day - timedelta(days=run_day.weekday())).isoformat(),
                           load["latest_run"]["distance_m"])]
        # the chart drew what it holds: uPlot's own data, in km
        drawn = page.locator("#weekly-chart").evaluate("el => el.chart.data[1]")
        assert drawn == [m / 1000 for m in weekly["series"]["weekly_distance_m"]]
        daily = page.locator("#daily-chart").evaluate("el => el.chartData")
        assert len(daily["labels"]) == 28
        per_day: dict[str, int] = {}
        for run in runs:
            per_day[run["local_date"]] = per_day.get(run["local_date"], 0) + run["distance_m"]
        assert {d: m for d, m in zip(daily["labels"], daily["series"]["daily_distance_m"],
                                     strict=True) if m} == {
            d: m for d, m in per_day.items() if d in daily["labels"]}
        assert sum(daily["series"]["daily_distance_m"]) > 0
        text = page.locator("main").inner_text()
        assert f"{load['latest_run']['percent_longer']} % past the 30-day longest" in text
        assert "ACWR (information, not a warning)" in text
        assert page.locator("#pain li").count() >= 1  # Max shares pain: his back after the 26 km
        assert page.locator("#warnings li[data-rule=run_spike]").count() >= 1
        assert axe(page, axe_source) == []
        page.screenshot(path=str(DOCS / "dashboard-athlete-desktop.png"), full_page=True)
        page.set_viewport_size(PHONE)
        page.wait_for_timeout(100)
        page.screenshot(path=str(DOCS / "dashboard-athlete-phone.png"), full_page=True)


def test_the_visits_are_in_the_athletes_access_log(base, browser):
    bea = athletes(base)["Bea"]
    before = api(base, f"beginner@{DOMAIN}", "GET", "/v1/me/access-log?limit=200")["items"]
    with coach_page(browser, base) as page:
        page.goto(f"{base}/coach/#/athletes/{bea['athlete_id']}")
        page.wait_for_selector(f'main[data-ready="#/athletes/{bea["athlete_id"]}"]')
    after = api(base, f"beginner@{DOMAIN}", "GET", "/v1/me/access-log?limit=200")["items"]
    new = [e for e in after if e["id"] not in {b["id"] for b in before}]
    assert {e["resource"] for e in new} >= {"roster", "load", "checkins", "shoes",
                                            "notifications"}
    assert {e["coach_name"] for e in new} == {"Coach Kim"}


def test_a_coach_who_unticks_pain_on_the_consent_page_sees_no_pain(base, browser):
    """Mo and Max grant their coach pain; the coach's own consent to the dashboard withholds it."""
    mo, max_ = athletes(base)["Mo"], athletes(base)["Max"]
    with coach_page(browser, base, untick=("pain:read",)) as page:
        item = page.locator(f'#roster > li[data-athlete-id="{mo["athlete_id"]}"]')
        assert "pain" not in item.inner_text().lower()
        page.goto(f"{base}/coach/#/athletes/{max_['athlete_id']}")
        page.wait_for_selector(f'main[data-ready="#/athletes/{max_["athlete_id"]}"]')
        assert page.locator("#pain li").count() == 0
    with coach_page(browser, base) as page:  # allowed again: pain is back
        item = page.locator(f'#roster > li[data-athlete-id="{mo["athlete_id"]}"]')
        assert "pain: inflammatory screen" in item.inner_text()


def test_a_coach_the_athlete_shares_no_pain_with_sees_no_pain_anywhere(base, browser):
    mo = athletes(base)["Mo"]
    coach_id = next(c["coach_id"] for c in api(base, f"morning@{DOMAIN}", "GET",
                                                "/v1/me/coaches")["items"])
    api(base, f"morning@{DOMAIN}", "PUT", f"/v1/me/coaches/{coach_id}",
        {"scopes": ["runs", "shoes", "load", "notifications"]})
    with coach_page(browser, base) as page:
        item = page.locator(f'#roster > li[data-athlete-id="{mo["athlete_id"]}"]')
        assert "pain" not in item.inner_text().lower()
        item.locator("a.name").click()
        page.wait_for_selector(f'main[data-ready="#/athletes/{mo["athlete_id"]}"]')
        assert "pain" not in page.locator("main").inner_text().lower()
        assert page.locator("#pain").count() == 0


def test_a_revoked_link_empties_the_athlete_from_the_roster_on_reload(base, browser):
    ola = athletes(base)["Ola"]
    with coach_page(browser, base) as page:
        assert "Ola" in roster_names(page)
        coach_id = next(c["coach_id"] for c in api(base, f"oldshoes@{DOMAIN}", "GET",
                                                    "/v1/me/coaches")["items"])
        api(base, f"oldshoes@{DOMAIN}", "DELETE", f"/v1/me/coaches/{coach_id}")
        page.reload()  # tokens are in memory only: a reload signs in again
        sign_in(page, base)
        assert "Ola" not in roster_names(page)
        assert page.locator(f'[data-athlete-id="{ola["athlete_id"]}"]').count() == 0
        page.goto(f"{base}/coach/#/athletes/{ola['athlete_id']}")
        page.wait_for_selector(f'main[data-ready="#/athletes/{ola["athlete_id"]}"]')
        assert "Not one of your athletes" in page.locator("main").inner_text()
