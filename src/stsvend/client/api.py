"""The sale-point client: a terminal's calls to ``stsvend serve`` (docs/client.md).

Every call follows the outcome rules of :mod:`stsvend.client.outcome` within one time budget
(5 s by default, end to end).  A purchase answered unknown (500, 502, 503, 504, a timeout, a
broken connection) is sent again under the same purchase id — the server sells at most once
per id — and then asked for (``GET /v1/purchases/{id}``): found, it is the answer; not found,
the same purchase is sent once more if time is left (a purchase still running on the server
is not found until it commits, so a 404 alone does not prove that nothing was sold); still
unknown, :class:`~stsvend.client.errors.OutcomeUnknown` says which id to ask about later.
Only when no attempt ever reached the server (every connection refused) is the purchase known
not to be made: :class:`~stsvend.client.errors.ServerUnavailable`.

Confirmation and reversal advices go through the outbox (:mod:`stsvend.client.outbox`): kept
on disk before they are sent, sent again after every later call that reached the server and
by :meth:`SalePointClient.flush_advices`, until the server accepts or refuses them for good.
A 401 is the exception: it says the client's key (or person's session) is wrong, not the
advice, so the advice waits for a client with a valid key.

A person selling at the terminal logs in (:meth:`SalePointClient.login`, with their PIN): the
calls after it carry the session (``X-Stsvend-Session``) and act as that person, until
:meth:`SalePointClient.logout`.
"""

from __future__ import annotations

import logging
import re
import secrets
import ssl
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx
from attrs import frozen

from stsvend.client.answers import Advice, AnswerError, Purchase
from stsvend.client.errors import OutcomeUnknown, ServerRefused, ServerUnavailable
from stsvend.client.outbox import ADVICES, Outbox, OutboxEntry
from stsvend.client.outcome import RetryPolicy, Verdict, classify
from stsvend.client.tls import describe as _say
from stsvend.client.tls import tls_context as _tls
from stsvend.config import ConfigError
from stsvend.errors import InputError

__all__ = ["KEY_PATTERN", "PURCHASE_ID_PATTERN", "SESSION_HEADER", "SalePointClient",
           "new_purchase_id"]  # fmt: skip

#: A terminal key's form (``stsvend terminals add`` prints one).
KEY_PATTERN = re.compile(r"stv_[0-9a-f]{12}_[0-9a-f]{32}")
#: A purchase id's form: what the server accepts.
PURCHASE_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
#: The header that carries a person's session (:meth:`SalePointClient.login`).
SESSION_HEADER = "X-Stsvend-Session"
#: Seconds an automatic resending of advices may take after a call.
_FLUSH_BOX = 1.0
_LOG = logging.getLogger("stsvend.client")
T = TypeVar("T")


def new_purchase_id() -> str:
    """A fresh purchase id: 128 random bits, so two terminals never pick the same.

    >>> len(new_purchase_id()), new_purchase_id() != new_purchase_id()
    (34, True)
    """
    return "p-" + secrets.token_hex(16)


@frozen
class _Reply:
    """The last verdict of a request, its response if one came, and whether any attempt may
    have reached the server."""

    verdict: Verdict
    response: httpx.Response | None
    sent: bool
    note: str


