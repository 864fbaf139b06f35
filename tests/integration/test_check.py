# test_check: `dnsprobe check` on real interfaces the test makes itself: a veth
# pair inside a network namespace of its own (addresses 10.99.7.0/24), and that
# namespace's loopback.  ethtool, run in the same namespace, is the independent
# oracle for offload states, driver and speed; /proc/meminfo for hugepages.
# Covers: GRO on gives WARN with the exact fix command (and that command works);
# --fix turns GRO off and says so; --json says what the text says; the exit code
# is the worst result; ioctls a device does not implement give "not reported"
# lines, not failures; a missing interface gives one FAIL line and exit 2.
#
# Needs root (network namespaces, ethtool -K).  The namespace, and with it the
# veth pair, is deleted after each test, even when the test fails.

import json
import os
import re
import shlex
import subprocess
import uuid

import pytest

LINE = re.compile(r'^(OK|WARN|FAIL) +(\S+) +(.*?)(?:  fix: (.*))?$')
EXIT_OF = {'OK': 0, 'WARN': 1, 'FAIL': 2}

# Kernel feature names (what dnsprobe lists) to the names `ethtool -k` prints.
ETHTOOL_NAME = {
    'rx-gro': 'generic-receive-offload',
    'rx-lro': 'large-receive-offload',
    'rx-vlan-hw-parse': 'rx-vlan-offload',
    'tx-generic-segmentation': 'generic-segmentation-offload',
}

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason='needs root for network namespaces and ethtool -K')


def sh(*args, check=True):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=check,
                          timeout=60)


class Namespace:
    """A network namespace holding a veth pair (a, b) with addresses on both ends."""

    def __init__(self):
        tag = uuid.uuid4().hex[:6]
        self.name = 'dnsprobe-chk-' + tag
        self.a = 'dpc%sa' % tag
        self.b = 'dpc%sb' % tag
        sh('ip', 'netns', 'add', self.name)
        try:
            self.ip('link', 'add', self.a, 'type', 'veth', 'peer', 'name', self.b)
            self.ip('addr', 'add', '10.99.7.1/24', 'dev', self.a)
            self.ip('addr', 'add', '10.99.7.2/24', 'dev', self.b)
            self.ip('link', 'set', self.a, 'up')
            self.ip('link', 'set', self.b, 'up')
            self.ip('link', 'set', 'lo', 'up')
        except Exception:
            self.delete()
            raise

    def ip(self, *args):
        return sh('ip', '-n', self.name, *args)

    def run(self, *args, check=True):
        return sh('ip', 'netns', 'exec', self.name, *args, check=check)

    def ethtool_features(self, iface):
        """`ethtool -k`: feature name -> (on, fixed)."""
        out = self.run('ethtool', '-k', iface).stdout
        features = {}
        for line in out.splitlines()[1:]:
            m = re.match(r'\s*([\w-]+): (on|off)( \[fixed\])?', line)
            if m:
                features[m.group(1)] = (m.group(2) == 'on', bool(m.group(3)))
        return features

    def delete(self):
        subprocess.run(['ip', 'netns', 'del', self.name], capture_output=True, timeout=60)


@pytest.fixture
def netns():
    ns = Namespace()
    try:
        yield ns
    finally:
        ns.delete()


class CheckRun:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    def results(self):
        """{check name: (status, detail, fix)}; every line must have the documented form."""
        out = {}
        for line in self.stdout.splitlines():
            m = LINE.match(line)
            assert m, 'line not in the form "STATUS  check  detail  [fix: command]": %r' % line
            assert m.group(2) not in out, 'check %s reported twice' % m.group(2)
            out[m.group(2)] = (m.group(1), m.group(3), m.group(4))
        return out


def check(ns, dnsprobe_bin, *args):
    proc = ns.run(dnsprobe_bin, 'check', *args, check=False)
    assert proc.returncode >= 0, 'dnsprobe check crashed: %s' % proc.stderr
    return CheckRun(proc)


