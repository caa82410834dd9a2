"""Progress bars for `skintex.analyze`: tqdm when it is installed, a plain line otherwise.

A bar is shown only where someone watches: in a terminal (stderr is a TTY) or in a Jupyter
notebook; never in a log file or a pipe.
"""

from __future__ import annotations

import sys
from typing import Any, Optional, Protocol


class Bar(Protocol):
    def update(self, done: int, total: int) -> None: ...

    def close(self) -> None: ...


class _NoBar:
    def update(self, done: int, total: int) -> None:
        pass

    def close(self) -> None:
        pass


class _TqdmBar:
    """tqdm's bar (tqdm.auto: a widget in notebooks, text in terminals), made when the total is
    known."""

    def __init__(self, tqdm: Any) -> None:
        self._tqdm = tqdm
        self._bar: Optional[Any] = None

    def update(self, done: int, total: int) -> None:
        if total <= 0:
            return
        if self._bar is None:
            self._bar = self._tqdm(total=total, unit="image", desc="skintex", leave=False)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


class _LineBar:
    """Without tqdm, in a terminal: `skintex 3/40 images` rewritten in place."""

    def __init__(self) -> None:
        self._shown = -1

    def update(self, done: int, total: int) -> None:
        if total > 0 and done != self._shown:
            self._shown = done
            sys.stderr.write(f"\rskintex {done}/{total} images")
            sys.stderr.flush()

    def close(self) -> None:
        if self._shown >= 0:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _in_terminal() -> bool:
    stream = sys.stderr
    return stream is not None and hasattr(stream, "isatty") and stream.isatty()


def progress_bar(wanted: bool) -> Bar:
    """The bar to show while a batch runs: none unless `wanted` and someone watches."""
    notebook = _in_notebook()
    terminal = _in_terminal()
    if not wanted or not (notebook or terminal):
        return _NoBar()
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _LineBar() if terminal else _NoBar()
    return _TqdmBar(tqdm)
