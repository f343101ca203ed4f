"""Where the sandbox jobs of ``course grade`` run: a local pool of warm hosts, or a Dask cluster.

An executor takes a job (the JSON text described in ``autograder.grading.sandbox``) and returns a
``concurrent.futures.Future`` of the host's result. Jobs carry the submission's files, so a
worker needs neither the course folder nor the gradebook: only this package and numpy. Judging
and every write stay in the grader's process, so both executors give the same grades.
"""

import concurrent.futures
import queue

from autograder.grading.sandbox import HostFailed, SandboxHost, run_job_here


class LocalProcessPool:
    """``workers`` warm sandbox hosts on this machine, each serving one job at a time.

    Hosts are fresh interpreters started with ``python -m autograder.grading.sandbox`` rather than
    ``multiprocessing`` workers: a spawned worker re-imports the parent's ``__main__`` (the
    ``course`` command, which loads the reference through the case registry) and talks pickle,
    while a host loads only what student code may see and talks JSON.
    """

    def __init__(self, workers):
        self.workers = workers
        self._all_hosts = [SandboxHost().start() for _ in range(workers)]
        self._hosts = queue.SimpleQueue()
        for host in self._all_hosts:
            self._hosts.put(host)
        self._threads = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="sandbox")

    def submit(self, job):
        return self._threads.submit(self._run, job)

    def _run(self, job):
        host = self._hosts.get()
        try:
            return host.run(job)
        finally:
            self._hosts.put(host)

    def close(self):
        """Stop every host, busy ones included: a job in progress ends with HostFailed at once."""
        self._threads.shutdown(wait=False, cancel_futures=True)
        for host in self._all_hosts:
            host.close()


class DaskExecutor:
    """Jobs on an existing Dask distributed cluster: each worker thread keeps its own warm host."""

    def __init__(self, address):
        try:
            from distributed import Client
        except ImportError:
            raise HostFailed("grading on a Dask cluster needs dask.distributed: "
                             "pip install 'attention-course[cluster]'") from None
        self.client = Client(address, set_as_default=False, timeout=30)
        self.workers = max(1, sum(self.client.nthreads().values()))

    def submit(self, job):
        result = concurrent.futures.Future()
        remote = self.client.submit(run_job_here, job, pure=False)

        def relay(done):
            try:
                result.set_result(done.result())
            except Exception as error:  # the worker died or the job raised: that submission fails
                result.set_exception(error if isinstance(error, HostFailed) else HostFailed(f"on the Dask cluster: {error}"))

        remote.add_done_callback(relay)
        result.remote = remote  # keeps the Dask future (and so the task) alive until we have the result
        return result

    def close(self):
        self.client.close()


def open_executor(jobs, scheduler=None):
    """The executor ``course grade`` uses: Dask at ``scheduler`` if given, else ``jobs`` local hosts."""
    return DaskExecutor(scheduler) if scheduler else LocalProcessPool(jobs)
