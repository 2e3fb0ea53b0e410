"""Every page walked as a newcomer would: in Korean and English, on a 1366 × 900 screen and a 390 × 844 phone.

A page fails when it does not answer where it was asked (200; 404 for the error page), when it scrolls
sideways, when axe-core finds a serious or critical accessibility violation, when a Korean page shows
English interface words or raw snake_case keys (or an English page such keys), when a link or button
of the header or of a form is smaller than 44 × 44 px on the phone, or when the language switch is not
on the first screen. Each page is loaded once per language and screen; the checks read what that visit
measured. A visit that found any problem leaves a full-page screenshot under test-output/screenshots/.

Text marked as another language (`lang="en"`, e.g. the language switch or the API's own docs)
is not Korean interface text, and neither is data that is Latin by nature (makes, URLs, e-mails).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe

from servers import DESKTOP, PHONE, SCREENSHOTS, log_in

# name: (path, who is signed in)
PAGES: dict[str, tuple[str, str | None]] = {
    "map": ("/", None),
    "node": ("/nodes/fab-lab-seoul", None),
    "node-edit": ("/nodes/fab-lab-seoul/edit", "host@example.kr"),
    "node-new": ("/nodes/new", "curator@example.kr"),
    "district": ("/districts/11380", None),
    "dashboard": ("/dashboard", None),
    "match": ("/match", None),
    "match-results": ("/match?text=아크릴 레이저 커팅 20개, 을지로 근처", None),
    "sources": ("/about/data", None),
    "docs": ("/docs", None),
    "sign-in": ("/login", None),
    "sign-up": ("/signup", None),
    "account": ("/account", "host@example.kr"),
    "council": ("/admin", "curator@example.kr"),
    "trainings": ("/nodes/fab-lab-seoul/trainings", "host@example.kr"),
    # booking: resource 1 is the node's laser cutter, booking 1 the curator's booking of it (conftest's `site`)
    "resource": ("/resources/1", "curator@example.kr"),
    "resources": ("/nodes/fab-lab-seoul/resources", None),
    "my-bookings": ("/bookings", "curator@example.kr"),
    "cancel-booking": ("/bookings/1/cancel", "curator@example.kr"),
    "resources-manage": ("/nodes/fab-lab-seoul/resources/manage", "host@example.kr"),
    "resource-new": ("/nodes/fab-lab-seoul/resources/new", "host@example.kr"),
    "resource-edit": ("/nodes/fab-lab-seoul/resources/1/edit", "host@example.kr"),
    "resource-hours": ("/nodes/fab-lab-seoul/resources/1/hours", "host@example.kr"),
    "booking-inbox": ("/nodes/fab-lab-seoul/bookings", "host@example.kr"),
    "all-bookings": ("/bookings/all", "curator@example.kr"),
    "resource-calendars": ("/resources/1/calendars", "host@example.kr"),
    "my-calendars": ("/calendars", "curator@example.kr"),
    "free": ("/free", None),
    "free-results": ("/free?kind=focus_booth&where=종로구", None),
    "machines-bookable": ("/nodes/fab-lab-seoul/machines/bookable", "host@example.kr"),
    "notifications": ("/notifications", "host@example.kr"),
    "error": ("/nodes/no-such-place", None),
}
SCREENS = {"desktop": DESKTOP, "phone": PHONE}
LANGUAGES = ("ko", "en")
TOUCH_PX = 44
SERIOUS = {"serious", "critical"}
# Interface words that mean a string escaped translation on a Korean page (whole words, as written).
ENGLISH_WORDS = re.compile(
    r"\b(?:Search|Filters?|Submit|Save|Cancel|Edit|Delete|Name|Type|Status|Results?|Loading|Unknown|Sign (?:in|up|out)"
    r"|Password|Email|Nodes?|Map|Dashboard|Back|Close|Show|Hide|Yes|No|None|null|undefined|NaN|true|false|Invalid)\b"
)
SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
# Pages whose English rightly shows keys: the API's docs name each parameter and field by its key.
KEYS_SHOWN = {"docs"}
# e-mails, URLs and licence names (KOGL Type 1 is the Korea Open Government Licence's own name)
LATIN_DATA = re.compile(r"\S+@\S+|https?://\S+|\bwww\.\S+|\bKOGL[- ]Type[- ]\d")

# The visible text of the page outside anything marked as another language than the page's own.
VISIBLE_TEXT = """() => {
  const own = document.documentElement.lang;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const parts = [];
  while (walker.nextNode()) {
    const parent = walker.currentNode.parentElement;
    if (!parent || parent.closest("script, style, noscript")) continue;
    const marked = parent.closest("[lang]");
    if (marked && marked.lang !== own) continue;
    if (!parent.checkVisibility({ visibilityProperty: true })) continue;
    parts.push(walker.currentNode.textContent);
  }
  return parts.join(" ");
}"""
# Links and buttons of the header and the forms that are shown, with their size.
TARGETS = """() => [...document.querySelectorAll(
    "header.site a, header.site button, main form button, main form input[type=submit], main form a")]
  .filter((element) => element.checkVisibility({ visibilityProperty: true }))
  .map((element) => {
    const box = element.getBoundingClientRect();
    return { text: (element.innerText || element.value || element.outerHTML).trim().slice(0, 40),
             width: Math.round(box.width), height: Math.round(box.height) };
  })"""


@dataclass
class Visit:
    """What one page in one language on one screen showed."""

    status: int = 0
    final_path: str = ""  # where the visit ended: a page that sent the visitor to sign in ends elsewhere
    scroll_width: int = 0
    viewport_width: int = 0
    violations: list[str] = field(default_factory=list)
    foreign_words: list[str] = field(default_factory=list)
    small_targets: list[str] = field(default_factory=list)
    switch_in_view: bool = True  # the language switch is on the first screen, before any scrolling

    def problems(self) -> bool:
        return bool(
            self.scroll_width > self.viewport_width
            or self.violations
            or self.foreign_words
            or self.small_targets
            or not self.switch_in_view
        )


def serious_violations(tab) -> list[str]:
    """axe-core's serious and critical findings on what the page shows now, each with where (up to three)."""
    results = Axe().run(tab).response
    return [
        f"{rule['id']} ({rule['impact']}): {', '.join(str(node['target']) for node in rule['nodes'][:3])}"
        for rule in results["violations"]
        if rule["impact"] in SERIOUS
    ]


