"""``taskflow artifacts``: files a real attempt left in $TASKFLOW_OUTPUT_DIR, listed and fetched
through a real daemon (chunked: one file is bigger than a frame)."""

from __future__ import annotations

import hashlib
from pathlib import Path

# Writes a small report, a 1.5 MiB file in a subfolder (three 512 KiB chunks) and a symlink
# that points out of the folder (never followed); its own stdout is a log, not an artifact.
MAKE = ('echo hello; printf "rows=42\\n" > "$TASKFLOW_OUTPUT_DIR/report.txt"; '
        'mkdir "$TASKFLOW_OUTPUT_DIR/data"; '
        'head -c 1572864 /dev/urandom > "$TASKFLOW_OUTPUT_DIR/data/blob.bin"; '
        'ln -s /etc/passwd "$TASKFLOW_OUTPUT_DIR/passwd"')


def _make(tf) -> str:
    done = tf("exec", "--name", "artifacts-maker", "--wait", "--json", "--", "sh", "-c", MAKE)
    assert done.code == 0, done.err
    return done.json()["id"]


def test_artifacts_are_listed_and_fetched_whole(tf, tmp_path: Path) -> None:
    run_id = _make(tf)
    listed = tf("artifacts", run_id, "--json")
    assert listed.code == 0, listed.err
    files = {f["path"]: f["size"] for f in listed.json()["files"]}
    assert files == {"data/blob.bin": 1572864, "report.txt": 8}  # no stdout/status/pid, no symlink

    text = tf("artifacts", run_id[-6:])  # a unique end of the id, as the TUI shows it
    assert text.code == 0 and "report.txt" in text.out and "data/blob.bin" in text.out

    fetched = tf("artifacts", run_id, "-o", str(tmp_path / "got"))
    assert fetched.code == 0, fetched.err
    assert "2 artifacts (1572872 bytes)" in fetched.out
    assert (tmp_path / "got" / "report.txt").read_text() == "rows=42\n"
    blob = (tmp_path / "got" / "data" / "blob.bin").read_bytes()
    shown = tf("show", run_id, "--json").json()
    source = Path(shown["attempts"][-1]["output_dir"]) / "data" / "blob.bin"
    assert hashlib.sha256(blob).digest() == hashlib.sha256(source.read_bytes()).digest()
    assert not list((tmp_path / "got").rglob("*.part"))


def test_paths_outside_the_attempt_and_its_own_files_are_refused(tf, daemon) -> None:
    from taskflow.client import Client, ClientError
    from taskflow.protocol import ReadArtifact

    run_id = _make(tf)
    with Client.connect(daemon.socket) as client:
        for path, why in (("../x", "not an artifact path"), ("/etc/passwd", "not an artifact path"),
                          ("passwd", "cannot read artifact passwd"), ("status", "own file"),
                          ("nope.txt", "no artifact nope.txt")):
            try:
                client.call(ReadArtifact(run_id=run_id, path=path))
            except ClientError as exc:
                assert why in exc.message, (path, exc.message)
            else:
                raise AssertionError(f"{path} was read")


def test_a_run_without_artifacts_and_an_unknown_run(tf) -> None:
    done = tf("exec", "--wait", "--json", "--", "true")
    empty = tf("artifacts", done.json()["id"])
    assert empty.code == 0 and "left no artifacts" in empty.out
    missing = tf("artifacts", "01JD0000000000000000000000")
    assert missing.code == 1 and missing.err.count("\n") == 1 and "no run" in missing.err
