"""End to end in headless Chromium (Debian's ``chromium``, driven by Playwright; no browser is ever
downloaded): sign in, a customer's message arrives live, reply, take over, a colleague's action
appears, the language switches, and the pages fit a phone.

With ``CXINBOX_SCREENSHOTS=<folder>`` the run also saves the screenshots the README shows.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from cxinbox.core.clock import utcnow
from cxinbox.models.identity import Plan, Role
from tests.campaigns.helpers import phones
from tests.fixtures.factories import PASSWORD, unique_email
from tests.fixtures.inbox import make_inbox, set_fields
from tests.fixtures.people import invite_token
from tests.fixtures.whatsapp import connect_number
from tests.templates.helpers import approved

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "browser tests skipped: no /usr/bin/chromium (apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright, expect  # noqa: E402

from tests.fixtures.wait import WAIT_SECONDS  # noqa: E402

SCREENSHOTS = os.environ.get("CXINBOX_SCREENSHOTS")
# what a page shows next arrives through the server and the event stream: on a loaded machine that can
# take longer than Playwright's default 5 s, which is a bound on a hang here, not a speed check
expect.set_options(timeout=WAIT_SECONDS * 1000)
PHONE = {"width": 390, "height": 844}
#: the e shortcut is pressed up to this many times, each given this long to close the conversation
KEY_PRESSES = 5
PRESS_WAIT_MS = 10_000


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield browser
        await browser.close()


@pytest.fixture
async def site_url(live_server: str) -> str:
    return live_server.removesuffix("/api/v1")


async def _shot(page: Page, name: str) -> None:
    if SCREENSHOTS:  # Playwright makes the folder
        await page.screenshot(path=os.path.join(SCREENSHOTS, f"console-{name}.png"), caret="initial")


async def _sign_in(page: Page, site_url: str, email: str) -> None:
    await page.goto(site_url + "/")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_label("Password").press("Enter")
    await page.wait_for_url("**/inbox")


async def _fits(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways at {PHONE['width']} px ({width} px)"


async def test_an_agent_works_a_conversation_live(chromium, site_url, client, runtime, graph, factory):
    org = await factory.org()
    await connect_number(runtime, graph, org.id)
    colleague = await factory.member(org.id, Role.SUPERVISOR)
    context = await chromium.new_context(viewport={"width": 1100, "height": 720}, locale="en-US")
    page = await context.new_page()
    failures: list[str] = []  # a refused script or style (CSP), a missing file, a server error
    page.on("console", lambda m: failures.append(m.text) if "Refused" in m.text else None)
    page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    await page.goto(site_url + "/")
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    await _shot(page, "sign-in")
    async with page.expect_response(lambda r: "/api/v1/events" in r.url):
        await _sign_in(page, site_url, org.admin.email)

    # a customer writes: the conversation appears without a reload
    simulated = await client.post(
        "/dev/simulate/conversation",
        json={"name": "Maria Souza", "text": "Hi, where is my order?"},
        headers=org.admin.headers,
    )
    assert simulated.status_code == 201, simulated.text
    conversation_id = simulated.json()["data"]["conversation"]["id"]
    await expect(page.get_by_role("link", name="Maria Souza")).to_be_visible()
    await _shot(page, "inbox")
    await page.get_by_role("link", name="Maria Souza").click()
    await page.wait_for_url(f"**/conversations/{conversation_id}")
    await expect(page.locator("#timeline")).to_contain_text("Hi, where is my order?")
    # the contact panel asks the data sources when it is opened (none here: it says so)
    await page.get_by_text("Customer data").click()
    await expect(page.locator(".customer-data")).to_contain_text("No data source is set up")

    # reply through the composer; the reply shows in the timeline
    await page.get_by_label("Reply").fill("It left our warehouse this morning.")
    await page.get_by_role("button", name="Send").click()
    await expect(page.locator("#timeline")).to_contain_text("It left our warehouse this morning.")
    await expect(page.get_by_label("Reply")).to_have_value("")

    # the customer answers: it arrives live in the open conversation
    more = await client.post(
        "/dev/simulate/message",
        json={"conversationId": conversation_id, "text": "Thank you!"},
        headers=org.admin.headers,
    )
    assert more.status_code == 201, more.text
    await expect(page.locator("#timeline")).to_contain_text("Thank you!")

    await page.get_by_role("button", name="Take over").click()
    await expect(page.locator("#conversation-head")).to_contain_text(f"Assigned to {org.admin.user.name}")
    await _shot(page, "conversation")

    # a colleague closes it through the API: the page shows it
    closed = await client.post(f"/conversations/{conversation_id}/resolve", headers=colleague.headers)
    assert closed.status_code == 200, closed.text
    await expect(page.locator("#conversation-head")).to_contain_text("Closed")

    await page.get_by_label("Language").select_option("es")
    await page.get_by_role("button", name="Change language").click()
    await expect(page.get_by_role("button", name="Enviar")).to_be_visible()
    await expect(page.get_by_label("Respuesta")).to_be_visible()

    await page.goto(site_url + "/inbox")
    await page.get_by_label("Idioma").select_option("en")
    await page.get_by_role("button", name="Cambiar idioma").click()
    await expect(page.get_by_role("link", name="Mine")).to_be_visible()
    assert not failures, failures
    await context.close()


async def _simulated(client, admin, name: str, text: str) -> str:
    r = await client.post(
        "/dev/simulate/conversation", json={"name": name, "text": text}, headers=admin.headers
    )
    assert r.status_code == 201, r.text
    return r.json()["data"]["conversation"]["id"]


async def test_a_message_updates_its_one_row_in_place(chromium, site_url, client, runtime, graph, factory):
    """A conversation's event brings that one row (``/inbox/row/{id}``), never the whole list: the
    row moves to the top with its new message and unread marker, and a conversation outside the
    list's filter does not appear."""
    org = await factory.org()
    await connect_number(runtime, graph, org.id)
    colleague = await factory.member(org.id, Role.AGENT)
    older = await _simulated(client, org.admin, "Ana Ruiz", "Do you ship to Puebla?")
    newer = await _simulated(client, org.admin, "Carla Gómez", "Is the store open today?")
    elsewhere = await _simulated(client, org.admin, "Bruno Díaz", "I need an invoice")
    assigned = await client.post(
        f"/conversations/{elsewhere}/assign", json={"userId": colleague.id}, headers=org.admin.headers
    )
    assert assigned.status_code == 200, assigned.text
    context = await chromium.new_context(viewport={"width": 1100, "height": 720}, locale="en-US")
    page = await context.new_page()
    await _sign_in(page, site_url, org.admin.email)
    async with page.expect_response(lambda r: "/inbox/list" in r.url):  # on opening the stream
        await page.goto(site_url + "/inbox?view=unassigned")
    rows = page.locator("#conversation-list li")
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_have_attribute("data-id", newer)
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if "/inbox/" in r.url else None)

    async with page.expect_response(lambda r: f"/inbox/row/{elsewhere}" in r.url):
        await _message(client, org.admin, elsewhere, "Any news on the invoice?")
    async with page.expect_response(lambda r: f"/inbox/row/{older}" in r.url):
        await _message(client, org.admin, older, "Also to Oaxaca?")
    await expect(rows.first).to_have_attribute("data-id", older)
    await expect(rows.first).to_contain_text("Also to Oaxaca?")
    await expect(rows.first).to_have_class("unread")
    await expect(rows).to_have_count(2)
    await expect(page.locator("#conversation-list")).not_to_contain_text("Bruno Díaz")
    assert not [url for url in fetched if "/inbox/list" in url], fetched
    await context.close()