def _untranslated(text: str, *patterns: re.Pattern[str]) -> list[str]:
    """Each match of the patterns (English interface words, snake_case keys), with the words around it to find it by."""
    text = " ".join(LATIN_DATA.sub(" ", text).split())
    found = [match for pattern in patterns for match in pattern.finditer(text)]
    return sorted({f"{match[0]} in «{text[max(0, match.start() - 25) : match.end() + 25]}»" for match in found})


@pytest.fixture(scope="module")
def visit(browser, site) -> Iterator[Callable[[str, str, str], Visit]]:  # noqa: F811
    """Load a page once per (page, language, screen), signed in as the page needs, and measure it."""
    sessions: dict[str, dict] = {}
    visits: dict[tuple[str, str, str], Visit] = {}

    def session(email: str) -> dict:
        if email not in sessions:
            context = browser.new_context(base_url=site, locale="ko-KR")
            tab = context.new_page()
            log_in(tab, email)
            sessions[email] = context.storage_state()
            context.close()
        return sessions[email]

    def measure(name: str, language: str, screen: str) -> Visit:
        path, who = PAGES[name]
        context = browser.new_context(
            base_url=site,
            locale="ko-KR",
            viewport=SCREENS[screen],
            storage_state=session(who) if who else None,
        )
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        answer = tab.goto(path + ("&" if "?" in path else "?") + f"lang={language}", wait_until="networkidle")
        if name == "docs":
            tab.wait_for_selector(".opblock")
        found = Visit(
            status=answer.status,
            final_path=urlsplit(tab.url).path,
            scroll_width=tab.evaluate("document.scrollingElement.scrollWidth"),
            viewport_width=tab.evaluate("document.scrollingElement.clientWidth"),
            switch_in_view=tab.locator("#language-switch").is_visible()
            and tab.locator("#language-switch").bounding_box()["y"] < SCREENS[screen]["height"],
        )
        found.violations = serious_violations(tab)
        if language == "ko":
            found.foreign_words = _untranslated(tab.evaluate(VISIBLE_TEXT), ENGLISH_WORDS, SNAKE_CASE)
        elif name not in KEYS_SHOWN:
            found.foreign_words = _untranslated(tab.evaluate(VISIBLE_TEXT), SNAKE_CASE)
        if screen == "phone":
            found.small_targets = [
                f"{target['text']!r} {target['width']}×{target['height']}"
                for target in tab.evaluate(TARGETS)
                if target["width"] < TOUCH_PX or target["height"] < TOUCH_PX
            ]
        if found.problems():
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(SCREENSHOTS / f"walk-{name}-{language}-{screen}.png"), full_page=True)
        context.close()
        return found

    def visited(name: str, language: str, screen: str) -> Visit:
        key = (name, language, screen)
        if key not in visits:
            visits[key] = measure(*key)
        return visits[key]

    yield visited


