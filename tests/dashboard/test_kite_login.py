"""A Kite account's daily login from the dashboard, in a real browser: when its session ends, the banner links
to the broker's login page (the paper broker's, which shows a request token as Kite's would hand it to the
app) and takes the request token, which the service turns into the session; a page opened later, which was
not sent the `session_needed` frame, learns the login page from the session route's answer."""

from __future__ import annotations

from typing import Any

from tests.dashboard.conftest import expect, open_live, run_cycle
from tests.web.conftest import Served


def request_token_from_login_page(page: Any, banner: Any) -> str:
    """Follow the banner's link to the broker's login page, as the trader does, and read the token it gives."""
    with page.context.expect_page() as opened:
        banner.get_by_test_id("login-link").click()
    login = opened.value
    token = login.locator("#request_token").inner_text()
    login.close()
    return token


def test_a_kite_account_whose_session_ended_is_logged_in_with_the_request_token_of_its_login_page(
        served: Served, page: Any):
    _, token, [account] = served.user("kavya", "KAVYA1", broker="kite")
    assert served.kite_login(token, account, "KAVYA1")[0] == 200
    open_live(page, served, token)
    run_cycle(page, 0)
    expect(page.get_by_test_id("session-banner")).to_have_count(0)

    served.sim("expire", account="KAVYA1")
    run_cycle(page, 1)
    banner = page.get_by_test_id("session-banner")
    expect(banner).to_have_attribute("data-account-id", str(account))
    expect(banner.get_by_test_id("login-link")).to_have_attribute(
        "href", f"{served.paper.url}/connect/login?api_key=KAVYA1&v=3")

    banner.get_by_label("Request token from the broker's login").fill(request_token_from_login_page(page, banner))
    banner.get_by_role("button", name="Log in again").click()
    expect(banner).to_have_count(0)
    run_cycle(page, 2)
    expect(page.get_by_test_id("cycle-row").first.locator('[data-step="fetch"]')).to_have_attribute(
        "data-outcome", "ok")


def test_a_page_opened_after_the_kite_session_ended_gets_the_login_page_from_the_session_route(
        served: Served, page: Any):
    user_id, token, [account] = served.user("kavya", "KAVYA1", broker="kite")
    served.io.call(served.store.set_session_needed(user_id, account))
    open_live(page, served, token)
    banner = page.get_by_test_id("session-banner")
    expect(banner.get_by_test_id("login-link")).to_have_count(0)

    banner.get_by_role("button", name="Log in again").click()
    link = banner.get_by_test_id("login-link")
    expect(link).to_have_attribute("href", f"{served.paper.url}/connect/login?api_key=KAVYA1&v=3")
    banner.get_by_label("Request token from the broker's login").fill(request_token_from_login_page(page, banner))
    banner.get_by_role("button", name="Log in again").click()
    expect(banner).to_have_count(0)