def listed_features(detail):
    """The kernel feature names an offload line lists as on or off."""
    m = re.match(r'on: ([\w, -]+?): ', detail) or re.match(r'off \(([^)]*)\)', detail)
    assert m, 'offload line without its feature list: %r' % detail
    return [f.strip() for f in m.group(1).split(',')]


def test_gro_on_warns_with_a_fix_that_works(netns, dnsprobe_bin):
    netns.run('ethtool', '-K', netns.a, 'gro', 'on')
    assert netns.ethtool_features(netns.a)['generic-receive-offload'] == (True, False)

    run = check(netns, dnsprobe_bin, '-i', netns.a)
    results = run.results()
    status, detail, fix = results['gro']
    assert status == 'WARN', detail
    assert fix == 'ethtool -K %s gro off' % netns.a
    assert run.rc >= 1

    # The fix is the exact command: running it turns GRO off (ethtool says so), and the
    # check then finds GRO off.
    netns.run(*shlex.split(fix))
    assert netns.ethtool_features(netns.a)['generic-receive-offload'][0] is False
    status, detail, fix = check(netns, dnsprobe_bin, '-i', netns.a).results()['gro']
    assert status == 'OK' and fix is None, detail


def test_fix_turns_gro_off_and_says_so(netns, dnsprobe_bin):
    netns.run('ethtool', '-K', netns.a, 'gro', 'on')
    run = check(netns, dnsprobe_bin, '-i', netns.a, '--fix')
    status, detail, fix = run.results()['gro']
    assert status == 'OK', detail
    assert 'turned off by --fix' in detail and 'rx-gro' in detail, detail
    assert fix is None
    assert netns.ethtool_features(netns.a)['generic-receive-offload'][0] is False

    # Nothing left to change: a second --fix reports GRO off and changes nothing.
    doc = json.loads(check(netns, dnsprobe_bin, '-i', netns.a, '--fix', '--json').stdout)
    gro = next(c for c in doc['checks'] if c['check'] == 'gro')
    assert gro['status'] == 'OK' and gro['changed'] is False


def test_fix_in_json_marks_what_changed(netns, dnsprobe_bin):
    netns.run('ethtool', '-K', netns.a, 'gro', 'on')
    doc = json.loads(check(netns, dnsprobe_bin, '-i', netns.a, '--fix', '--json').stdout)
    changed = [c['check'] for c in doc['checks'] if c['changed']]
    assert changed == ['gro']
    assert netns.ethtool_features(netns.a)['generic-receive-offload'][0] is False


def test_offload_states_agree_with_ethtool(netns, dnsprobe_bin):
    # Mixed states, set with ethtool: GRO on, GSO off, TSO on, VLAN stripping (802.1Q and
    # 802.1ad) off.
    netns.run('ethtool', '-K', netns.a, 'gro', 'on', 'gso', 'off', 'tso', 'on', 'rxvlan', 'off',
              'rx-vlan-stag-hw-parse', 'off')
    features = netns.ethtool_features(netns.a)
    results = check(netns, dnsprobe_bin, '-i', netns.a).results()
    for name in ('gro', 'lro', 'gso-tso', 'rx-vlan'):
        status, detail, _fix = results[name]
        listed = listed_features(detail)
        assert listed, detail
        says_on = detail.startswith('on: ')
        for feature in listed:
            on, _fixed = features[ETHTOOL_NAME.get(feature, feature)]
            # An "on" line lists the features that are on; an "off" line, all of them off.
            assert on == says_on, '%s: dnsprobe says %r, ethtool says %s is %s' % (
                name, detail, feature, 'on' if on else 'off')
        assert status == ('WARN' if says_on else 'OK'), detail
    assert results['gso-tso'][1].startswith('on: ')   # TSO is on
    assert 'tx-generic-segmentation' not in listed_features(results['gso-tso'][1])
    assert results['rx-vlan'][0] == 'OK'


