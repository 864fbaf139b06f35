# test_kafka_properties: `-X list` prints librdkafka's properties exactly as kcat (the reference
# tool, from Debian, on the same librdkafka) prints them, and exits 0 without reading anything.

import shutil
import subprocess

import pytest


@pytest.fixture(scope='module')
def kafka_build(dnsprobe_bin):
    usage = subprocess.run([str(dnsprobe_bin), 'replay', '--help'], capture_output=True,
                           text=True).stdout
    if '--brokers' not in usage:
        pytest.skip('%s was built without Kafka support' % dnsprobe_bin)


@pytest.mark.parametrize('command', ['replay', 'capture'])
def test_x_list_prints_what_kcat_prints(dnsprobe_bin, kafka_build, command):
    kcat = shutil.which('kcat')
    if not kcat:
        pytest.skip('kcat not installed (scripts/setup)')
    ours = subprocess.run([str(dnsprobe_bin), command, '-X', 'list'], capture_output=True,
                          text=True, timeout=60)
    theirs = subprocess.run([kcat, '-X', 'list'], capture_output=True, text=True, timeout=60)
    assert ours.returncode == 0 and ours.stderr == '', ours.stderr
    assert theirs.returncode == 0
    assert ours.stdout == theirs.stdout
    assert 'statistics.interval.ms' in ours.stdout
