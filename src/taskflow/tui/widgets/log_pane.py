"""The log pane: a run's stdout and stderr, buffered and flushed in batches.

Lines arrive in bursts (10,000 a second from a chatty task). They go into a buffer, and on
the app's frames (``FrameDue``, ~12 Hz) the screen writes them with one ``Log.write_lines``
call — about 50× cheaper than a write per line — right after the frame's run events, so one
frame is painted per tick, not one per source. A streaming log is written at most
``WRITES_PER_SECOND`` times a second (the first lines after a quiet spell at once): every
write repaints the whole pane, and over SSH each repaint is a screenful of bytes. The pane
has no scrollbars for the same reason: a thumb that moves with every write repaints its
column and row cell by cell (the title says follow or paused instead). The pane keeps its own
copy of every line (stream + text) so stream filtering, wrapping and search re-render from
data instead of scraping the widget.
Lines are plain text: ``Log`` never parses markup, so a task printing ``[bold]`` shows it.
"""

from __future__ import annotations

import re
import time
from collections import deque
from typing import Literal

from rich.highlighter import Highlighter
from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Log

from taskflow.tui.bindings import LOG_BINDINGS
from taskflow.tui.widgets.filter_input import FilterInput

StreamFilter = Literal["both", "stdout", "stderr"]
STDERR_MARK = "▌"  # gutter on stderr lines: visible without colour too
MAX_LINES = 200_000
WRITES_PER_SECOND = 4  # a streaming log repaints at most this often


class OutputHighlighter(Highlighter):
    """Colours stderr lines and search matches; never interprets the text itself."""

    def __init__(self) -> None:
        self.stderr_style = Style(color="red")
        self.match_style = Style(reverse=True)
        self.pattern: re.Pattern[str] | None = None

    def highlight(self, text: Text) -> None:
        if text.plain.startswith(STDERR_MARK):
            text.stylize(self.stderr_style)
        if self.pattern is not None:
            for match in self.pattern.finditer(text.plain):
                text.stylize(self.match_style, match.start(), match.end())


class OutputLog(Log):
    """``Log`` with our highlighter; it renders only the visible lines."""

    DEFAULT_CSS = "OutputLog { border: none; background: $surface; scrollbar-size: 0 0; }"


