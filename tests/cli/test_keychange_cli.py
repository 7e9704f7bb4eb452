"""``stsvend key-change`` as a user runs it: a group job names the meters it skipped, a second
group job for the same target points to ``catch-up``, an import on the old key revision warns,
the report lists the meters left behind, ``catch-up`` takes them; a 1993 meter is refused with
the rollover command."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Cli, M, drn


def test_a_group_job_names_skipped_meters_and_a_catch_up_takes_the_stragglers(
    cli: Cli, tmp_path: Path
) -> None:
    out = cli.ok("key-change", "group", "123456", "--krn", "2", "--request-id", "g1",
                 role="engineer")  # fmt: skip
    assert f"skipped {M[4]}: an open key change (issued)" in out
    job = cli.json("key-change", "jobs", role="engineer")[0]
    assert job["state"] == "done" and job["by_state"] == {"pending": 5, "skipped": 1}
    assert job["skipped"] == [{"drn": M[4], "reason": "an open key change (issued)"}]
    assert f"stsvend key-change catch-up {job['job']}" in out

    again = cli.run("key-change", "group", "123456", "--krn", "2", "--request-id", "g2",
                    role="engineer")  # fmt: skip
    assert again.returncode == 7
    assert f"stsvend key-change catch-up {job['job']}" in again.stderr

    cli.ok("key-change", "cancel", M[4], "--reason", "meter swapped before it took it",
           role="supervisor")  # fmt: skip
    late = drn(40)
    csv_file = tmp_path / "late.csv"
    csv_file.write_text(f"drn,sgc,krn\n{late},123456,1\n")
    imported = cli.run("meters", "import", str(csv_file))
    assert imported.returncode == 0, imported.stderr
    assert (
        f"warning: line 2: meter {late} is on KRN 1 of supply group 123456, which moved to "
        f"KRN 2 (job {job['job']}): run `stsvend key-change catch-up {job['job']}`"
    ) in imported.stderr
    report = cli.json("key-change", "report", "--sgc", "123456", role="auditor")
    behind = sorted(m["drn"] for m in report["listed"] if "behind_group" in m["statuses"])
    assert behind == sorted([M[4], late])

    caught = cli.json("key-change", "catch-up", str(job["job"]), role="engineer")
    assert caught["catch_up_of"] == job["job"] and caught["state"] == "done"
    assert caught["by_state"] == {"pending": 2} and caught["skipped"] == []
    report = cli.json("key-change", "report", "--sgc", "123456", role="auditor")
    assert not [m for m in report["listed"] if "behind_group" in m["statuses"]]


def test_a_1993_meter_is_refused_with_the_rollover_command(cli: Cli) -> None:
    cli.ok("supply-groups", "add", "123457", "--name", "Old", "--krn", "1", "--base-date", "1993")
    old = drn(41)
    cli.ok("meters", "add", old, "--sgc", "123457")
    cli.ok("customers", "open-account", "--customer", "C-41", "--contract", "K-41", "--meter", old,
           "--tariff", "FLAT")  # fmt: skip
    proc = cli.run("vend", old, "10", role="clerk")
    assert proc.returncode == 3, proc.stderr
    assert "rollover key change required" in proc.stderr
    assert "stsvend key-change group 123457 --rollover" in proc.stderr
    assert f"stsvend key-change meter {old} --rollover" in proc.stderr
