# test_service: dnsprobe as an installed, systemd-run service.
# - The options: every option getopt takes (read from the C sources' getopt_long tables and
#   option strings) is in the command's --help and in the man page dnsprobe(8), which the build
#   generates from --help (dist/man/make-man-page); man(1) renders the page without warnings.
# - `meson install --destdir` of a fresh build with --prefix=/usr puts every file where Debian's
#   layout wants it (the list below) and nothing else.
# - The installed units pass `systemd-analyze verify`, and `systemd-analyze security` rates them
#   OK or better. systemd is not PID 1 here, so the units are not started by systemd; what they
#   ask for is run instead: the capture as an unprivileged user holding only the unit's ambient
#   CAP_NET_RAW under its bounding set and no_new_privs (setpriv, as systemd applies them), and
#   the Type=notify readiness read from a NOTIFY_SOCKET of the test's own, as systemd reads it
#   (sd_notify(3)'s protocol): READY=1 comes once the capture is open, and packets sent after it
#   are captured.
# - The bash completion completes commands and options from the installed binary's --help.
# - The shipped config file is one the capture takes.
# Needs root for the namespace and the capture; meson, ninja, systemd-analyze, man, setpriv.

import os
import pathlib
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid

import pytest

from conftest import REPO, run_env
from tshark_oracle import strict_json_line

CLI = REPO / 'probe' / 'cli'
COMMAND_FILES = {'replay': 'replay_cmd.c', 'capture': 'capture_cmd.c', 'check': 'check_cmd.c'}
HELP_LINE = re.compile(r'^ {2,6}(?:-(\w), )?--([a-z][\w-]*)', re.M)
# Spellings getopt takes only to refuse them with a line naming the right one (test_tcpdump_habits).
REFUSED = {('replay', 'p')}

DEBIAN_LAYOUT = {
    'etc/dnsprobe/dnsprobe.conf',
    'usr/sbin/dnsprobe',
    'usr/lib/systemd/system/dnsprobe.service',
    'usr/lib/systemd/system/dnsprobe@.service',
    'usr/lib/sysusers.d/dnsprobe.conf',
    'usr/share/man/man8/dnsprobe.8',
    'usr/share/bash-completion/completions/dnsprobe',
    'usr/share/doc/dnsprobe/README.md',
    'usr/share/doc/dnsprobe/examples/dnsprobe-index-template.json',
}


def getopt_options(command):
    """(long names, short letters) that getopt_long takes for command, from the sources."""
    source = (CLI / COMMAND_FILES[command]).read_text()
    table = re.search(r'longopts\[\] = \{(.*?)\n\t\};', source, re.S).group(1)
    names = set(re.findall(r'\{"([a-z][\w-]*)",', table))
    for macro in re.findall(r'\b([A-Z]+_LONG_OPTIONS)\b', table):
        header = next(h.read_text() for h in CLI.glob('*.h') if '#define ' + macro in h.read_text())
        body = re.search(r'#define %s(.*?)\n\n' % macro, header, re.S).group(1)
        names |= set(re.findall(r'\{\s*"([a-z][\w-]*)",', body))
    optstring = re.search(r'getopt_long\([^"]*"([^"]*)"(?:\s*(\w+_SHORT_OPTIONS))?', source)
    letters = set(re.findall(r'(\w):?', optstring.group(1)))
    if optstring.group(2):
        header = next(h.read_text() for h in CLI.glob('*.h')
                      if '#define ' + optstring.group(2) in h.read_text())
        letters |= set(re.findall(r'(\w):?', re.search(r'#define %s "([^"]*)"'
                                                       % optstring.group(2), header).group(1)))
    names.add('config')  # read before getopt (config_file.c)
    return names, letters - {c for cmd, c in REFUSED if cmd == command}


