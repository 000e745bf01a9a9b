"""The agent's log file stays bounded: rotated by size, a few older files kept."""

from __future__ import annotations

import logging
from pathlib import Path

from oxytrack_agent.logfile import RotatingLog


def test_the_log_rotates_by_size_and_keeps_three_older_files(tmp_path: Path) -> None:
    path = tmp_path / "agent.log"
    handler = RotatingLog(path, max_bytes=1000, backups=3)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("test-rotating-log")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        for i in range(400):
            logger.warning("ligne %03d é", i)  # 13 bytes in UTF-8 with the newline
    finally:
        logger.removeHandler(handler)
        handler.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["agent.log", "agent.log.1", "agent.log.2", "agent.log.3"]
    assert all(p.stat().st_size <= 1000 for p in tmp_path.iterdir())
    # Newest in agent.log, then .1, .2, .3; nothing lost in between.
    lines = [
        line
        for name in ("agent.log.3", "agent.log.2", "agent.log.1", "agent.log")
        for line in (tmp_path / name).read_text(encoding="utf-8").splitlines()
    ]
    assert lines[-1] == "ligne 399 é"
    numbers = [int(line.split()[1]) for line in lines]
    assert numbers == list(range(numbers[0], 400))
    assert len(lines) > 3 * 1000 // 13 - 3


def test_an_existing_log_is_appended_to(tmp_path: Path) -> None:
    path = tmp_path / "agent.log"
    path.write_text("avant\n", encoding="utf-8")
    handler = RotatingLog(path, max_bytes=1000, backups=3)
    handler.emit(logging.makeLogRecord({"msg": "après", "levelno": logging.INFO}))
    handler.close()
    assert path.read_text(encoding="utf-8") == "avant\naprès\n"
