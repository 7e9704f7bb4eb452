"""What the work-order tests share: a local installer's system (a real HTTP server on a free
port, in a thread), work-order XML, and the worker's folders in a configuration file."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.cli.conftest import Cli, drn

NS = "urn:stsvend:workorder:1"
FOLDERS = ("drop", "working", "done", "rejected", "results")


class Receiver:
    """An installer's system: takes POSTs, records each (headers and JSON body); answers
    ``fail`` first requests with 500, or sleeps ``delay`` seconds before answering."""

    def __init__(self, *, fail: int = 0, delay: float = 0.0) -> None:
        self.fail, self.delay = fail, delay
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.calls = 0
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer._lock:
                    outer.calls += 1
                    failing = outer.calls <= outer.fail
                if outer.delay:
                    time.sleep(outer.delay)
                if failing:
                    self.send_response(500)
                    self.end_headers()
                    return
                with outer._lock:
                    outer.received.append((self.headers["X-Stsvend-Message-Id"],
                                           json.loads(body)))  # fmt: skip
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/orders"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def ids(self) -> list[str]:
        return [message_id for message_id, _ in self.received]


def order_xml(order_id: str, kind: str = "installation", *, meter: str | None = None,
              model: str = "LG-E470", old: str | None = None, sgc: str = "123456",
              day: str = "2026-12-10", contract: str | None = None) -> str:  # fmt: skip
    parts = [f"<orderId>{order_id}</orderId>", f"<type>{kind}</type>"]
    if meter is not None:
        parts.append(f"<meter><number>{meter}</number><model>{model}</model>"
                     f"<supplyGroup>{sgc}</supplyGroup></meter>")  # fmt: skip
    if old is not None:
        parts.append(f"<oldMeter>{old}</oldMeter>")
    if contract is not None:
        parts.append(f"<contract>{contract}</contract>")
    parts.append(f"<plannedDate>{day}</plannedDate>")
    return "".join(parts)


def single(order_id: str, kind: str = "installation", **kw: Any) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<workOrder xmlns="{NS}">'
            f"{order_xml(order_id, kind, **kw)}</workOrder>\n")  # fmt: skip


def bulk(bulk_id: str, orders: list[str]) -> str:
    inner = "".join(f"<workOrder>{o}</workOrder>" for o in orders)
    return (f'<?xml version="1.0"?>\n<workOrders xmlns="{NS}" bulkId="{bulk_id}">{inner}'
            "</workOrders>\n")


def new_meter(n: int) -> str:
    """A meter number no base installation has (M1-M7 are 1-7)."""
    return drn(100 + n)


def configure(cli: Cli, root: Path, **extra: Any) -> dict[str, Path]:
    """Write the worker's folders (and ``extra`` settings) into the installation's config
    file; the folders by name."""
    folders = {name: root / name for name in FOLDERS}
    timeout = extra.pop("http_timeout", None)
    lines = ["[adapters.worker.workorders]"]
    lines += [f'{name} = "{path}"' for name, path in folders.items()]
    lines += [f"{key} = {json.dumps(value)}" for key, value in extra.items()]
    if timeout is not None:
        lines += ["", "[adapters.workorder.http-json]", f"timeout_seconds = {timeout}"]
    (cli.data_dir / "config.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for path in folders.values():
        path.mkdir(parents=True, exist_ok=True)
    return folders


def drop(folders: dict[str, Path], name: str, text: str) -> Path:
    """Write a file into the drop folder as an SFTP client would: another name, then renamed."""
    tmp = folders["drop"] / (name + ".part")
    tmp.write_text(text, encoding="utf-8")
    target = folders["drop"] / name
    tmp.rename(target)
    return target
