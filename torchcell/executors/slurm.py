"""Running a stage on SLURM: an ``sbatch --array`` of shard tasks and an ``afterok`` finalize job.

Job ids and the shards' completion-record paths are written to ``<work_dir>/slurm/jobs.json``;
``status`` reads the scheduler (``scontrol``, which keeps finished jobs for ``MinJobAge``,
300 s by default) and the completion records (which last), so it still knows which shards are
done after the scheduler has forgotten them. Without accounting storage ``sacct`` is not
available, so it is not used.

A failed array task leaves an ``afterok`` job pending forever; ``status`` and ``wait`` notice
the failure, cancel the finalize job and say so. Rerunning the same command
resubmits only the shards without a completion record.
"""

from __future__ import annotations

import json
import re
import shutil
import string
import subprocess
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from torchcell.errors import TorchCellError
from torchcell.executors.stage import Stage
from torchcell.paths import REPO_ROOT

TEMPLATES = REPO_ROOT / "slurm"
JOBS = "jobs.json"
INDEX = "@@SHARD@@"
FAILED = {
    "FAILED",
    "CANCELLED",
    "TIMEOUT",
    "NODE_FAIL",
    "OUT_OF_MEMORY",
    "BOOT_FAIL",
    "DEADLINE",
    "PREEMPTED",
}


@dataclass
class SlurmOptions:
    partition: str = ""
    account: str = ""
    time: str = "02:00:00"
    mem: str = "8G"
    cpus: int = 1
    gpus: int = 0
    max_parallel: int | None = None
    """At most this many array tasks at once (``--array=…%K``)."""


@dataclass
class Submission:
    stage: str
    count: int
    shards: list[int]
    array_job: str | None
    finalize_job: str
    log_dir: str
    done_records: list[str]
    submitted_at: str = field(
        default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds")
    )

    def shard_log(self, index: int) -> Path:
        return Path(self.log_dir) / f"shard-{index}.log"


def template_values(name: str, o: SlurmOptions, log_dir: Path, command: str) -> dict:
    return {
        "stage": name, "partition": o.partition, "account": o.account, "time": o.time, "mem": o.mem,
        "cpus": o.cpus, "gpus": o.gpus, "log_dir": log_dir, "workdir": Path.cwd(), "command": command,
        "tasks": max(o.gpus, 1),  # one task per GPU: Lightning's DDP under srun
    }  # fmt: skip


def render(template: str, values: dict) -> str:
    """Fill a template from ``slurm/``; ``#SBATCH`` lines left without a value are dropped."""
    text = string.Template((TEMPLATES / template).read_text()).substitute(
        {k: str(v) for k, v in values.items()}
    )
    lines = [ln for ln in text.splitlines() if not re.fullmatch(r"#SBATCH --[\w-]+=(0)?\s*", ln)]
    return "\n".join(lines).replace(INDEX, "${SLURM_ARRAY_TASK_ID}") + "\n"


