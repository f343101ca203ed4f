"""Where the sandbox jobs of ``course grade`` run: sandboxes on this machine, or on a Dask cluster.

An executor takes a job (the dict described in ``autograder.grading.sandbox``) and returns a
``concurrent.futures.Future`` of the sandbox's result. Jobs carry the submission's files, so a
worker needs neither the course folder nor the gradebook: only this package, numpy and
bubblewrap. Judging and every write stay in the grader's process, so both executors give the
same grades. Before any job, every executor checks that a sandbox works where its jobs will run
and refuses (``SandboxUnavailable``, naming the fix) when one does not, unless grading is
explicitly unsandboxed.
"""

import concurrent.futures
import queue

from autograder.grading.sandbox import Sandbox, SandboxFailed, SandboxUnavailable, run_job_here, sandbox_works

#: how long an unreachable Dask scheduler is waited for
SCHEDULER_TIMEOUT = 5


class LocalPool:
    """``workers`` sandboxes on this machine, each running one job at a time."""

    def __init__(self, workers, sandboxed=True):
        works, why = sandbox_works(sandboxed)
        if not works:
            raise SandboxUnavailable(why)
        self.workers = workers
        self._all = [Sandbox(sandboxed) for _ in range(workers)]
        self._idle = queue.SimpleQueue()
        for sandbox in self._all:
            self._idle.put(sandbox)
        self._threads = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="sandbox")

    def submit(self, job):
        return self._threads.submit(self._run, job)

    def _run(self, job):
        sandbox = self._idle.get()
        try:
            return sandbox.run(job)
        finally:
            self._idle.put(sandbox)

    def close(self):
        """Stop every sandbox, busy ones included: a job in progress fails at once."""
        self._threads.shutdown(wait=False, cancel_futures=True)
        for sandbox in self._all:
            sandbox.close()


class DaskExecutor:
    """Jobs on an existing Dask distributed cluster: each worker thread runs its own sandboxes."""

    def __init__(self, address, sandboxed=True):
        try:
            from distributed import Client
        except ImportError:
            raise SandboxFailed("grading on a Dask cluster needs dask.distributed: "
                                "pip install 'attention-course[cluster]'") from None
        try:
            self.client = Client(address, set_as_default=False, timeout=SCHEDULER_TIMEOUT)
        except (OSError, TimeoutError) as error:
            raise SandboxFailed(f"no Dask scheduler answered at {address} within {SCHEDULER_TIMEOUT} s "
                                f"({type(error).__name__})") from None
        self.sandboxed = sandboxed
        checks = self.client.run(sandbox_works, sandboxed)
        broken = {worker: why for worker, (works, why) in checks.items() if not works}
        if broken:
            self.client.close()
            worker, why = next(iter(broken.items()))
            raise SandboxUnavailable(f"{len(broken)} of {len(checks)} Dask workers cannot make a sandbox "
                                     f"(e.g. {worker}: {why})")
        self.workers = max(1, sum(self.client.nthreads().values()))

    def submit(self, job):
        result = concurrent.futures.Future()
        remote = self.client.submit(run_job_here, job, self.sandboxed, pure=False)

        def relay(done):
            try:
                result.set_result(done.result())
            except Exception as error:  # the worker died or the job raised: that submission fails
                result.set_exception(error if isinstance(error, SandboxFailed)
                                     else SandboxFailed(f"on the Dask cluster: {type(error).__name__}: {error}"))

        remote.add_done_callback(relay)
        result.remote = remote  # keeps the Dask future (and so the task) alive until we have the result
        return result

    def close(self):
        self.client.close()


def open_executor(jobs, scheduler=None, sandboxed=True):
    """The executor ``course grade`` uses: Dask at ``scheduler`` if given, else ``jobs`` local sandboxes."""
    return DaskExecutor(scheduler, sandboxed) if scheduler else LocalPool(jobs, sandboxed)