class SalePointClient:
    """A client of the sale-point API for one terminal.

    ``key`` is the terminal's key (``stv_…``; never logged).  ``timeout`` bounds each attempt,
    ``budget`` a whole call.  ``verify`` checks the server's certificate: True (the CAs httpx
    trusts, certifi's), a CA file's path, an :class:`ssl.SSLContext`, or False (tests only);
    ``cert`` is the client certificate for mutual TLS, a PEM path or a (certificate, key) pair.
    ``outbox`` is the SQLite file of the advices (None: kept in memory, lost with the process).
    ``clock`` and ``sleep`` are for tests.
    """

    def __init__(self, base_url: str, key: str, *, timeout: float = 2.0, budget: float = 5.0,
                 verify: bool | str | ssl.SSLContext = True,
                 cert: str | tuple[str, str] | None = None, outbox: str | Path | None = None,
                 max_attempts: int = 3, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:  # fmt: skip
        if not KEY_PATTERN.fullmatch(key.strip()):
            raise ConfigError("the terminal key is not of the form stv_<12 hex>_<32 hex>")
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"the server's address is http:// or https://, not {base_url!r}")
        self.timeout = timeout
        self.policy = RetryPolicy(max_attempts=max_attempts, budget=budget,
                                  reserve=min(1.0, budget / 4))  # fmt: skip
        self._clock = clock
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), verify=_tls(verify, cert), timeout=timeout,
            headers={"Authorization": f"Bearer {key.strip()}", "Accept": "application/json"},
        )  # fmt: skip
        self.outbox = Outbox(outbox)

    def close(self) -> None:
        self._http.close()
        self.outbox.close()

    def __enter__(self) -> SalePointClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- a person's session ----------------------------------------------------------------

    def login(self, username: str, pin: str, *, new_pin: str | None = None) -> dict[str, Any]:
        """Log a person in at this terminal: the calls after it act as them, until
        :meth:`logout` (docs/client.md).  The PIN is sent once and kept nowhere, the session's
        token only in this client.  The answer: ``operator``, ``role``, ``expires_at``,
        ``idle_timeout_seconds``; a refusal is ``ServerRefused`` (``permission``: wrong PIN or
        locked; ``pin_change_required``: log in again with ``new_pin``)."""
        self._http.headers.pop(SESSION_HEADER, None)
        body = {"username": username, "pin": pin, **({"new_pin": new_pin} if new_pin else {})}
        doc = self._read("POST", "/v1/sessions", body, _doc)
        token = doc.pop("session", None)
        if not isinstance(token, str) or not token.isascii() or not token.isprintable():
            raise ServerUnavailable("the server's login answer holds no session")
        self._http.headers[SESSION_HEADER] = token
        return doc

    def logout(self) -> None:
        """End the person's session: the calls after it are the terminal's own.  A session that
        is over already, or a server that does not answer (the session then times out), is no
        error."""
        if SESSION_HEADER not in self._http.headers:
            return
        try:
            reply = self._send("DELETE", "/v1/sessions/current", None,
                               self._clock() + self.policy.budget)  # fmt: skip
        finally:
            self._http.headers.pop(SESSION_HEADER, None)
        if reply.verdict.kind == "refused" and reply.response is not None:
            refusal = _refusal(reply.response)
            if refusal.code != "session_expired":
                raise refusal

    # -- operations ------------------------------------------------------------------------

    def purchase(self, meter: str, amount: str | Decimal | int, tender: str = "cash",
                 purchase_id: str | None = None) -> Purchase:  # fmt: skip
        """Buy credit for ``amount`` (major units, "50.00") on ``meter``.  Without
        ``purchase_id`` the client makes one; give the same one again to ask again."""
        pid = new_purchase_id() if purchase_id is None else _purchase_id(purchase_id)
        body = {"purchase_id": pid, "meter": meter, "amount": _amount(amount), "tender": tender}
        deadline = self._clock() + self.policy.budget
        reply = self._send("POST", "/v1/purchases", body, deadline, keep=self.policy.reserve)
        answer = self._settled(reply, Purchase.from_doc)
        if answer is not None:
            return answer
        if not reply.sent:
            raise _unavailable(reply, "nothing was sold")
        _LOG.info("purchase %s: outcome unknown (%s); asking the server", pid, reply.note)
        asked = self._send("GET", f"/v1/purchases/{pid}", None, deadline)
        if asked.verdict.kind == "done":
            found = self._settled(asked, Purchase.from_doc)
            if found is not None:
                return found
        elif asked.verdict.status == 404:
            again = self._send("POST", "/v1/purchases", body, deadline, attempts=1)
            answer = self._settled(again, Purchase.from_doc)
            if answer is not None:
                return answer
        elif asked.verdict.kind == "refused":
            self._settled(asked, Purchase.from_doc)  # raises the refusal (401, 403 …)
        raise OutcomeUnknown(pid)

    def fetch(self, purchase_id: str) -> Purchase:
        """The purchase the server recorded under ``purchase_id`` (404 ``not_found``: it has
        none, or none yet)."""
        return self._read("GET", f"/v1/purchases/{_purchase_id(purchase_id)}", None,
                          Purchase.from_doc)  # fmt: skip

    def trial(self, meter: str, amount: str | Decimal | int) -> dict[str, Any]:
        """The figures a purchase would give (nothing sold): the server's trial document."""
        return self._read("POST", "/v1/trial", {"meter": meter, "amount": _amount(amount)}, _doc)

    def lookup(self, meter: str) -> dict[str, Any]:
        """Whether ``meter`` can be sold to, and its limits: the server's lookup document."""
        return self._read("GET", f"/v1/meters/{_segment(meter, 'meter')}", None, _doc)

    def vendor(self) -> dict[str, Any]:
        """The terminal's vendor and its float: the server's vendor document."""
        return self._read("GET", "/v1/vendor", None, _doc)

    def reprint(self, number: int | None = None) -> Purchase:
        """A copy of receipt ``number`` (None: the terminal's last), marked COPY."""
        path = "/v1/receipts/last" if number is None else f"/v1/receipts/{int(number)}"
        return self._read("GET", path, None, Purchase.from_doc)

    def confirm(self, purchase_id: str) -> Advice:
        """Tell the server the purchase's tokens reached the customer (a confirmation advice,
        kept in the outbox until the server answers for good)."""
        return self._advise(_purchase_id(purchase_id), "confirmation", {})

    def reverse(self, purchase_id: str, reason: str) -> Advice:
        """Ask the server to reverse the purchase (a reversal advice, kept in the outbox until
        the server answers for good); the answer names the refund."""
        return self._advise(_purchase_id(purchase_id), "reversal", {"reason": reason})

    def flush_advices(self, limit: int | None = None) -> list[Advice]:
        """Send the advices still pending, oldest first, once each; stop at the first that gets
        no final answer (the server is not answering).  What became of each one sent."""
        return self._flush(limit, None)

    def advices(self) -> list[OutboxEntry]:
        """Every advice in the outbox, oldest first, with its state."""
        return self.outbox.entries()

    # -- the outcome rules -----------------------------------------------------------------

    def _attempt(self, method: str, path: str, body: Any, timeout: float,
                 ) -> tuple[Verdict, httpx.Response | None, str]:  # fmt: skip
        try:
            response = self._http.request(method, path, json=body, timeout=timeout)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # No connection, so no request: the server cannot have done anything.
            return Verdict("unknown", sent=False), None, _say(exc)
        except httpx.UnsupportedProtocol:
            raise ConfigError("the server's address is http:// or https://") from None
        except httpx.TransportError as exc:  # timeouts, resets: it may have been done
            return Verdict("unknown"), None, _say(exc)
        verdict = classify(response.status_code, response.headers.get("retry-after"))
        return verdict, response, f"HTTP {response.status_code}"

    def _send(self, method: str, path: str, body: Any, deadline: float, *, keep: float = 0.0,
              attempts: int | None = None) -> _Reply:  # fmt: skip
        """Send until a final answer, ``attempts`` (default the policy's) or the deadline less
        ``keep`` seconds; the last reply."""
        most = self.policy.max_attempts if attempts is None else attempts
        sent, tries = False, 0
        verdict, response, note = Verdict("unknown", sent=False), None, "no time left"
        while tries < most:
            left = deadline - keep - self._clock()
            if left <= 0:
                break
            tries += 1
            verdict, response, note = self._attempt(method, path, body, min(self.timeout, left))
            if verdict.kind in ("done", "refused"):
                return _Reply(verdict, response, True, note)
            sent = sent or (verdict.kind == "unknown" and verdict.sent)
            wait = self.policy.backoff(tries) if verdict.wait is None else verdict.wait
            if tries >= most or self._clock() + wait >= deadline - keep:
                break
            _LOG.info("%s %s: %s; again in %.2f s", method, path, note, wait)
            self._sleep(wait)
        return _Reply(verdict, response, sent, note)

    def _settled(self, reply: _Reply, read: Callable[[Any], T]) -> T | None:
        """The answer of a final reply (raising a refusal); None if the reply is not final or
        its body cannot be read (then the outcome is unknown)."""
        if reply.response is None or reply.verdict.kind not in ("done", "refused"):
            return None
        if reply.verdict.kind == "refused":
            raise _refusal(reply.response)
        try:
            answer = read(reply.response.json())
        except (ValueError, AnswerError):
            _LOG.warning("%s: a %d answer that is not the document expected",
                         reply.response.request.url.path, reply.response.status_code)  # fmt: skip
            return None
        self._flush(None, _FLUSH_BOX)
        return answer

    def _read(self, method: str, path: str, body: Any, read: Callable[[Any], T]) -> T:
        """A call that changes nothing on the server: tried again freely."""
        reply = self._send(method, path, body, self._clock() + self.policy.budget)
        answer = self._settled(reply, read)
        if answer is None:
            raise _unavailable(reply, "nothing was changed")
        return answer

    def _advise(self, purchase_id: str, advice: str, body: dict[str, Any]) -> Advice:
        entry_id = self.outbox.add(purchase_id, advice, body)
        entry = self.outbox.entry(entry_id)
        if entry.state != "pending":
            return _advice_of(entry)
        return self._deliver(entry, self._clock() + self.policy.budget, None)

    def _deliver(self, entry: OutboxEntry, deadline: float, attempts: int | None) -> Advice:
        path = f"/v1/purchases/{entry.purchase_id}/{ADVICES[entry.advice]}"
        self.outbox.sent(entry.id)
        reply = self._send("POST", path, entry.body, deadline, attempts=attempts)
        response = reply.response
        if response is None or reply.verdict.kind not in ("done", "refused"):
            return Advice(entry.purchase_id, entry.advice, "pending")
        if reply.verdict.kind == "refused":
            refusal = _refusal(response)
            if refusal.status != 401:
                self.outbox.settle(entry.id, "failed", code=refusal.code, status=refusal.status,
                                   answer=refusal.problem)  # fmt: skip
            raise refusal
        try:
            advice = Advice.from_doc(entry.purchase_id, entry.advice, response.json())
        except (ValueError, AnswerError):
            return Advice(entry.purchase_id, entry.advice, "pending")
        self.outbox.settle(entry.id, "done", answer=advice.raw)
        if attempts is None:
            self._flush(None, _FLUSH_BOX)
        return advice

    def _flush(self, limit: int | None, box: float | None) -> list[Advice]:
        """Send pending advices once each (within ``box`` seconds if given); never raises a
        refusal: it is recorded in the outbox."""
        start = self._clock()
        done: list[Advice] = []
        for entry in self.outbox.pending(limit):
            deadline = self._clock() + self.timeout if box is None else start + box
            try:
                advice = self._deliver(entry, deadline, 1)
            except ServerRefused as refusal:
                advice = Advice(entry.purchase_id, entry.advice,
                                "pending" if refusal.status == 401 else "failed",
                                code=refusal.code, raw=refusal.problem)  # fmt: skip
            done.append(advice)
            if advice.state == "pending":
                break  # no answer, or a key it refuses: the rest waits for the next call
        return done