def _cases(
    languages: tuple[str, ...] = LANGUAGES, screens: tuple[str, ...] = tuple(SCREENS), leaving: Collection[str] = ()
) -> list:
    cases = []
    for name in (name for name in PAGES if name not in leaving):
        for language in languages:
            for screen in screens:
                cases.append(pytest.param(name, language, screen, id=f"{name}-{language}-{screen}"))
    return cases


@pytest.mark.parametrize(("name", "language", "screen"), _cases())
def test_every_page_is_shown_as_asked(visit, name, language, screen):
    """A page that failed, or sent the visitor elsewhere, would pass every other check with the wrong content."""
    seen = visit(name, language, screen)
    path = PAGES[name][0]
    assert (seen.status, seen.final_path) == (404 if name == "error" else 200, urlsplit(path).path)


@pytest.mark.parametrize(("name", "language", "screen"), _cases())
def test_no_page_scrolls_sideways(visit, name, language, screen):
    seen = visit(name, language, screen)
    assert seen.scroll_width <= seen.viewport_width, f"{seen.scroll_width} px wide on a {seen.viewport_width} px screen"


@pytest.mark.parametrize(("name", "language", "screen"), _cases())
def test_the_language_switch_is_on_the_first_screen(visit, name, language, screen):
    assert visit(name, language, screen).switch_in_view


@pytest.mark.parametrize(("name", "language", "screen"), _cases())
def test_no_serious_accessibility_violation(visit, name, language, screen):
    violations = visit(name, language, screen).violations
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize(("name", "language", "screen"), _cases(languages=("ko",)))
def test_korean_pages_show_no_english_interface_words_or_raw_keys(visit, name, language, screen):
    words = visit(name, language, screen).foreign_words
    assert not words, "\n".join(words)


@pytest.mark.parametrize(("name", "language", "screen"), _cases(languages=("en",), leaving=KEYS_SHOWN))
def test_english_pages_show_no_raw_keys(visit, name, language, screen):
    """A label missing for a value (a state such as payment_due, a kind such as focus_booth) shows its key."""
    keys = visit(name, language, screen).foreign_words
    assert not keys, "\n".join(keys)


@pytest.mark.parametrize(("name", "language", "screen"), _cases(screens=("phone",)))
def test_header_and_form_targets_are_big_enough_to_touch(visit, name, language, screen):
    small = visit(name, language, screen).small_targets
    assert not small, "too small to touch:\n" + "\n".join(small)