async def _message(client, admin, conversation_id: str, text: str) -> None:
    r = await client.post(
        "/dev/simulate/message", json={"conversationId": conversation_id, "text": text}, headers=admin.headers
    )
    assert r.status_code == 201, r.text


async def test_the_pages_fit_a_phone(chromium, site_url, client, runtime, graph, factory):
    org = await factory.org()
    await connect_number(runtime, graph, org.id)
    simulated = await client.post(
        "/dev/simulate/conversation",
        json={"name": "Lucía Hernández Castillo", "text": "¿Tienen envío a Guadalajara? " * 8},
        headers=org.admin.headers,
    )
    conversation_id = simulated.json()["data"]["conversation"]["id"]
    context = await chromium.new_context(viewport=PHONE, locale="es-MX", is_mobile=True, has_touch=True)
    page = await context.new_page()
    await page.goto(site_url + "/sign-in")
    await expect(page.get_by_role("button", name="Entrar")).to_be_visible()
    await _fits(page)
    await page.get_by_label("Correo electrónico").fill(org.admin.email)
    await page.get_by_label("Contraseña").fill(PASSWORD)
    await page.get_by_role("button", name="Entrar").click()
    await page.wait_for_url("**/inbox")
    await _fits(page)
    await page.get_by_text("¿Tienen envío a Guadalajara?").first.click()
    await page.wait_for_url(f"**/conversations/{conversation_id}")
    await expect(page.get_by_role("button", name="Enviar")).to_be_visible()
    await _fits(page)
    await _shot(page, "phone")
    await page.get_by_role("link", name="Volver a la bandeja").click()
    await expect(page.get_by_role("link", name="Mías")).to_be_visible()
    await page.get_by_role("link", name="Equipo", exact=True).click()
    await expect(page.get_by_role("button", name="Enviar invitación")).to_be_visible()
    await _fits(page)
    await context.close()


