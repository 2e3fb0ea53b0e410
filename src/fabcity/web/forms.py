"""What every form page shares: its errors, next to their fields and in the page's language, and the
notice shown once after a successful post ("저장되었습니다").

Services say what is wrong in English, naming the field (errors.FieldError); a form shows all of
them at once, each under the field it is about, translated: a message is looked up in the catalog
as it is, then matched against patterns of messages that carry a value ("Input should be greater
than 0"), the capability's own patterns first. A message no catalog knows is not shown in English
on a Korean page: it says the value cannot be used. Text a page already put in Korean stays.

The notice travels in a short-lived cookie from the post to the page its redirect opens
(post/redirect/get); it holds only a key of NOTICES, never text from the request.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from fabcity.web import i18n
from fabcity.web.i18n import mark

NOTICE_COOKIE = "notice"
NOTICES = {
    "saved": mark("Saved."),
    "changed_meanwhile": mark(
        "Changed meanwhile: someone acted on this after you opened the page, so nothing was done. Here is how it"
        " stands now."
    ),
    "refused": mark("This can no longer be done: here is how it stands now."),
}

# (pattern of a message, its text for people): named groups fill the text's %(name)s.
Messages = tuple[tuple[str, str], ...]
_GENERAL: Messages = (
    (r"Input should be a valid number.*|Input should be a finite number", mark("Enter a number.")),
    (r"Input should be a valid integer.*", mark("Enter a whole number.")),
    (r"Input should be greater than (?P<limit>-?[\d.]+)", mark("Enter a number greater than %(limit)s.")),
    (r"Input should be greater than or equal to (?P<limit>-?[\d.]+)", mark("Enter at least %(limit)s.")),
    (r"Input should be less than or equal to (?P<limit>-?[\d.]+)", mark("Enter at most %(limit)s.")),
    (r"String should have at most (?P<limit>\d+) characters?", mark("Write at most %(limit)s characters.")),
    (r"holds a control character.*", mark("Holds a control character, which cannot be stored; remove it.")),
)
_UNKNOWN = mark("This value cannot be used.")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")


@dataclass(frozen=True)
class FormErrors:
    """A form's problems in the page's language: by the field they are about, and the rest (`general`)."""

    by_field: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def of(self, name: str) -> list[str]:
        return self.by_field.get(name, [])

    def __len__(self) -> int:
        return sum(map(len, self.by_field.values())) + len(self.general)


def translated(message: str, language: str, messages: Messages = ()) -> str:
    """A service's message in the page's language."""
    catalog = i18n.translations(language)
    if message and (known := catalog.gettext(message)) != message:
        return known
    for pattern, text in (*messages, *_GENERAL):
        if match := re.fullmatch(pattern, message.strip(), re.S):
            return catalog.gettext(text) % match.groupdict()
    if language == "en" or _HANGUL.search(message):
        return message  # English as services say it, or said in Korean already (a page's own say())
    return catalog.gettext(_UNKNOWN)


def form_errors(
    request: Request, problems: Iterable[tuple[str, str]], fields: Collection[str], messages: Messages = ()
) -> FormErrors:
    """(field, message) pairs as the page shows them: under a field it has, else above the form."""
    language = i18n.language_of(request)
    errors = FormErrors()
    for name, message in problems:
        text = translated(message, language, messages)
        if name in fields:
            errors.by_field.setdefault(name, []).append(text)
        else:
            errors.general.append(text)
    return errors


def redirect_with_notice(request: Request, url: str, notice: str) -> RedirectResponse:
    """See other (303) to `url`, which shows the notice once."""
    response = RedirectResponse(url, status_code=303)
    secure = request.url.scheme == "https"
    response.set_cookie(NOTICE_COOKIE, notice, max_age=120, httponly=True, samesite="lax", path="/", secure=secure)
    return response


def notice_of(request: Request) -> str | None:
    """The notice waiting for this page, in its language; None when there is none."""
    notice = NOTICES.get(request.cookies.get(NOTICE_COOKIE) or "")
    return i18n.translations(i18n.language_of(request)).gettext(notice) if notice else None


def forget_notice(request: Request, response: Response) -> None:
    """A notice is shown once: the page that showed it removes it."""
    if NOTICE_COOKIE in request.cookies:
        response.delete_cookie(NOTICE_COOKIE, path="/")
