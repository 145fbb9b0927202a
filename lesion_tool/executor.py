"""One executor for cohort work: in process, local processes, or a Dask distributed cluster.

``rescore``, ``report``, ``adjudicate`` and ``measure --mask`` hand their per-file work (load,
check, score, measure) to :meth:`Executor.map`, which returns one :class:`Outcome` per item **in
input order**, whatever order the workers finished in. Anything that depends on several files
(grouping readings per patient and reader, cohort endpoints, output order) stays in the parent,
so the output is the same with one process, ``--workers N`` or ``--scheduler tcp://HOST:PORT``.

A :class:`~lesion_tool.errors.LesionToolError` raised by the work on one item is caught where it
runs and comes back as that item's :attr:`Outcome.error` text: one bad file never stops the batch
and never shows a traceback. Anything else is a bug and propagates.

The work function and its arguments must be picklable (a module-level function, or a
:func:`functools.partial` of one): that is what crosses to another process or machine. Workers
of a cluster must have the same ``lesion-tool`` installed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any, Generic, TypeVar

from lesion_tool.errors import LesionToolError

__all__ = [
    "Executor",
    "Outcome",
    "Progress",
    "add_executor_arguments",
    "auto_workers",
    "executor_from_args",
]

T = TypeVar("T")
R = TypeVar("R")

CHUNKS_PER_WORKER = 4
"""Items are sent in chunks, about this many per worker: few round trips, a smooth progress bar."""
MAX_CHUNK = 500
"""At most this many items per chunk (re-scoring: ~0.5 s of work, a 1 MB reply)."""
AUTO_MIN_ITEMS = 2000
"""``--workers auto`` stays in process below this many items: starting workers and sending
results back costs more than it saves on a small batch."""
AUTO_MAX_LOAD_PER_CPU = 1.5
"""``--workers auto`` stays in process above this 1-minute load average per usable core."""


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def auto_workers(n_items: int, limit: int | None = None) -> int:
    """How many local processes ``--workers auto`` uses for ``n_items`` items.

    One for a batch under :data:`AUTO_MIN_ITEMS`, or when the machine is oversubscribed (a
    1-minute load average above :data:`AUTO_MAX_LOAD_PER_CPU` per usable core); otherwise one
    per usable core, at most ``limit``. Measured on two shared cores, 10,000 files: two
    workers took 0.62x the wall time of one process under a load average of 2-3 (1.13x the
    CPU), but 1.0-1.45x under 4.5-5, where they only compete with each other.
    """
    if n_items < AUTO_MIN_ITEMS:
        return 1
    cpus = _cpus()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover - no load average on this platform
        load = 0.0
    if load > AUTO_MAX_LOAD_PER_CPU * cpus:
        return 1
    return max(1, min(cpus, limit if limit is not None else cpus))


class Progress:
    """A one-line progress bar on stderr: drawn when stderr is a terminal, or when forced."""

    def __init__(
        self,
        total: int,
        stream: IO[str] | None = None,
        *,
        label: str = "rescore",
        force: bool = False,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.total = total
        self.label = label
        tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = total > 1 and (force or tty)
        self._last = -1

    def clear(self) -> None:
        """Blank the bar's line so that a message printed next starts on a clean line."""
        if self.enabled and self._last >= 0:
            self.stream.write("\r\x1b[K")
            self._last = -1

    def update(self, done: int) -> None:
        """Redraw for ``done`` of ``total`` items (at most once per percent)."""
        if not self.enabled:
            return
        percent = done * 100 // self.total
        if percent == self._last and done != self.total:
            return
        self._last = percent
        filled = done * 30 // self.total
        bar = "#" * filled + "-" * (30 - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done}/{self.total}")
        if done == self.total:
            self.stream.write("\n")
        self.stream.flush()


