"""One headless Chromium per process, started on first use and reused by every PDF after.

Playwright's synchronous objects belong to the thread that made them, while reports render
on whatever thread asks (the command line's, a web job's worker, a render process of the
pool).  So the browser lives on its own thread, and callers hand it work through a queue:
``BROWSER.call(fn)`` runs ``fn(browser)`` there and returns its result or raises its error.

Starting Chromium costs about a second and a half, so it is started once per process and
closed when the process ends: at interpreter exit, and at the end of a process of the
render pool (those leave through ``multiprocessing``'s finalizers, not ``atexit``).  A
browser that has died (killed, crashed) is started again on the next call.  Nothing is
ever downloaded: the executable is the system's Chromium, found as described in
``chromium_executable``.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing.util
import os
import queue
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from reportgen.errors import InputError, OptionalDependencyError, RenderError, ReportgenError

if TYPE_CHECKING:
    from playwright.sync_api import Browser

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: The environment variable naming the Chromium executable (else it is looked up on PATH).
EXECUTABLE_VARIABLE = "REPORTGEN_CHROMIUM"
#: Names the system browser goes by, tried in order on PATH.
EXECUTABLE_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: CSS page-margin boxes (running headers, page numbers) print from this version on.
MIN_MAJOR_VERSION = 131


class BrowserMissingError(RenderError, InputError):
    """The definition asks for the Chromium engine and this machine has no usable
    Chromium: something to install or configure, so exit code 2."""

    def __init__(self, problem: str):
        super().__init__(
            f"outputs: format pdf with engine: chromium: {problem}. Install Chromium "
            f"(Debian/Ubuntu: apt-get install chromium), or name its executable in the "
            f"{EXECUTABLE_VARIABLE} environment variable, or use engine: weasyprint")


def chromium_executable() -> Path:
    """The Chromium to drive: ``$REPORTGEN_CHROMIUM`` if set, else the first of
    ``EXECUTABLE_NAMES`` on PATH.  Raises BrowserMissingError naming what was tried."""
    named = os.environ.get(EXECUTABLE_VARIABLE, "").strip()
    if named:
        path = Path(named)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise BrowserMissingError(f"{EXECUTABLE_VARIABLE}={named} is not an executable file")
        return path
    for name in EXECUTABLE_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise BrowserMissingError(f"no Chromium found on PATH (looked for {', '.join(EXECUTABLE_NAMES)})")


def launch_arguments() -> list[str]:
    # Chromium's sandbox refuses to run as root; containers and CI often run as root.
    return ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []


_STOP = object()


def _nothing(browser: Browser) -> None:
    """Work that only needs the browser started."""


class BrowserThread:
    """A thread that owns one Playwright and one Chromium, and runs calls on them in turn."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def call(self, work: Callable[[Browser], T]) -> T:
        """``work(browser)`` on the browser's thread; its result, or its error raised here."""
        return self.submit(work).result()

    def submit(self, work: Callable[[Browser], T]) -> Future[T]:
        """``work(browser)`` handed to the browser's thread; its future, to wait on."""
        done: Future[T] = Future()
        with self._lock:
            self._ensure_thread()
            self._queue.put((work, done))
        return done

    def start(self) -> None:
        """Start the browser now, without waiting for it (a start that fails is reported by
        the next ``call``)."""
        try:
            with self._lock:
                self._ensure_thread()
                self._queue.put((_nothing, Future()))
        except ReportgenError:
            pass  # reported, with the same message, by the call that needs the browser

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
            self._start()

    def close(self) -> None:
        """Close the browser and stop the thread (a later ``call`` starts them again)."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None or not thread.is_alive() or self._pid != os.getpid():
                return
            self._queue.put(_STOP)
        thread.join(timeout=30)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _start(self) -> None:
        executable = chromium_executable()  # a missing browser is reported on the caller's thread
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError as exc:
            raise OptionalDependencyError("the Chromium PDF engine", "chromium",
                                          exc.name or "playwright") from None
        self._queue = queue.SimpleQueue()
        self._pid = os.getpid()
        # a daemon thread: it never holds up the interpreter's exit; close() ends it cleanly
        self._thread = threading.Thread(target=self._serve, args=(executable, self._queue),
                                        name="reportgen-chromium", daemon=True)
        self._thread.start()

    def _serve(self, executable: Path, requests: queue.SimpleQueue[Any]) -> None:
        from playwright.sync_api import Error, sync_playwright

        try:
            playwright = sync_playwright().start()
        except Exception as exc:  # Playwright's own driver: every call fails, none waits
            failure = RenderError(f"the Chromium PDF engine could not start Playwright: {exc}")
            while (request := requests.get()) is not _STOP:
                request[1].set_exception(failure)
            return
        browser: Browser | None = None
        try:
            while True:
                request = requests.get()
                if request is _STOP:
                    return
                work, done = request
                if not done.set_running_or_notify_cancel():
                    continue
                try:
                    if browser is None or not browser.is_connected():
                        browser = _launch(playwright, executable, Error)
                    done.set_result(work(browser))
                except BaseException as exc:  # the caller's error, raised on its thread
                    done.set_exception(exc)
        finally:
            try:
                if browser is not None and browser.is_connected():
                    browser.close()
            finally:
                playwright.stop()


def _launch(playwright: Any, executable: Path, error: type[Exception]) -> Browser:
    try:
        browser: Browser = playwright.chromium.launch(executable_path=str(executable),
                                                      args=launch_arguments())
    except error as exc:
        raise BrowserMissingError(f"{executable} did not start: "
                                  f"{str(exc).splitlines()[0]}") from None
    major = int(browser.version.split(".")[0])
    if major < MIN_MAJOR_VERSION:
        browser.close()
        raise BrowserMissingError(f"{executable} is Chromium {browser.version}; page headers "
                                  f"and numbers need version {MIN_MAJOR_VERSION} or later")
    logger.info("started Chromium %s (%s) for PDF rendering", browser.version, executable)
    return browser


#: This process's browser.
BROWSER = BrowserThread()

# Ends the browser with the process: atexit for ordinary exits, and a multiprocessing
# finalizer for the pool's processes, which leave through os._exit after running those.
atexit.register(BROWSER.close)
multiprocessing.util.Finalize(None, BROWSER.close, exitpriority=100)