async def test_an_admin_runs_the_team_and_the_invitee_joins(
    chromium, site_url, client, runtime, graph, smtp, factory
):
    org = await factory.org(plan=Plan.ENTERPRISE)
    await connect_number(runtime, graph, org.id)
    tag = await client.post("/tags", json={"name": "VIP"}, headers=org.admin.headers)
    assert tag.status_code == 201, tag.text
    admin = await (
        await chromium.new_context(viewport={"width": 1100, "height": 760}, locale="en-US")
    ).new_page()
    failures: list[str] = []
    admin.on("console", lambda m: failures.append(m.text) if "Refused" in m.text else None)
    await _sign_in(admin, site_url, org.admin.email)

    # invite someone; they follow the emailed link, choose a name and a password, and land signed in
    email = unique_email("joiner")
    await admin.get_by_role("link", name="Team", exact=True).click()
    await admin.get_by_label("Email").fill(email)
    await admin.get_by_label("Name").fill("Bo Chen")
    await admin.get_by_role("button", name="Send invitation").click()
    await expect(admin.get_by_role("status")).to_have_text("Invitation sent.")
    await _shot(admin, "team")
    token = await invite_token(smtp, email)
    joiner_context = await chromium.new_context(viewport={"width": 1100, "height": 760}, locale="en-US")
    joiner = await joiner_context.new_page()
    await joiner.goto(f"{site_url}/invite/{token}")
    await joiner.get_by_label("Your name").fill("Bo Chen")
    await joiner.get_by_label("Password").fill(PASSWORD)
    await joiner.get_by_role("button", name="Accept the invitation").click()
    await joiner.wait_for_url("**/inbox")
    await expect(joiner.get_by_text("Signed in as Bo Chen")).to_be_visible()
    # an agent opening an administration page gets a 403 page
    async with joiner.expect_response(lambda r: r.url.endswith("/team")) as answer:
        await joiner.goto(site_url + "/team")
    assert (await answer.value).status == 403
    await expect(joiner.get_by_role("alert")).to_have_text("Your role does not allow this page.")
    # their language is theirs: chosen here, it is there in another browser
    await joiner.get_by_label("Language").select_option("es")
    await joiner.get_by_role("button", name="Change language").click()
    await expect(joiner.get_by_role("link", name="Bandeja")).to_be_visible()
    await joiner_context.close()
    elsewhere_context = await chromium.new_context(locale="en-US")
    elsewhere = await elsewhere_context.new_page()
    await _sign_in(elsewhere, site_url, email)
    await expect(elsewhere.get_by_role("link", name="Mías")).to_be_visible()
    # they come online from the header; the others see it where they assign work
    await elsewhere.get_by_label("Disponibilidad").select_option("ONLINE")
    await elsewhere.get_by_role("button", name="Cambiar", exact=True).click()
    await expect(elsewhere.get_by_label("Disponibilidad")).to_have_value("ONLINE")
    await elsewhere_context.close()

    # a team
    await admin.get_by_role("link", name="Teams", exact=True).click()
    await admin.get_by_label("Name").fill("Returns")
    await admin.get_by_role("button", name="Create team").click()
    await expect(admin.get_by_role("link", name="Returns")).to_be_visible()

    # assign, tag and close a conversation from its page (close with the keyboard: e)
    simulated = await client.post(
        "/dev/simulate/conversation", json={"name": "Maria Souza", "text": "Hola"}, headers=org.admin.headers
    )
    conversation_id = simulated.json()["data"]["conversation"]["id"]
    await admin.goto(f"{site_url}/conversations/{conversation_id}")
    await admin.get_by_text("Assign, tag, follow up").click()
    await admin.get_by_label("Assign to").select_option(label="Bo Chen (Online)")
    await admin.get_by_role("button", name="Assign", exact=True).click()
    await expect(admin.locator("#conversation-head")).to_contain_text("Assigned to Bo Chen")
    await admin.get_by_text("Assign, tag, follow up").click()
    await admin.get_by_label("Add a tag").select_option(label="VIP")
    await admin.get_by_role("button", name="Add", exact=True).click()
    await expect(admin.locator("#conversation-head .tags")).to_contain_text("VIP")
    await _shot(admin, "conversation-tools")
    await _close_with_the_keyboard(admin)
    closed = await client.get(f"/conversations/{conversation_id}", headers=org.admin.headers)
    assert closed.json()["data"]["status"] == "CLOSED"
    assert not failures, failures