def sbatch(script: Path, *options: str) -> str:
    if shutil.which("sbatch") is None:
        raise TorchCellError(
            "sbatch is not on PATH: use --executor local, or run on a SLURM login node"
        )
    result = subprocess.run(
        ["sbatch", "--parsable", *options, str(script)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise TorchCellError(f"sbatch {script} failed: {result.stderr.strip()}")
    return result.stdout.strip().split(";")[0]


@dataclass
class SlurmExecutor:
    options: SlurmOptions

    def _values(self, stage: Stage, log_dir: Path, command: str) -> dict:
        return template_values(stage.name, self.options, log_dir, command)

    def submit(self, stage: Stage, done_records: list[Path]) -> Submission:
        """Submit the unfinished shards as an array and the finalize step after them."""
        log_dir = Path(stage.work_dir) / "slurm"
        log_dir.mkdir(parents=True, exist_ok=True)
        pending = stage.pending()
        array_job = None
        if pending:
            script = log_dir / "shards.sbatch"
            script.write_text(
                render(
                    "shards.sbatch",
                    self._values(stage, log_dir, stage.command(stage.shard_args, INDEX)),
                )
            )
            array = ",".join(map(str, pending))
            if self.options.max_parallel:
                array += f"%{self.options.max_parallel}"
            array_job = sbatch(script, f"--array={array}")
        script = log_dir / "finalize.sbatch"
        script.write_text(
            render(
                "finalize.sbatch", self._values(stage, log_dir, stage.command(stage.finalize_args))
            )
        )
        finalize_job = sbatch(script, *([f"--dependency=afterok:{array_job}"] if array_job else []))
        submission = Submission(
            stage.name,
            stage.count,
            pending,
            array_job,
            finalize_job,
            str(log_dir),
            [str(p) for p in done_records],
        )
        (log_dir / JOBS).write_text(json.dumps(asdict(submission), indent=2))
        return submission


def read_submission(work_dir: Path) -> Submission:
    path = Path(work_dir) / "slurm" / JOBS
    if not path.exists():
        raise TorchCellError(f"no SLURM submission recorded in {path.parent}")
    return Submission(**json.loads(path.read_text()))


def job_states(job_id: str) -> dict[str, str]:
    """``{array task index or "job": state}`` from scontrol; {} when SLURM no longer knows the job."""
    result = subprocess.run(
        ["scontrol", "-o", "show", "job", job_id], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        return {}
    states = {}
    for line in result.stdout.splitlines():
        fields = dict(re.findall(r"(\w+)=(\S*)", line))
        task = fields.get("ArrayTaskId")
        state = fields.get("JobState", "UNKNOWN")
        if task is None:
            states["job"] = state
        else:
            for part in re.split(r"[,%]", task.strip("[]")):
                if "-" in part:
                    lo, hi = (int(x) for x in part.split("-"))
                    states.update({str(i): state for i in range(lo, hi + 1)})
                elif part.isdigit():
                    states[part] = state
    return states


@dataclass(frozen=True)
class StageStatus:
    shards: dict[int, str]
    """done, pending, running, failed or missing, per shard."""
    finalize: str
    failed_logs: dict[int, Path]
    cancelled_finalize: bool

    @property
    def finished(self) -> bool:
        return self.finalize == "COMPLETED"


def status(submission: Submission, cancel_on_failure: bool = True) -> StageStatus:
    """The stage's state from scontrol and the completion records; cancels a stranded finalize."""
    tasks = job_states(submission.array_job) if submission.array_job else {}
    shards: dict[int, str] = {}
    for index in range(submission.count):
        record_done = Path(submission.done_records[index]).exists()
        state = tasks.get(str(index))
        if record_done:
            shards[index] = "done"
        elif state in ("PENDING", "CONFIGURING"):
            shards[index] = "pending"
        elif state in ("RUNNING", "COMPLETING"):
            shards[index] = "running"
        elif state in FAILED or state == "COMPLETED":
            shards[index] = "failed"  # a task that ended without writing its completion record
        else:
            shards[index] = "missing"
    finalize = job_states(submission.finalize_job).get("job", "GONE")
    failed = {
        i: submission.shard_log(i)
        for i, s in shards.items()
        if s in ("failed", "missing") and i in submission.shards
    }
    cancelled = False
    if failed and finalize in ("PENDING", "CONFIGURING") and cancel_on_failure:
        subprocess.run(["scancel", submission.finalize_job], check=False, capture_output=True)
        cancelled, finalize = True, "CANCELLED"
    return StageStatus(shards, finalize, failed, cancelled)


def wait(
    submission: Submission, poll_s: float = 1.0, timeout_s: float | None = None
) -> StageStatus:
    """Block until the finalize job has completed; raise, naming logs, when anything failed."""
    start = time.monotonic()
    while True:
        state = status(submission)
        if state.failed_logs and state.finalize not in ("RUNNING", "COMPLETING", "COMPLETED"):
            logs = ", ".join(f"shard {i}: {p}" for i, p in sorted(state.failed_logs.items()))
            action = (
                f"cancelled the finalize job {submission.finalize_job}"
                if state.cancelled_finalize
                else "the finalize step did not run"
            )
            raise TorchCellError(
                f"{submission.stage}: {len(state.failed_logs)} shard task(s) failed ({logs}); {action}. "
                "Fix the cause and rerun the same command: only those shards are resubmitted."
            )
        if state.finished:
            return state
        if state.finalize in FAILED or state.finalize == "GONE":
            raise TorchCellError(
                f"{submission.stage}: the finalize job {submission.finalize_job} ended as {state.finalize}; "
                f"log {Path(submission.log_dir) / 'finalize.log'}"
            )
        if timeout_s is not None and time.monotonic() - start > timeout_s:
            raise TorchCellError(
                f"{submission.stage}: still running after {timeout_s:.0f} s; see `tc jobs status`"
            )
        time.sleep(poll_s)


def submit_single(
    template: str, name: str, options: SlurmOptions, log_dir: Path, command: str
) -> str:
    """One job from a template (e.g. ``train.sbatch``); returns its id."""
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    script = log_dir / template
    script.write_text(render(template, template_values(name, options, log_dir, command)))
    return sbatch(script)


def wait_job(job_id: str, log: Path, poll_s: float = 1.0) -> None:
    """Block until a single job ends; raise with its log when it did not complete."""
    while True:
        state = job_states(job_id).get("job", "GONE")
        if state == "COMPLETED":
            return
        if state in FAILED or state == "GONE":
            raise TorchCellError(f"job {job_id} ended as {state}; log {log}")
        time.sleep(poll_s)
