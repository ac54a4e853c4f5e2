"""reid_core.progress: a tqdm bar on a terminal, plain log lines elsewhere, nothing when turned off."""

from __future__ import annotations

import io
import logging

import pytest

from reid_core.config import ConfigError
from reid_core.progress import Progress, track


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_tqdm_bar_with_count_rate_and_postfix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REID_PROGRESS", raising=False)
    tty = Terminal()
    progress = Progress(4, desc="[train] epoch 1/3", enabled=True, log_every=2, stream=tty)
    assert progress.tty
    for _ in range(4):
        progress.update(1, "id=1.5000 12.0 img/s")
    progress.close()
    text = tty.getvalue()
    assert "\r" in text and "[train] epoch 1/3" in text
    assert "4/4" in text and "it/s" in text and "id=1.5000 12.0 img/s" in text


def test_elsewhere_plain_lines_every_log_every_items_with_rate_and_eta(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REID_PROGRESS", raising=False)
    plain = io.StringIO()
    with caplog.at_level(logging.INFO, logger="reid_core.progress"):
        progress = Progress(4, desc="[train] epoch 1/3", count_word="iter", enabled=True, log_every=2, stream=plain)
        assert not progress.tty and progress.due(2) and not progress.due(1)
        for _ in range(4):
            progress.update(1, "id=1.5000 12.0 img/s")
        progress.close()  # the last line is not written twice
    assert plain.getvalue() == ""
    lines = [r.getMessage() for r in caplog.records]
    assert [line.split(" img/s")[0] for line in lines] == [
        "[train] epoch 1/3 iter 2/4 id=1.5000 12.0", "[train] epoch 1/3 iter 4/4 id=1.5000 12.0"]
    assert "it/s, eta " in lines[0] and "elapsed" in lines[1]


def test_track_counts_len_and_stays_quiet_on_short_work(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="reid_core.progress"):
        assert list(track(range(3), desc="scan", enabled=True, stream=io.StringIO())) == [0, 1, 2]
    assert caplog.records == []  # shorter than one interval: no line
    with caplog.at_level(logging.INFO, logger="reid_core.progress"):
        assert sum(track(iter(range(3)), desc="scan", unit="img", interval=0.0, enabled=True,
                         stream=io.StringIO())) == 3
    assert [r.getMessage().split(" img/s")[0].rsplit(" ", 1)[0] for r in caplog.records] == [
        "scan 1", "scan 2", "scan 3"]


def test_reid_progress_env_and_rank_turn_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    tty = Terminal()
    monkeypatch.setenv("REID_PROGRESS", "off")
    assert list(track(range(2), desc="x", stream=tty)) == [0, 1] and tty.getvalue() == ""
    monkeypatch.setenv("REID_PROGRESS", "log")
    assert not Progress(2, stream=tty).tty
    monkeypatch.setenv("REID_PROGRESS", "auto")
    monkeypatch.setenv("RANK", "1")
    assert not Progress(2, stream=tty).enabled  # a torchrun worker other than rank 0
    monkeypatch.setenv("REID_PROGRESS", "fancy")
    with pytest.raises(ConfigError, match="REID_PROGRESS='fancy'"):
        Progress(2)


def test_batched_counts_log_each_time_a_multiple_is_passed(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="reid_core.progress"):
        progress = Progress(100, desc="features", unit="img", enabled=True, log_every=10, mode="log")
        for _ in range(7):
            progress.update(16)  # 16, 32, ..., 112 > total: every batch passes a multiple of 10
        progress.close()
    counts = [r.getMessage().split(" img/s")[0].split()[1] for r in caplog.records]
    assert counts == ["16/100", "32/100", "48/100", "64/100", "80/100", "96/100", "112/100"]