async def _close_with_the_keyboard(page: Page) -> None:
    """``?`` opens the shortcuts' help, Escape closes it, ``e`` closes the conversation.

    Each step waits for the condition it needs, never for time: the page's script marks the root
    ``data-shortcuts="ready"`` once its keys listen; a key pressed while a form field has the focus
    is text, so nothing keeps it; the head's refreshes (its own, and the event stream's) have
    settled. ``e`` clicks whichever close button the page holds at that instant: wired by htmx it
    swaps the head, not wired yet it posts the form plainly and the page comes back; either way the
    head ends up saying Closed, which is what the test waits for. A refresh the event stream starts
    between the check and the press can still swap the button away under the key: the press is then
    repeated (a closed conversation has no close button, so a late first press is never doubled)."""
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    await expect(page.locator("html")).to_have_attribute("data-shortcuts", "ready")
    await page.evaluate("document.activeElement && document.activeElement.blur()")
    await page.keyboard.press("?")
    await expect(help_dialog).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(help_dialog).to_be_hidden()
    await expect(
        page.locator("#conversation-head.htmx-request, #conversation-head.htmx-settling")
    ).to_have_count(0)
    status = page.locator("#conversation-head .status")
    for _ in range(KEY_PRESSES):
        await page.evaluate("document.activeElement && document.activeElement.blur()")
        await page.keyboard.press("e")
        try:
            await expect(status).to_have_text("Closed", timeout=PRESS_WAIT_MS)
            return
        except AssertionError:
            continue  # the press landed on a head being swapped by a refresh: its button was gone
    await expect(status).to_have_text("Closed")


