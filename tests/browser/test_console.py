"""The incident console in headless Chromium against a console serving a replayed demo scenario.

Each test drives the real page served by Vigil's HTTP server (``ConsoleSession`` on
127.0.0.1:0) and checks what a person would see; the expected values come from the scenario's
injected truth and from the API, never from the page itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from tests.browser.conftest import Served

pytestmark = pytest.mark.browser

Page = Any  # playwright.sync_api.Page; imported lazily so collection works without playwright


def _incident_with_root_cause(served: Served) -> dict[str, Any]:
    """The incident whose anomalous nodes include the injected root cause (from the API)."""
    found = httpx.get(f"{served.session.server.url}/api/v1/incidents", timeout=10).json()
    root = served.scenario.truth.root_cause
    matching = [i for i in found["incidents"] if root in i["nodes"]]
    assert len(matching) == 1, [i["nodes"] for i in found["incidents"]]
    return matching[0]


def _open_incident(page: Page, served: Served, incident_id: str) -> None:
    page.goto(served.session.url)
    page.locator(f'tr[data-id="{incident_id}"] a.incident-link').click()
    page.wait_for_selector("#topology-graph")
    page.wait_for_selector(".chart .uplot canvas")


def test_incidents_list_shows_the_incident(page: Page, served: Served, artifacts: Any) -> None:
    expected = _incident_with_root_cause(served)
    page.goto(served.session.url)
    row = page.locator(f'tr[data-id="{expected["id"]}"]')
    row.wait_for()
    assert expected["summary"] in row.inner_text()
    assert str(len(expected["alerts"])) in row.inner_text()
    page.wait_for_selector("#live.live-on")  # the live stream is connected
    assert page.locator("#live").inner_text() == "Live"
    page.screenshot(path=str(artifacts / "incidents.png"), full_page=True)


def test_keyboard_reaches_and_opens_an_incident(page: Page, served: Served) -> None:
    page.goto(served.session.url)
    page.locator("tbody tr").first.wait_for()
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('incident-link')"):
            break
    else:
        pytest.fail("Tab never reached an incident link")
    page.keyboard.press("Enter")
    page.wait_for_selector("#causes")
    assert page.evaluate("location.hash").startswith("#/incident/")


def test_filters_narrow_the_list(page: Page, served: Served) -> None:
    expected = _incident_with_root_cause(served)
    page.goto(served.session.url)
    page.locator("tbody tr").first.wait_for()
    total = page.locator("tbody tr").count()
    assert total >= 2
    page.fill("#f-service", served.scenario.truth.root_cause)
    assert page.locator("tbody tr").count() == 1
    assert page.locator(f'tr[data-id="{expected["id"]}"]').count() == 1
    page.fill("#f-service", "")
    page.select_option("#f-status", "active")
    assert page.locator("tbody tr").count() == 0  # every demo incident resolves by the end
    assert "No incident matches" in page.locator("main").inner_text()


def test_incident_page_ranks_the_injected_cause_first_with_evidence(
    page: Page, served: Served, artifacts: Any
) -> None:
    incident = _incident_with_root_cause(served)
    _open_incident(page, served, incident["id"])
    top = page.locator(".cause-item").first
    assert "top" in (top.get_attribute("class") or "")
    assert top.locator(".cause-node").inner_text() == served.scenario.truth.root_cause
    evidence = top.locator(".evidence li").all_inner_texts()
    assert evidence, "the top cause shows no evidence"
    assert any("deploy" in line for line in evidence)
    assert page.locator(".chart").count() >= 1
    label = page.locator(".chart .plot").first.get_attribute("aria-label") or ""
    assert "Onset at" in label
    assert served.scenario.truth.root_cause in label
    page.screenshot(path=str(artifacts / "incident.png"), full_page=True)


def test_graph_highlights_the_cause_and_the_anomalous_nodes(page: Page, served: Served) -> None:
    incident = _incident_with_root_cause(served)
    _open_incident(page, served, incident["id"])
    root = served.scenario.truth.root_cause
    top = page.locator("#topology-graph g.node[data-role='top-cause']")
    assert top.count() == 1
    assert top.get_attribute("data-node") == root
    fill = top.locator("rect").evaluate("r => getComputedStyle(r).fill")
    normal = page.locator("#topology-graph g.node[data-role='normal'] rect").first
    assert fill != normal.evaluate("r => getComputedStyle(r).fill")
    anomalous = page.locator("#topology-graph g.node[data-role='anomalous']")
    shown = set(anomalous.evaluate_all("gs => gs.map(g => g.dataset.node)"))
    assert shown == set(incident["nodes"]) - {root}
    top.focus()  # keyboard: a focused node describes itself
    assert "most likely root cause" in page.locator("#graph-info").inner_text()


def test_silence_created_from_the_page_shows_in_the_api(
    page: Page, served: Served, artifacts: Any
) -> None:
    incident = _incident_with_root_cause(served)
    _open_incident(page, served, incident["id"])
    page.click("#silence-button")
    dialog = page.locator("#silence-dialog")
    dialog.wait_for()
    matchers = page.input_value("#silence-matchers").splitlines()
    assert any(served.scenario.truth.root_cause in m for m in matchers)
    page.fill("#silence-by", "browser-test")
    page.screenshot(path=str(artifacts / "silence-dialog.png"))
    page.click("#silence-form button[type=submit]")
    page.wait_for_selector("#silence-note:not([hidden])")
    listed = httpx.get(f"{served.session.server.url}/api/v1/silences", timeout=10).json()
    mine = [s for s in listed["silences"] if s["created_by"] == "browser-test"]
    assert len(mine) == 1
    assert mine[0]["matchers"] == matchers
    assert mine[0]["status"] == "active"
    assert mine[0]["id"] in page.locator("#silence-note").inner_text()


def test_acknowledge_needs_the_token_and_shows_in_the_list(page: Page, served: Served) -> None:
    incident = _incident_with_root_cause(served)
    page.goto(f"{served.session.server.url}/")  # no token in the URL, none stored
    page.locator(f'tr[data-id="{incident["id"]}"] a.incident-link').click()
    page.wait_for_selector("#ack-button")
    page.click("#ack-button")
    page.locator("#token-dialog").wait_for()
    page.fill("#token-input", served.session.token)
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#ack-note")
    listed = httpx.get(f"{served.session.server.url}/api/v1/console/incidents", timeout=10).json()
    acked = {i["id"]: i["ack"] for i in listed["incidents"]}
    assert acked[incident["id"]] is not None


def test_new_incidents_appear_live_without_reload(
    page: Page, empty_console: Served, artifacts: Any
) -> None:
    page.goto(empty_console.session.url)
    page.wait_for_selector("#live.live-on")
    assert "No incidents yet" in page.locator("main").inner_text()
    page.evaluate("window.__sameDocument = true")
    empty_console.replay()
    page.locator("tbody tr").first.wait_for(timeout=15_000)
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    assert page.locator("tbody tr").count() >= 1
    page.screenshot(path=str(artifacts / "incidents-live.png"), full_page=True)


def test_console_runs_under_its_content_security_policy(page: Page, served: Served) -> None:
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    response = page.goto(served.session.url)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    incident = _incident_with_root_cause(served)
    _open_incident(page, served, incident["id"])  # list, stream, graph and uPlot charts
    assert violations == []


def test_link_token_replaces_a_stored_one_only_when_confirmed(page: Page, served: Served) -> None:
    base = served.session.server.url
    page.goto(f"{base}/")
    page.evaluate("localStorage.setItem('vigil.token', 'stored-token')")
    asked: list[str] = []

    def refuse(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", refuse)
    page.goto("about:blank")  # a link opened afresh, not a fragment change of the open page
    page.goto(f"{base}/#token=link-token")
    _until(page, "location.hash === '#/'")
    assert len(asked) == 1
    assert "Replace the stored token" in asked[0]
    assert page.evaluate("localStorage.getItem('vigil.token')") == "stored-token"
    page.once("dialog", lambda dialog: dialog.accept())
    page.goto("about:blank")
    page.goto(f"{base}/#token=link-token")
    _until(page, "localStorage.getItem('vigil.token') === 'link-token'")


def _until(page: Page, condition: str) -> None:
    """Poll ``condition`` (``wait_for_function`` evaluates strings, which the CSP forbids)."""
    for _ in range(200):
        if page.evaluate(condition):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"never true: {condition}")