@dataclass(frozen=True, slots=True)
class Outcome(Generic[R]):
    """What the work on one item gave: its value, or the text of the user-fixable error."""

    value: R | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the work succeeded."""
        return self.error is None


def _run_chunk(fn: Callable[[Any], Any], chunk: Sequence[Any]) -> list[Outcome]:
    """Run ``fn`` on each item of a chunk where the chunk landed; errors become outcomes."""
    outcomes: list[Outcome] = []
    for item in chunk:
        try:
            outcomes.append(Outcome(value=fn(item)))
        except LesionToolError as err:
            outcomes.append(Outcome(error=str(err)))
    return outcomes


def _chunks(items: Sequence[T], workers: int) -> list[Sequence[T]]:
    size = max(1, min(MAX_CHUNK, -(-len(items) // (workers * CHUNKS_PER_WORKER))))
    return [items[i : i + size] for i in range(0, len(items), size)]


@dataclass(frozen=True, slots=True)
class Executor:
    """Where per-item work runs.

    ``workers`` 1 and no ``scheduler``: in this process (the default). ``workers`` > 1: that
    many local processes. ``scheduler`` (``tcp://HOST:PORT``): the workers of a running Dask
    distributed cluster (``workers`` is then ignored). ``progress``: draw the bar even when
    stderr is not a terminal. ``auto``: ``workers`` is only the most to use; each
    :meth:`map` picks the number with :func:`auto_workers` (outputs are the same whatever it
    picks).
    """

    workers: int = 1
    scheduler: str | None = None
    progress: bool = False
    auto: bool = False

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f'Argument "workers" must be >= 1, got {self.workers}.')

    def describe(self) -> str:
        """Where the work runs, in words."""
        if self.scheduler:
            return f"Dask scheduler {self.scheduler}"
        if self.auto:
            return f"up to {self.workers} local processes (fewer on a busy machine)"
        return "this process" if self.workers == 1 else f"{self.workers} local processes"

    def map(
        self,
        fn: Callable[[T], R],
        items: Iterable[T],
        *,
        label: str = "work",
    ) -> list[Outcome[R]]:
        """``fn`` on every item, one :class:`Outcome` per item in input order.

        Raises
        ------
        LesionToolError
            The scheduler cannot be reached.
        """
        items = list(items)
        progress = Progress(len(items), label=label, force=self.progress)
        if not items:
            return []
        if self.scheduler:
            return self._map_dask(fn, items, progress)
        workers = auto_workers(len(items), self.workers) if self.auto else self.workers
        if workers == 1 or len(items) == 1:
            outcomes: list[Outcome[R]] = []
            for done, item in enumerate(items, start=1):
                outcomes.extend(_run_chunk(fn, [item]))
                progress.update(done)
            return outcomes
        return self._map_processes(fn, items, progress, workers)

    def _map_processes(
        self, fn: Callable[[T], R], items: list[T], progress: Progress, workers: int
    ) -> list[Outcome[R]]:
        import gc
        from concurrent.futures import ProcessPoolExecutor, as_completed

        chunks = _chunks(items, workers)
        results: list[list[Outcome] | None] = [None] * len(chunks)
        done = 0
        # Forked workers share this process's memory copy-on-write; a collection in a worker
        # would touch (so copy) every object inherited. Frozen objects are never scanned.
        gc.freeze()
        try:
            with ProcessPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
                futures = {pool.submit(_run_chunk, fn, chunk): i for i, chunk in enumerate(chunks)}
                for future in as_completed(futures):
                    index = futures[future]
                    results[index] = future.result()
                    done += len(chunks[index])
                    progress.update(done)
        finally:
            gc.unfreeze()
        return [outcome for chunk in results for outcome in chunk or ()]

    def _map_dask(
        self, fn: Callable[[T], R], items: list[T], progress: Progress
    ) -> list[Outcome[R]]:
        try:
            from distributed import Client, as_completed
        except ImportError as err:  # pragma: no cover - a dependency of the package
            raise LesionToolError(
                f"--scheduler {self.scheduler}: Dask distributed is not installed "
                "(pip install 'dask[distributed]')"
            ) from err
        try:
            client = Client(self.scheduler, timeout="5s")
        except (OSError, TimeoutError) as err:
            raise LesionToolError(
                f"--scheduler {self.scheduler}: cannot reach the Dask scheduler ({err}); start "
                "one with 'dask scheduler' and check the address"
            ) from err
        try:
            n_workers = max(1, len(client.scheduler_info().get("workers", {})))
            chunks = _chunks(items, n_workers)
            futures = [
                client.submit(_run_chunk, fn, chunk, pure=False, key=f"lesion-tool-{label_key(i)}")
                for i, chunk in enumerate(chunks)
            ]
            index = {f.key: i for i, f in enumerate(futures)}
            results: list[list[Outcome] | None] = [None] * len(chunks)
            done = 0
            for future in as_completed(futures):
                i = index[future.key]
                results[i] = future.result()
                done += len(chunks[i])
                progress.update(done)
            return [outcome for chunk in results for outcome in chunk or ()]
        finally:
            client.close()


def label_key(index: int) -> str:
    """A key unique to this run for chunk ``index`` (Dask keys must not repeat across runs)."""
    import uuid

    return f"{uuid.uuid4().hex}-{index}"


def positive_int(text: str) -> int:
    """A whole number >= 1 (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not >= 1")
    return value


def workers_count(text: str) -> int | str:
    """``auto`` or a whole number >= 1 (argparse type of ``--workers``)."""
    return "auto" if text.strip().lower() == "auto" else positive_int(text)


def add_executor_arguments(
    parser: argparse.ArgumentParser, *, default_workers: int | str = 1
) -> None:
    """``--workers N|auto``, ``--scheduler tcp://HOST:PORT`` and ``--progress``.

    ``default_workers`` is ``--workers``' default: 1 (in process), or ``"auto"`` for a command
    whose batches are large and whose per-file work is independent (``rescore``).
    """
    group = parser.add_argument_group("where the work runs")
    where = group.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=workers_count,
        default=default_workers,
        metavar="N|auto",
        help=(
            "spread the per-file work over N local processes; 'auto': one per core for "
            f"{AUTO_MIN_ITEMS:,} files or more, unless the load average is above "
            f"{AUTO_MAX_LOAD_PER_CPU:g} per core (then, and for fewer files, in process) "
            f"(default: {default_workers})"
        ),
    )
    where.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        default=None,
        help="run the per-file work on the workers of a Dask distributed cluster",
    )
    group.add_argument(
        "--progress",
        action="store_true",
        help="draw the progress bar on stderr even when it is not a terminal",
    )


def executor_from_args(args: argparse.Namespace) -> Executor:
    """The :class:`Executor` the command line asks for (in process when it asks nothing)."""
    workers = getattr(args, "workers", 1) or 1
    auto = workers == "auto"
    return Executor(
        workers=_cpus() if auto else int(workers),
        scheduler=getattr(args, "scheduler", None),
        progress=bool(getattr(args, "progress", False)),
        auto=auto,
    )