class LogPane(Vertical, can_focus=False):
    """Log view with follow/pause, stream filter, wrap, search and top/tail jumps."""

    DEFAULT_CSS = """
    LogPane { border: round $panel; border-title-color: $primary; }
    LogPane:focus-within { border: round $primary; }
    LogPane > Input { display: none; height: 3; }
    LogPane.-searching > Input { display: block; }
    """
    BINDINGS = LOG_BINDINGS
    ALLOW_MAXIMIZE = True

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Logs"
        # Each kept line is one string, its first character the stream ("o"/"e"): plain
        # strings are invisible to the garbage collector, (stream, line) tuples are not,
        # and 200,000 tuples made gen-2 collections stall the UI.
        self.entries: deque[str] = deque(maxlen=MAX_LINES)
        self.pending: list[str] = []
        self.stream: StreamFilter = "both"
        self.follow = True
        self.wrap = False
        self.search_text = ""
        self.run_id: str | None = None
        self._title_name = ""
        self.highlighter = OutputHighlighter()
        self.output = OutputLog(highlight=True, max_lines=MAX_LINES, id="output")
        self.output.highlighter = self.highlighter
        self._match_line = -1
        self._written_at = 0.0  # time.monotonic() of the last write

    def compose(self) -> ComposeResult:
        yield FilterInput(placeholder="search the log (enter: find, esc: close)", id="log-search")
        yield self.output

    def on_mount(self) -> None:
        # No timer of its own: the app flushes logs and events in the same frame.
        self._update_title()

    # -- feeding --------------------------------------------------------------------------

    def show_run(self, run_id: str | None, title: str = "") -> None:
        """Start showing another run's output (clears the pane)."""
        self.run_id = run_id
        self.entries.clear()
        self.pending.clear()
        self.output.clear()
        self._title_name = title
        self._update_title()

    def append(self, stream: str, lines: list[str]) -> None:
        """Queue lines for the next flush; cheap enough to call per event."""
        code = "e" if stream == "stderr" else "o"
        self.pending.extend(code + line for line in lines)

    def flush_due(self) -> None:
        """Write queued lines if the last write was long enough ago (the app's frames)."""
        if self.pending and time.monotonic() - self._written_at >= 1 / WRITES_PER_SECOND:
            self.flush()

    def flush(self) -> None:
        """Write queued lines in one batch now."""
        if not self.pending:
            return
        self._written_at = time.monotonic()
        batch, self.pending = self.pending, []
        self.entries.extend(batch)
        visible = [self._format(entry) for entry in batch if self._shown(entry)]
        if visible:
            self._write(self._wrap(visible))

    def _write(self, lines: list[str]) -> None:
        """Append ``lines``; while following, scroll to the end once the new size is laid out.

        ``Log.write_lines(scroll_end=True)`` only scrolls when the view *was* at the end, which
        it is not while the pane is being rebuilt (a stream or wrap change clears it first): the
        pane then froze with its title still saying "follow". So follow scrolls explicitly.
        """
        self.output.write_lines(lines, scroll_end=False)
        if self.follow:
            # At once, so the write is painted once, at the tail; and again after the next
            # refresh in case the pane had no size yet (it is being laid out).
            self.output.scroll_end(animate=False, immediate=True, x_axis=False)
            self.output.call_after_refresh(self._scroll_to_tail)

    def _scroll_to_tail(self) -> None:
        # Not if paused (search, top) between the write and this refresh, nor when already
        # there (a scroll to where it is would still repaint).
        if self.follow and self.output.scroll_y < self.output.max_scroll_y:
            self.output.scroll_end(animate=False, immediate=True, x_axis=False)

    def _shown(self, entry: str) -> bool:
        return self.stream == "both" or self.stream[3] == entry[0]  # "stdout"[3] == "o"

    @staticmethod
    def _format(entry: str) -> str:
        return f"{STDERR_MARK} {entry[1:]}" if entry[0] == "e" else entry[1:]

    def _wrap(self, lines: list[str]) -> list[str]:
        if not self.wrap:
            return lines
        width = max(10, self.output.size.width - 2)
        out: list[str] = []
        for line in lines:
            out.extend(line[i : i + width] for i in range(0, max(len(line), 1), width))
        return out

    def rerender(self) -> None:
        """Re-write every kept line (stream filter, wrap or theme changed)."""
        self.flush()
        self.output.clear()
        lines = [self._format(entry) for entry in self.entries if self._shown(entry)]
        self._write(self._wrap(lines))
        self.output.refresh()

    def set_theme_styles(self, stderr: Style, match: Style) -> None:
        self.highlighter.stderr_style = stderr
        self.highlighter.match_style = match
        self.output.notify_style_update()
        self.output.refresh()

    # -- commands -------------------------------------------------------------------------

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow
        self.output.auto_scroll = self.follow
        if self.follow:
            self.output.scroll_end(animate=False)
        self._update_title()

    def action_cycle_stream(self) -> None:
        order: list[StreamFilter] = ["both", "stdout", "stderr"]
        self.stream = order[(order.index(self.stream) + 1) % 3]
        self.rerender()
        self._update_title()

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap
        self.rerender()
        self._update_title()

    def action_jump_top(self) -> None:
        self.follow = False
        self.output.auto_scroll = False
        self.output.scroll_home(animate=False)
        self._update_title()

    def action_jump_tail(self) -> None:
        self.follow = True
        self.output.auto_scroll = True
        self.output.scroll_end(animate=False)
        self._update_title()

    def action_search(self) -> None:
        self.add_class("-searching")
        self.query_one("#log-search", Input).focus()

    @on(Input.Submitted, "#log-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.search(event.value)
        self.remove_class("-searching")
        self.output.focus()

    def action_search_next(self) -> None:
        self.find(+1)

    def action_search_previous(self) -> None:
        self.find(-1)

    def close_search(self) -> bool:
        if self.has_class("-searching"):
            self.remove_class("-searching")
            self.output.focus()
            return True
        return False

    def search(self, text: str) -> None:
        """Highlight ``text`` everywhere and jump to its first match after the view."""
        self.search_text = text
        self.highlighter.pattern = re.compile(re.escape(text), re.IGNORECASE) if text else None
        self.output.notify_style_update()
        self.output.refresh()
        self._match_line = int(self.output.scroll_y) - 1
        if text:
            self.find(+1)
        self._update_title()

    def find(self, direction: int) -> bool:
        """Move to the next (+1) or previous (-1) line containing the search text."""
        if not self.search_text:
            return False
        needle = self.search_text.lower()
        lines = self.output.lines
        count = len(lines)
        start = self._match_line
        for step in range(1, count + 1):
            index = (start + direction * step) % count if count else 0
            if needle in lines[index].lower():
                self._match_line = index
                self.follow = False
                self.output.auto_scroll = False
                self.output.scroll_to(y=max(0, index - 2), animate=False)
                self._update_title()
                return True
        self.notify(f"{self.search_text!r} not found in this log.", severity="warning")
        return False

    def _update_title(self) -> None:
        name = self._title_name or self.run_id or "no run selected"
        flags = [self.stream, "follow" if self.follow else "paused"]
        if self.wrap:
            flags.append("wrap")
        if self.search_text:
            flags.append(f"/{self.search_text}")
        self.border_title = Text(f"Logs · {name}")
        self.border_subtitle = Text(" · ".join(flags))