def help_of(binary, *args):
    return subprocess.run([str(binary)] + list(args) + ['--help'], capture_output=True,
                          text=True, check=True).stdout


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """A fresh build configured as Debian does (--prefix=/usr), installed into a folder."""
    if not shutil.which('meson') or not shutil.which('ninja'):
        pytest.skip('needs meson and ninja')
    work = tmp_path_factory.mktemp('service-install')
    build, dest = work / 'build', work / 'root'
    subprocess.run(['meson', 'setup', str(build), str(REPO), '--prefix=/usr', '-Dwerror=true',
                    '-Ddpdk=disabled'], check=True, capture_output=True,
                   timeout=600)
    subprocess.run(['ninja', '-C', str(build), 'dnsprobe', 'dist/dnsprobe.8'], check=True,
                   capture_output=True, timeout=1800)
    proc = subprocess.run(['meson', 'install', '-C', str(build), '--destdir', str(dest),
                           '--quiet'], capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dest


def rendered_man(page):
    proc = subprocess.run(['man', '--warnings', '-l', str(page)], capture_output=True,
                          text=True, timeout=60, env=dict(os.environ, MANWIDTH='120',
                                                          MAN_KEEP_FORMATTING='0'))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == '', 'man warns:\n' + proc.stderr
    return re.sub(r'.\x08', '', proc.stdout)


def test_meson_install_puts_every_file_where_debian_wants_it(installed):
    files = {str(p.relative_to(installed)) for p in installed.rglob('*') if p.is_file()}
    docs = {f for f in files if f.startswith('usr/share/doc/dnsprobe/docs/')}
    assert files - docs == DEBIAN_LAYOUT
    shipped = {'usr/share/doc/dnsprobe/docs/' + p.name for p in (REPO / 'docs').glob('*.md')}
    assert docs == shipped and 'usr/share/doc/dnsprobe/docs/architecture.md' in docs
    assert os.access(installed / 'usr/sbin/dnsprobe', os.X_OK)


def test_every_option_getopt_takes_is_in_help_and_man_page(dnsprobe_bin, installed):
    man = rendered_man(installed / 'usr/share/man/man8/dnsprobe.8')
    sections = re.split(r'^   dnsprobe (replay|capture|check)$', man, flags=re.M)
    by_command = dict(zip(sections[1::2], sections[2::2]))
    missing = []
    for command in COMMAND_FILES:
        names, letters = getopt_options(command)
        assert len(names) > 5 and 'help' in names
        usage = help_of(dnsprobe_bin, command)
        in_help = {m.group(2) for m in HELP_LINE.finditer(usage)}
        short_in_help = {m.group(1) for m in HELP_LINE.finditer(usage) if m.group(1)}
        page = by_command[command]
        for name in sorted(names):
            if name not in in_help:
                missing.append('%s --%s: not in --help' % (command, name))
            if not re.search(r'--%s\b' % re.escape(name), page):
                missing.append('%s --%s: not in the man page' % (command, name))
        for letter in sorted(letters):
            if letter not in short_in_help:
                missing.append('%s -%s: not in --help' % (command, letter))
            if not re.search(r'(^|\s)-%s, --' % letter, page, re.M):
                missing.append('%s -%s: not in the man page' % (command, letter))
    assert not missing, '\n'.join(missing)
    for section in ('EXIT STATUS', 'SIGNALS', 'FILES', 'EXAMPLES', 'SYNOPSIS', 'COMMANDS'):
        assert re.search(r'^%s$' % section, man, re.M), section


def unit_copy(installed, tmp_path, unit, name=None):
    """The installed unit with its binary path pointed into the install folder."""
    text = (installed / 'usr/lib/systemd/system' / unit).read_text()
    path = tmp_path / (name or unit)
    path.write_text(text.replace('/usr/sbin/dnsprobe', str(installed / 'usr/sbin/dnsprobe')))
    return path


def test_units_pass_systemd_analyze_verify_and_security(installed, tmp_path):
    if not shutil.which('systemd-analyze'):
        pytest.skip('needs systemd-analyze')
    units = [unit_copy(installed, tmp_path, 'dnsprobe.service'),
             unit_copy(installed, tmp_path, 'dnsprobe@.service', 'dnsprobe@eth1.service')]
    env = dict(os.environ, MANPATH=str(installed / 'usr/share/man'))  # for Documentation=
    proc = subprocess.run(['systemd-analyze', 'verify'] + [str(u) for u in units],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0 and proc.stderr.strip() == '', proc.stderr
    for unit in units:
        proc = subprocess.run(['systemd-analyze', 'security', '--offline=yes', str(unit)],
                              capture_output=True, text=True, timeout=120)
        level = re.search(r'Overall exposure level for \S+: ([\d.]+) (\w+)', proc.stdout)
        assert level and level.group(2) in ('SAFE', 'OK'), proc.stdout[-2000:]
        assert float(level.group(1)) < 2.8  # the unit's score before it ran as User=dnsprobe


def unit_settings(installed, name):
    text = (installed / 'usr/lib/systemd/system/dnsprobe.service').read_text()
    return [v.split() for v in re.findall(r'^%s=(.*)$' % name, text, re.M)]


def test_unit_runs_as_its_user_with_net_raw_alone(installed):
    assert unit_settings(installed, 'User') == [['dnsprobe']]
    assert unit_settings(installed, 'AmbientCapabilities') == [['CAP_NET_RAW']]
    assert unit_settings(installed, 'CapabilityBoundingSet') == [['CAP_NET_RAW']]
    assert unit_settings(installed, 'Type') == [['notify']]
    assert unit_settings(installed, 'StateDirectory') == [['dnsprobe']]
    pre = unit_settings(installed, 'ExecStartPre')
    assert len(pre) == 1 and '+' in pre[0][0] and '--fix' in pre[0]
    users = (installed / 'usr/lib/sysusers.d/dnsprobe.conf').read_text()
    assert re.search(r'^u dnsprobe ', users, re.M)


# --- the capture as the unit runs it ----------------------------------------------------------

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason='needs root (namespace, capture)')


@pytest.fixture
def shared_dir():
    """A folder the user nobody may write (pytest's are root's alone)."""
    path = pathlib.Path(tempfile.mkdtemp(prefix='service-run-'))
    os.chmod(path, 0o777)
    yield path
    shutil.rmtree(path)


@pytest.fixture
def netns():
    name = 'service-' + uuid.uuid4().hex[:6]
    subprocess.run(['ip', 'netns', 'add', name], check=True, timeout=30)
    subprocess.run(['ip', '-n', name, 'link', 'set', 'lo', 'up'], check=True, timeout=30)
    yield name
    subprocess.run(['ip', 'netns', 'del', name], timeout=30)


SEND = r'''
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[1])):
    # a DNS query for n<i>.service.test, type A (RFC 1035 4.1)
    name = b''.join(bytes([len(p)]) + p for p in (b'n%d' % i, b'service', b'test')) + b'\0'
    s.sendto(bytes([0, i, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]) + name + b'\0\1\0\1', ('127.0.0.1', 53))
'''


def run_as_unit(netns, binary, tmp_path, caps=('net_raw',)):
    """Starts the capture in netns as the unit does: user nobody, ambient CAP_NET_RAW, the
    unit's bounding set, no_new_privs, NOTIFY_SOCKET set. Returns (process, notify socket)."""
    nobody = pwd.getpwnam('nobody')
    notify = tmp_path / 'notify'
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(notify))
    os.chmod(notify, 0o777)
    plus = ','.join('+' + c for c in caps)
    cmd = ['ip', 'netns', 'exec', netns, 'setpriv', '--reuid', str(nobody.pw_uid), '--regid',
           str(nobody.pw_gid), '--clear-groups', '--no-new-privs',
           '--bounding-set', '-all' + (',' + plus if caps else '')]
    if caps:
        cmd += ['--inh-caps', plus, '--ambient-caps', plus]
    cmd += [str(binary), 'capture', '-i', 'lo', '-c', '3', '--duration', '60', '-o',
            str(tmp_path / 'records.json')]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(run_env(), NOTIFY_SOCKET=str(notify)))
    return proc, sock


