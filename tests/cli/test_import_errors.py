"""``meters import`` says what is wrong: one error per line of output, each with the line number
an editor shows, and nothing imported."""

from __future__ import annotations

from pathlib import Path

import pytest

from stsvend.services import importing
from tests.cli.conftest import Cli, drn

HEADER = "drn,sgc,krn,ti,key_type,base_date,last_tid\n"


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: old.csv: ")]


def test_thirty_bad_rows_give_thirty_lines(cli: Cli, tmp_path: Path) -> None:
    csv_file = tmp_path / "old.csv"
    bad = [f"{drn(100 + i)[:-1]}{(int(drn(100 + i)[-1]) + 1) % 10},123456,1,1,2,2014,5\n"
           for i in range(30)]  # fmt: skip
    csv_file.write_text(HEADER + "".join(bad))
    before = cli.sql("SELECT count(*) FROM meter")[0][0]
    proc = cli.run("meters", "import", str(csv_file))
    assert proc.returncode == 3
    errors = _errors(proc.stderr)
    assert len(errors) == 30
    assert [e.split(": ")[2] for e in errors] == [f"line {n}" for n in range(2, 32)]
    assert all("check digit" in e for e in errors)
    assert proc.stderr.splitlines()[-1] == "error: 30 row(s) have errors; nothing was imported"
    assert cli.sql("SELECT count(*) FROM meter")[0][0] == before


def test_line_numbers_count_blank_lines_and_quoted_breaks(cli: Cli, tmp_path: Path) -> None:
    csv_file = tmp_path / "old.csv"
    csv_file.write_text(
        HEADER
        + f"{drn(201)},123456,1,1,2,2014,5\n"  # line 2: good
        + "\n"  # line 3: blank
        + f"{drn(202)},123456,1,1,2,2014,x\n"  # line 4: last_tid
        + f'{drn(203)},"123\n456",1,1,2,2014,5\n'  # lines 5-6: a quoted line break in the SGC
        + f"{drn(201)},123456,1,1,2,2014,5\n"  # line 7: twice
        + f"{drn(204)},123456,1,1,2,2014,5,extra\n"  # line 8: one value too many
    )
    proc = cli.run("meters", "import", str(csv_file))
    assert proc.returncode == 3
    errors = _errors(proc.stderr)
    assert [e.split(": ")[2] for e in errors] == ["line 4", "line 6", "line 7", "line 8"]
    assert "last_tid" in errors[0]
    assert f"meter {drn(201)} appears twice (first on line 2)" in errors[2]
    assert "8 values for 7 columns" in errors[3]
    assert proc.stderr.splitlines()[-1] == "error: 4 row(s) have errors; nothing was imported"


def test_a_bad_header_is_one_error(cli: Cli, tmp_path: Path) -> None:
    csv_file = tmp_path / "old.csv"
    csv_file.write_text("drn,colour\n01234567897,red\n")
    proc = cli.run("meters", "import", str(csv_file))
    assert proc.returncode == 3
    assert proc.stderr.splitlines() == [
        "error: the header needs drn, sgc; missing sgc; unknown column(s) colour"
    ]


def test_a_good_file_still_imports(cli: Cli, tmp_path: Path) -> None:
    csv_file = tmp_path / "old.csv"
    csv_file.write_text(HEADER + f"\n{drn(301)},123456,1,1,2,2014,5\n")
    assert cli.json("meters", "import", str(csv_file)) == {"added": 1, "rows": 1, "updated": 0}


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        (HEADER + f"{drn(5)},123456,1,1,2,2014,1\n\n\n{drn(6)},12345678,1,1,2,2014,1\n",
         ["line 5"]),
        (HEADER + f'{drn(5)},123456,1,1,2,2014,"1\n"\n{drn(5)},123456,1,1,2,2014,1\n',
         ["line 4"]),
    ],
)  # fmt: skip
def test_parse_rows_names_the_editor_line(text: str, problems: list[str]) -> None:
    with pytest.raises(importing.ImportError_) as caught:
        importing.parse_rows(text)
    assert [p.split(":")[0] for p in caught.value.problems] == problems
