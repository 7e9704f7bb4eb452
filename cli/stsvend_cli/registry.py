"""Commands of the clerk's, supervisor's and auditor's CLI, loaded lazily by name.

``name -> "module:attribute"``.  Loading on demand keeps ``stsvend token encode --jsonl`` free
of the storage stack's import time.
"""

from __future__ import annotations

__all__ = ["COMMANDS"]

COMMANDS: dict[str, str] = {
    "init": "stsvend_cli.admin_cmds:init",
    "db": "stsvend_cli.admin_cmds:db",
    "keys": "stsvend_cli.key_cmds:keys",
    "operators": "stsvend_cli.admin_cmds:operators",
    "shift": "stsvend_cli.admin_cmds:shift",
    "supply-groups": "stsvend_cli.registry_cmds:supply_groups",
    "meters": "stsvend_cli.registry_cmds:meters",
    "customers": "stsvend_cli.registry_cmds:customers",
    "tariffs": "stsvend_cli.registry_cmds:tariffs",
    "counter": "stsvend_cli.counter:counter",
    "vend": "stsvend_cli.sale_cmds:vend",
    "trial": "stsvend_cli.sale_cmds:trial",
    "reprint": "stsvend_cli.sale_cmds:reprint",
    "reverse": "stsvend_cli.sale_cmds:reverse",
    "emergency": "stsvend_cli.sale_cmds:emergency",
    "free-issue": "stsvend_cli.sale_cmds:free_issue",
    "engineering": "stsvend_cli.sale_cmds:engineering",
    "test-token": "stsvend_cli.sale_cmds:test_token",
    "key-change": "stsvend_cli.keychange_cmds:key_change",
    "log": "stsvend_cli.log_cmds:log",
    "report": "stsvend_cli.log_cmds:report",
    "vendors": "stsvend_cli.vendor_cmds:vendors",
    "terminals": "stsvend_cli.vendor_cmds:terminals",
    "serve": "stsvend_cli.serve_cmd:serve",
    "readings": "stsvend_cli.readings_cmds:readings",
    "adapters": "stsvend_cli.adapter_cmds:adapters",
    "worker": "stsvend_cli.worker_cmd:worker",
    "notices": "stsvend_cli.notice_cmds:notices",
    "workorders": "stsvend_cli.workorder_cmds:workorders",
    "crm": "stsvend_cli.crm_cmds:crm",
    "billing": "stsvend_cli.billing_cmds:billing",
}