#: what htmx reports of a request the browser dropped because the person left the page (a click on
#: a link while a refresh was in flight): not a fault of the page; server errors are caught apart
ABANDONED_REQUEST = ("htmx:sendAbort", "htmx:afterRequest")


def _a_page_error(message: ConsoleMessage) -> bool:
    return message.type == "error" and not message.text.startswith(ABANDONED_REQUEST)


async def test_an_admin_runs_the_business_pages(
    chromium, site_url, client, runtime, graph, factory, tmp_path
):
    """A template sent from a conversation whose window closed, a campaign from a CSV file with its
    progress, the analytics chart (drawn by the vendored uPlot under the page's CSP), billing and the
    bot's prompt versions; each page fits a phone."""
    inbox = await make_inbox(client, runtime, factory, graph)
    await approved(client, runtime, inbox.account.waba_id, inbox.admin)
    conversation_id = await inbox.in_team("Where is my parcel?")
    await set_fields(runtime, conversation_id, last_inbound_at=utcnow() - timedelta(hours=25))
    context = await chromium.new_context(viewport={"width": 1100, "height": 760}, locale="en-US")
    page = await context.new_page()
    failures: list[str] = []
    page.on("console", lambda m: failures.append(m.text) if _a_page_error(m) else None)
    page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    await _sign_in(page, site_url, inbox.admin.email)

    await page.goto(f"{site_url}/conversations/{conversation_id}")
    await expect(page.get_by_label("Reply")).to_be_disabled()
    await page.get_by_text("order_shipped").click()
    await page.get_by_label("Value 1").fill("Ana")
    await page.get_by_label("Value 2").fill("A-1001")
    await _shot(page, "template-picker")
    await page.get_by_role("button", name="Send the template order_shipped").click()
    await expect(page.get_by_role("status")).to_have_text("Template sent.")
    await expect(page.locator("#timeline")).to_contain_text("Hi Ana, your order A-1001 has shipped.")

    recipients = tmp_path / "recipients.csv"
    recipients.write_text(
        "phone,name,value1,value2\n" + "\n".join(f"{p},,Ana,A-{i}" for i, p in enumerate(phones(3)))
    )
    await page.get_by_role("link", name="Campaigns", exact=True).click()
    await page.get_by_label("Name", exact=True).fill("December notice")
    await page.get_by_label("Recipients (CSV file)").set_input_files(str(recipients))
    await page.get_by_label("Values every recipient shares").fill("customer\nA-1")
    await page.get_by_role("button", name="Create campaign").click()
    await expect(page.get_by_role("status")).to_have_text("Campaign created.")
    # the dispatcher sends; the event stream brings the figures to the open page
    await expect(page.locator("#campaign-progress")).to_contain_text("Completed")
    await expect(page.locator("#campaign-progress")).to_contain_text("3 / 3")
    await _shot(page, "campaign")

    await page.get_by_role("link", name="Analytics", exact=True).click()
    await expect(page.locator("[data-chart]")).to_have_attribute("data-chart-ready", "true")
    await expect(page.locator(".chart canvas")).to_have_count(1)
    await _shot(page, "analytics")
    await page.get_by_role("link", name="Billing", exact=True).click()
    await expect(page.get_by_role("cell", name="Agents (seats)")).to_be_visible()
    await _shot(page, "billing")
    assert not failures, failures
    await context.close()

    phone = await (await chromium.new_context(viewport=PHONE, locale="es-MX", is_mobile=True)).new_page()
    await phone.goto(site_url + "/sign-in")
    await phone.get_by_label("Correo electrónico").fill(inbox.admin.email)
    await phone.get_by_label("Contraseña").fill(PASSWORD)
    await phone.get_by_role("button", name="Entrar").click()
    await phone.wait_for_url("**/inbox")
    for path in ("/campaigns", "/analytics", "/billing", "/bot", f"/conversations/{conversation_id}"):
        await phone.goto(site_url + path)
        await expect(phone.locator("main")).to_be_visible()
        await _fits(phone)
    await phone.context.close()