def test_driver_and_speed_agree_with_ethtool(netns, dnsprobe_bin):
    results = check(netns, dnsprobe_bin, '-i', netns.a).results()
    info = netns.run('ethtool', '-i', netns.a).stdout
    driver = re.search(r'^driver: (\S+)', info, re.M).group(1)
    assert results['driver'][0] == 'OK'
    assert results['driver'][1].startswith(driver + ' '), results['driver']
    speed = re.search(r'Speed: (\d+)Mb/s', netns.run('ethtool', netns.a).stdout)
    assert speed, 'ethtool reports no speed for the veth'
    assert results['speed'] == ('OK', '%s Mb/s full duplex' % speed.group(1), None)
    assert results['interface'][0] == 'OK'


def test_json_says_what_the_text_says(netns, dnsprobe_bin):
    netns.run('ethtool', '-K', netns.a, 'gro', 'on')
    text = check(netns, dnsprobe_bin, '-i', netns.a)
    as_json = check(netns, dnsprobe_bin, '-i', netns.a, '--json')
    doc = json.loads(as_json.stdout)
    assert doc['interface'] == netns.a
    from_json = {c['check']: (c['status'], c['detail'], c['fix']) for c in doc['checks']}
    # The memory available moves between runs; everything else must be the same.
    from_text = text.results()
    for results in (from_json, from_text):
        status, detail, fix = results['capture-buffer']
        results['capture-buffer'] = (status, re.sub(r'\d+ MiB available', 'N', detail), fix)
    assert from_json == from_text
    assert [c['check'] for c in doc['checks']] == list(from_text)
    assert as_json.rc == text.rc == doc['exit_code'] == EXIT_OF[doc['status']]


def test_exit_code_is_the_worst_result(netns, dnsprobe_bin):
    for args, worst in (([], 'WARN'), (['-B', '1048576', '--workers', '1024'], 'FAIL')):
        netns.run('ethtool', '-K', netns.a, 'gro', 'on')
        run = check(netns, dnsprobe_bin, '-i', netns.a, *args)
        statuses = [status for status, _d, _f in run.results().values()]
        assert max(statuses, key=EXIT_OF.get) == worst
        assert run.rc == EXIT_OF[worst]


def test_capture_buffer_against_meminfo(netns, dnsprobe_bin):
    available_kb = int(re.search(r'^MemAvailable:\s+(\d+) kB', open('/proc/meminfo').read(),
                                 re.M).group(1))
    too_big = available_kb // 1024 + 1024
    status, detail, fix = check(netns, dnsprobe_bin, '-i', netns.a, '-B',
                                str(too_big)).results()['capture-buffer']
    assert status == 'FAIL' and fix and fix.startswith('dnsprobe capture -i %s ' % netns.a), detail
    status, detail, fix = check(netns, dnsprobe_bin, '-i', netns.a, '-B', '8').results()[
        'capture-buffer']
    assert status == 'OK' and fix is None, detail


def test_unsupported_ioctls_are_not_reported_not_failed(netns, dnsprobe_bin):
    # Loopback implements neither ETHTOOL_GDRVINFO nor GCHANNELS nor GRINGPARAM.
    assert netns.run('ethtool', '-i', 'lo', check=False).returncode != 0
    run = check(netns, dnsprobe_bin, '-i', 'lo')
    results = run.results()
    for name in ('driver', 'channels', 'rx-ring', 'speed'):
        status, detail, fix = results[name]
        assert status == 'OK' and 'not reported' in detail and fix is None, (name, detail)
    assert 'FAIL' not in [s for s, _d, _f in results.values()]
    assert run.rc in (0, 1)


def test_down_interface_fails_with_the_command_that_brings_it_up(netns, dnsprobe_bin):
    netns.ip('link', 'set', netns.a, 'down')
    run = check(netns, dnsprobe_bin, '-i', netns.a)
    status, detail, fix = run.results()['interface']
    assert status == 'FAIL' and fix == 'ip link set dev %s up' % netns.a, detail
    assert run.rc == 2


