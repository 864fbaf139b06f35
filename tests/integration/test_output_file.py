"""The file sink: a file appears only when complete, and devices are written in place."""
import os
import stat
import subprocess

import pytest

from conftest import REPO


def capture():
    path = os.path.join(REPO, "tests", "captures")
    files = sorted(f for f in os.listdir(path) if f.endswith(".pcap")) if os.path.isdir(path) else []
    if not files:
        pytest.skip("no test captures in tests/captures")
    return os.path.join(path, files[0])


def test_dev_null_stays_a_device(dnsprobe_bin):
    subprocess.run([dnsprobe_bin, "replay", capture(), "--output", "/dev/null"], check=True,
                   capture_output=True)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode), "/dev/null must stay a character device"


def test_fifo_output_is_written_in_place(dnsprobe_bin, tmp_path):
    fifo = tmp_path / "records.fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    subprocess.run([dnsprobe_bin, "replay", capture(), "--output", str(fifo)], check=True,
                   capture_output=True)
    out, _ = reader.communicate(timeout=30)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert out.count(b"\n") >= 1


def test_no_temporary_files_left(dnsprobe_bin, tmp_path):
    out = tmp_path / "records.json"
    subprocess.run([dnsprobe_bin, "replay", capture(), "--output", str(out)], check=True,
                   capture_output=True)
    assert sorted(os.listdir(tmp_path)) == ["records.json"]
    assert stat.S_IMODE(os.stat(out).st_mode) & 0o044, "the records file is readable by others"