@needs_root
def test_capture_as_the_unit_runs_it_notifies_ready_and_captures(installed, netns, shared_dir):
    tmp_path = shared_dir
    binary = installed / 'usr/sbin/dnsprobe'
    proc, sock = run_as_unit(netns, binary, tmp_path)
    sock.settimeout(60)
    try:
        message = sock.recv(4096).decode()
    except socket.timeout:
        proc.kill()
        pytest.fail('no READY=1 within 60 s: %s' % proc.communicate()[1].decode())
    assert 'READY=1' in message.split('\n'), message
    # Sent only once READY came: a capture that was not open yet would miss them.
    subprocess.run(['ip', 'netns', 'exec', netns, '/usr/bin/python3', '-c', SEND, '3'],
                   check=True, timeout=30)
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err.decode()
    records = [strict_json_line(line) for line in (tmp_path / 'records.json').read_bytes()
               .splitlines()]
    queries = sorted(r['dns']['question']['name'] for r in records if r['dns']['type'] == 'query')
    assert queries == ['n0.service.test', 'n1.service.test', 'n2.service.test']
    assert os.stat(tmp_path / 'records.json').st_uid == pwd.getpwnam('nobody').pw_uid


@needs_root
def test_without_net_raw_the_capture_fails_in_one_line(installed, netns, shared_dir):
    tmp_path = shared_dir
    proc, sock = run_as_unit(netns, installed / 'usr/sbin/dnsprobe', tmp_path, caps=())
    out, err = proc.communicate(timeout=60)
    lines = err.decode().strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, err.decode()
    assert 'lo' in lines[0] and 'ermission' in lines[0], lines
    assert not (tmp_path / 'records.json').exists()


