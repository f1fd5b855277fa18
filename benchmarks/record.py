"""Run a benchmark and write what it printed into docs/performance.md, so that no figure on that
page is typed by hand.

    python benchmarks/record.py benchmarks/scaling.py --experiments 200000
    python benchmarks/record.py --log run.txt --commit SHA benchmarks/full_scale.py

The page holds one block per benchmark script, between ``<!-- output of benchmarks/NAME.py -->``
and ``<!-- end of output -->``: the command, the machine (CPU model and count, memory, GPU),
the code version and the date, then the benchmark's standard output verbatim. A run that fails
changes nothing. ``--log`` records the saved standard output of a run of the same command made
at ``--commit`` (for a run too long to repeat), and says so in the block.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

from torchcell.code_version import describe
from torchcell.provenance import machine

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "performance.md"
END = "<!-- end of output -->"


def machine_line() -> str:
    m = machine()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{m['cpu']}, {m['cpus']} CPUs, {memory:.0f} GiB memory, GPU: {m['gpu'] or 'none'}"


def block(command: list[str], output: str, code: str) -> str:
    settings = [f"{k}={os.environ[k]}" for k in ("OMP_NUM_THREADS",) if k in os.environ]
    shown = " ".join([*settings, "python", *command])
    return (
        f"`{shown}` on {machine_line()}; {code}, {date.today().isoformat()}:\n\n"
        f"```text\n{output.rstrip()}\n```\n"
    )


def write(page: Path, script: str, text: str) -> None:
    begin = f"<!-- output of {script} -->"
    content = page.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(begin) + r"\n.*?" + re.escape(END), re.DOTALL)
    if not pattern.search(content):
        sys.exit(f"{page} has no block {begin} … {END}: add the two lines where it belongs")
    page.write_text(pattern.sub(lambda _: f"{begin}\n{text}{END}", content), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, help="the saved standard output of the command")
    parser.add_argument("--commit", help="with --log: the commit the logged run used")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="benchmarks/NAME.py [args]")
    args = parser.parse_args()
    if not args.command or not args.command[0].startswith("benchmarks/"):
        sys.exit("name the benchmark as benchmarks/NAME.py, relative to the repository root")
    if args.log:
        if not args.commit:
            sys.exit("--log needs --commit: the code version the logged run used")
        output, code = (
            args.log.read_text(encoding="utf-8"),
            f"commit {args.commit[:12]} (saved output)",
        )
    else:
        done = subprocess.run(
            [sys.executable, *args.command], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        if done.returncode != 0:
            sys.exit(
                f"{' '.join(args.command)} failed ({done.returncode}); {PAGE.name} is unchanged"
            )
        # changes to the page itself (earlier blocks) do not make the code uncommitted
        output, code = done.stdout, describe(ignore=(str(PAGE.relative_to(ROOT)),))
    sys.stdout.write(output)
    write(PAGE, args.command[0], block(args.command, output, code))
    print(f"wrote the output of {args.command[0]} into {PAGE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
