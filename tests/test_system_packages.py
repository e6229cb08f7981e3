"""`make system-packages`, the first step of `make test`: the tools the suite drives beside
Python (Chromium, pdftotext, zbarimg), and the library WeasyPrint subsets fonts with, are
installed when missing and possible, and otherwise nothing runs and one line names the
command that installs them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ("chromium:chromium pdftotext:poppler-utils zbarimg:zbar-tools "
         "libharfbuzz-subset.so.0:libharfbuzz-subset0")


def bare_path(folder: Path, *tools: str) -> str:
    """A PATH holding the shell and `tools` only: a machine without the other tools, and
    without apt-get or sudo, so nothing can install them whoever runs the step."""
    folder.mkdir()
    for name in ("sh", "id", *tools):
        (folder / name).symlink_to(shutil.which(name))
    return str(folder)


def make(target: str, path: str) -> subprocess.CompletedProcess:
    return subprocess.run([shutil.which("make"), "--no-print-directory", target], cwd=ROOT,
                          env={"PATH": path}, capture_output=True, text=True, timeout=60)


def test_make_test_stops_before_anything_with_the_command_that_installs_what_is_missing(
        tmp_path):
    answer = make("test", bare_path(tmp_path / "bin", "pdftotext"))
    sudo = "" if os.geteuid() == 0 else "sudo "
    said = answer.stderr.splitlines()
    assert said[0] == (f"Missing chromium zbar-tools; install with: {sudo}apt-get update && "
                       f"{sudo}apt-get install -y chromium zbar-tools")
    # What follows is make's own note that the step failed; nothing else ran.
    assert len(said) == 2 and "system-packages" in said[1], said
    assert answer.returncode == 2 and answer.stdout == ""


def test_with_every_tool_there_nothing_is_installed(tmp_path):
    answer = make("system-packages", bare_path(tmp_path / "bin", "chromium", "pdftotext",
                                               "zbarimg"))
    assert (answer.returncode, answer.stdout, answer.stderr) == (0, "", "")


def test_make_test_takes_the_step_first_and_ci_takes_the_same_step():
    # As a shell would run it, also when the suite itself runs under `make test`.
    outside_make = {k: v for k, v in os.environ.items()
                    if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    planned = subprocess.run(["make", "--no-print-directory", "-n", "test"], cwd=ROOT,
                             env=outside_make, capture_output=True, text=True, timeout=60,
                             check=True).stdout.splitlines()
    assert planned[0] == f"sh .ci/system-packages {TOOLS}"
    assert "make system-packages" in (ROOT / ".ci" / "run").read_text().splitlines()