# --- completion and the shipped config ----------------------------------------------------------

def complete(installed, line):
    """What the installed completion offers for the words of line (the last one being typed)."""
    helpers = pathlib.Path('/usr/share/bash-completion/bash_completion')
    if not helpers.exists():
        pytest.skip('needs bash-completion (scripts/setup installs it)')
    words = line.split(' ')
    script = '''
source %s
source %s
PATH=%s:$PATH
COMP_WORDS=(%s); COMP_CWORD=%d; COMP_LINE=%s; COMP_POINT=${#COMP_LINE}
_dnsprobe dnsprobe "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%%s\\n' "${COMPREPLY[@]}"
''' % (helpers, installed / 'usr/share/bash-completion/completions/dnsprobe',
       installed / 'usr/sbin', ' '.join("'%s'" % w for w in words), len(words) - 1,
       "'%s'" % line)
    proc = subprocess.run(['bash', '-c', script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.split())


def test_bash_completion_offers_commands_and_options_of_the_binary(installed):
    assert complete(installed, 'dnsprobe ca') == {'capture'}
    assert complete(installed, 'dnsprobe capture --buf') == {'--buffer-size'}
    assert complete(installed, 'dnsprobe check --buf') == {'--buffer-size'}
    assert {'--read', '--dns-port'} <= complete(installed, 'dnsprobe replay --')
    assert complete(installed, 'dnsprobe capture --on-full d') == {'drop'}
    assert 'lo' in complete(installed, 'dnsprobe capture -i l')


def test_the_shipped_config_file_is_one_capture_takes(installed, tmp_path):
    conf = installed / 'etc/dnsprobe/dnsprobe.conf'
    # Its only complaint is the interface it leaves for the operator to name.
    proc = subprocess.run([str(installed / 'usr/sbin/dnsprobe'), 'capture', '--config',
                           str(conf), '--stats-file', str(tmp_path / 'x.prom')],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2 and 'give an interface with -i' in proc.stderr, proc.stderr