def _purchase_id(value: str) -> str:
    if not isinstance(value, str) or not PURCHASE_ID_PATTERN.fullmatch(value):
        raise InputError("a purchase id is 1 to 64 letters, digits or . _ : -")
    return value


def _segment(value: str, what: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", value):
        raise InputError(f"a {what} number is letters and digits")
    return value


def _amount(value: str | Decimal | int) -> str:
    # A float would carry its binary rounding into money.
    if isinstance(value, bool) or not isinstance(value, (str, Decimal, int)):
        raise InputError("an amount is text (\"50.00\"), a Decimal or a whole number")
    return str(value)


def _doc(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise AnswerError("the answer is a JSON object")
    return doc


def _advice_of(entry: OutboxEntry) -> Advice:
    answer = entry.answer or {}
    state = entry.state if entry.state != "done" else str(answer.get("state", "done"))
    return Advice(entry.purchase_id, entry.advice, state, answer.get("refund"),
                  answer.get("float_left"), entry.code, raw=answer)  # fmt: skip


def _refusal(response: httpx.Response) -> ServerRefused:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        detail = str(body.get("detail") or body.get("title") or "")
        return ServerRefused(body["code"], response.status_code, detail, body)
    return ServerRefused("refused", response.status_code, f"HTTP {response.status_code}")


def _unavailable(reply: _Reply, what: Literal["nothing was sold", "nothing was changed"],
                 ) -> ServerUnavailable:  # fmt: skip
    if reply.verdict.kind == "busy":
        wait = reply.verdict.wait
        later = "later" if wait is None else f"in {wait:.0f} s"
        return ServerUnavailable(f"the server is busy ({what}): try again {later}")
    return ServerUnavailable(f"the sale-point server did not answer ({reply.note}); {what}")