def test_missing_interface_is_one_fail_line_and_exit_2(netns, dnsprobe_bin):
    run = check(netns, dnsprobe_bin, '-i', 'dnsprobe-nope0')
    assert run.rc == 2
    lines = run.stdout.splitlines()
    assert len(lines) == 1, run.stdout
    status, name, detail, _fix = LINE.match(lines[0]).groups()
    assert (status, name) == ('FAIL', 'interface')
    assert "no interface named 'dnsprobe-nope0'" in detail
    doc = json.loads(check(netns, dnsprobe_bin, '-i', 'dnsprobe-nope0', '--json').stdout)
    assert doc['exit_code'] == 2 and len(doc['checks']) == 1
    assert doc['checks'][0]['status'] == 'FAIL'


def test_dpdk_readiness_reads_hugepages_and_mounts(netns, dnsprobe_bin, tmp_path):
    # A hugetlbfs mount in a mount namespace of the test's own, so the machine is not changed.
    mount_dir = tmp_path / 'huge'
    mount_dir.mkdir()
    script = 'mount -t hugetlbfs nodev %s && exec %s check -i %s --dpdk --json' % (
        shlex.quote(str(mount_dir)), shlex.quote(str(dnsprobe_bin)), shlex.quote(netns.a))
    proc = netns.run('unshare', '--mount', '--propagation', 'private', 'sh', '-c', script,
                     check=False)
    doc = json.loads(proc.stdout)
    results = {c['check']: c for c in doc['checks']}
    assert results['hugetlbfs']['status'] == 'OK'
    assert str(mount_dir) in results['hugetlbfs']['detail']
    meminfo = open('/proc/meminfo').read()
    total = int(re.search(r'^HugePages_Total:\s+(\d+)', meminfo, re.M).group(1))
    size_kb = int(re.search(r'^Hugepagesize:\s+(\d+) kB', meminfo, re.M).group(1))
    if total == 0:
        assert results['hugepages']['status'] == 'WARN'
        assert results['hugepages']['fix'].startswith('sysctl -w vm.nr_hugepages=')
    else:
        assert results['hugepages']['status'] == 'OK'
        assert '%d MiB reserved' % (total * size_kb // 1024) in results['hugepages']['detail']
    # A veth is no PCI device: DPDK cannot take it over.
    assert results['dpdk-driver']['status'] == 'WARN'
    assert 'not a PCI device' in results['dpdk-driver']['detail']


def test_usage_errors(dnsprobe_bin):
    for args in (['check'], ['check', '-i'], ['check', '-i', 'lo', '-B', 'x'],
                 ['check', '-i', 'lo', 'extra'], ['check', '--bogus']):
        proc = sh(dnsprobe_bin, *args, check=False)
        assert proc.returncode == 2, args
        assert proc.stdout == ''
        assert len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith('dnsprobe: '), (
            args, proc.stderr)


def test_tunnels_line_warns_on_an_mtu_too_small_for_mirrored_packets(netns, dnsprobe_bin):
    """Issue 15: check says the default filter takes tunnels in, and warns when the MTU (as `ip
    link` reports it) leaves no room for a 1500-byte packet in VXLAN; its fix works."""
    mtu = int(re.search(r'mtu (\d+)', netns.ip('link', 'show', netns.a).stdout).group(1))
    assert mtu == 1500
    status, detail, fix = check(netns, dnsprobe_bin, '-i', netns.a).results()['tunnels']
    assert status == 'WARN', detail
    for kind in ('VXLAN', 'Geneve', 'GRE', 'ERSPAN', 'IP-in-IP', 'MPLS', '4789', '6081'):
        assert kind in detail
    assert 'MTU 1500' in detail and '1450 bytes' in detail
    netns.run(*shlex.split(fix))
    assert 'mtu 1600' in netns.ip('link', 'show', netns.a).stdout
    status, detail, fix = check(netns, dnsprobe_bin, '-i', netns.a).results()['tunnels']
    assert status == 'OK' and fix is None and 'MTU 1600' in detail, detail
