"""Message templates: one per kind of notice and language, shipped, overridable from a folder.

A template is a text file ``LANG/KIND.txt``: a first line ``Subject: …``, a blank line, the
body.  Values go in as ``$name`` (:class:`string.Template`): a template can only place the
notice's values, never run code.  A folder given in the settings (``templates_dir``) is looked
in first; a language without a template of that kind falls back to English.

>>> subject, body = render("debt", "en", {"contract": "K-1", "debt": "ZAR 12.00"})
>>> subject
'Arrears on contract K-1'
>>> render("debt", "en", {"contract": "K-1"})
Traceback (most recent call last):
...
stsvend.services.notices.templates.TemplateError: the debt template (en) needs a value $debt ...
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from stsvend.errors import StsError
from stsvend.services.notices.model import KINDS

__all__ = ["DEFAULT_LANGUAGE", "TemplateError", "load", "render"]

DEFAULT_LANGUAGE = "en"
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?")


class TemplateError(StsError):
    """A template is missing, malformed or needs a value the notice does not have."""

    code = "config"
    default_message = "a notice template cannot be used"


def _language(text: str) -> str:
    lang = text.strip().lower().replace("_", "-")
    return lang if _LANGUAGE.fullmatch(lang) else DEFAULT_LANGUAGE


def load(kind: str, language: str, folder: Path | None = None) -> tuple[str, str]:
    """The (language, text) of the template for ``kind`` in ``language`` (or its fallback)."""
    if kind not in KINDS:
        raise TemplateError(f"no kind of notice {kind!r} (kinds: {', '.join(KINDS)})")
    lang = _language(language)
    candidates = [lang]
    if "-" in lang:
        candidates.append(lang.split("-")[0])
    candidates.append(DEFAULT_LANGUAGE)
    shipped = resources.files("stsvend.services.notices").joinpath("templates")
    for candidate in candidates:
        if folder is not None:
            path = folder / candidate / f"{kind}.txt"
            if path.is_file():
                try:
                    return candidate, path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    raise TemplateError(f"the template {path} cannot be read: {exc}") from None
        packaged = shipped.joinpath(candidate, f"{kind}.txt")
        if packaged.is_file():
            return candidate, packaged.read_text(encoding="utf-8")
    raise TemplateError(f"no template for {kind}")  # pragma: no cover - English is shipped


def render(
    kind: str, language: str, values: Mapping[str, str], folder: Path | None = None
) -> tuple[str, str]:
    """The (subject, body) of a notice of ``kind`` with ``values`` placed in."""
    lang, text = load(kind, language, folder)
    head, _, body = text.partition("\n\n")
    if not head.startswith("Subject:"):
        raise TemplateError(f"the {kind} template ({lang}) does not start with 'Subject: '")
    try:
        subject = string.Template(head[len("Subject:"):].strip()).substitute(values)
        filled = string.Template(body.strip("\n")).substitute(values)
    except KeyError as exc:
        raise TemplateError(
            f"the {kind} template ({lang}) needs a value ${exc.args[0]} that a {kind} notice "
            "does not have"
        ) from None
    except ValueError as exc:
        raise TemplateError(f"the {kind} template ({lang}) is malformed: {exc}") from None
    # A subject is one line (a value with a line break must not add mail headers).
    return " ".join(subject.split()), filled + "\n"
