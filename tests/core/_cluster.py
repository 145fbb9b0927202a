"""A Dask LocalCluster on loopback as the executor tests use it: two single-threaded worker
processes, no dashboard, stopped when the ``with`` block ends."""

from __future__ import annotations

from typing import Any


def local_cluster(distributed: Any) -> Any:
    """``distributed.LocalCluster`` on 127.0.0.1 with 2 one-thread worker processes (a context
    manager; ``distributed`` is the module the test imported with ``importorskip``)."""
    return distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
