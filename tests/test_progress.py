"""progress: a terminal line with rate and ETA, and silence off a terminal."""

from __future__ import annotations


def test_progress_line_shows_rate_and_eta_on_a_terminal():
    import io

    from archiver.progress import Progress

    stream = io.StringIO()
    progress = Progress(total=200, enabled=True, stream=stream)
    progress._last = -1.0
    for _ in range(100):
        progress.advance()
    progress.close()
    text = stream.getvalue()
    assert "\r[" in text and "100 records" in text and "/s" in text and "ETA" in text and "50%" in text
    quiet = io.StringIO()
    silent = Progress(total=200, enabled=False, stream=quiet)
    silent.advance(5)
    silent.close()
    assert quiet.getvalue() == ""
