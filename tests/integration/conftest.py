# conftest: fixtures shared by the integration tests - where the repo, the test
# captures and the public corpus are, which dnsprobe binary to run, and a
# helper that runs `dnsprobe replay` and parses what it printed.
#
# Environment:
#   DNSPROBE        path of the binary (default <repo>/build/dnsprobe); a missing
#                   binary fails the tests that need it, with a clear message.
#   DNSPROBE_ASAN   set when the binary is a sanitizer build: UBSan is then told
#                   to halt on the first error, and runs get more time.
# Any run whose stderr holds a sanitizer report fails, whatever the exit code.

import json
import os
import pathlib
import subprocess

import pytest

from tshark_oracle import strict_json_line

REPO = pathlib.Path(__file__).resolve().parents[2]
CAPTURES = REPO / 'tests' / 'captures'
CORPUS = REPO.parent / 'shared' / 'corpus'
SANITIZER_MARKS = ('runtime error', 'AddressSanitizer', 'LeakSanitizer',
                   'UndefinedBehaviorSanitizer', 'MemorySanitizer', 'ThreadSanitizer')
ASAN = bool(os.environ.get('DNSPROBE_ASAN'))
RUN_TIMEOUT = 1800 if ASAN else 600


class Run:
    """The outcome of one `dnsprobe replay` run."""

    def __init__(self, cmd, proc, output_bytes, summary):
        self.cmd = cmd
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr.decode('utf-8', 'replace')
        self.output = output_bytes          # the JSON lines, from stdout or the file
        self.summary = summary              # parsed --summary-json, or None

    @property
    def lines(self):
        return self.output.splitlines()

    def records(self):
        """Every output line parsed strictly (raises on the first bad line)."""
        return [strict_json_line(line) for line in self.lines]

    def sanitizer_report(self):
        return next((m for m in SANITIZER_MARKS if m in self.stderr), None)

    def describe(self):
        return 'command: %s\nexit: %s\nstderr:\n%s' % (' '.join(map(str, self.cmd)), self.rc,
                                                       self.stderr[-4000:])

    def check_clean(self):
        """Exit 0 and no crash or sanitizer report."""
        assert self.rc >= 0, 'dnsprobe was killed by signal %d\n%s' % (-self.rc, self.describe())
        assert self.sanitizer_report() is None, 'sanitizer report\n' + self.describe()
        assert self.rc == 0, 'dnsprobe exited %d\n%s' % (self.rc, self.describe())


def run_env():
    env = dict(os.environ)
    if ASAN:
        env.setdefault('UBSAN_OPTIONS', 'print_stacktrace=1:halt_on_error=1')
        env.setdefault('ASAN_OPTIONS', 'detect_leaks=1')
    return env


class Dnsprobe:
    """Runs `dnsprobe replay`; output goes to stdout ('-') or to a file."""

    def __init__(self, binary, workdir):
        self.binary = binary
        self.workdir = workdir
        self.counter = 0

    def replay(self, files, *args, output='-', summary=True, timeout=RUN_TIMEOUT):
        self.counter += 1
        cmd = [str(self.binary), 'replay'] + [str(f) for f in files]
        if output is not None:
            cmd += ['--output', str(output)]
        summary_path = None
        if summary:
            summary_path = self.workdir / ('summary-%d.json' % self.counter)
            cmd += ['--summary-json', str(summary_path)]
        cmd += [str(a) for a in args]
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, env=run_env())
        if output == '-' or output is None:
            out = proc.stdout
        else:
            out = pathlib.Path(output).read_bytes() if pathlib.Path(output).exists() else b''
        parsed = None
        if summary_path is not None and summary_path.exists() and proc.returncode == 0:
            parsed = json.loads(summary_path.read_text())
        return Run(cmd, proc, out, parsed)

    def raw(self, args, timeout=RUN_TIMEOUT):
        """Run the binary with exactly these arguments (for error cases)."""
        cmd = [str(self.binary)] + [str(a) for a in args]
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, env=run_env())
        return Run(cmd, proc, proc.stdout, None)


@pytest.fixture(scope='session')
def repo_root():
    return REPO


@pytest.fixture(scope='session')
def captures_dir():
    return CAPTURES


@pytest.fixture(scope='session')
def expected():
    """tests/captures/expected.json, written by scripts/make-test-captures."""
    with open(CAPTURES / 'expected.json') as fh:
        return json.load(fh)['files']


@pytest.fixture(scope='session')
def corpus_dir():
    """The public capture corpus (../shared/corpus from the repo root)."""
    if not (CORPUS / 'pcap').is_dir():
        pytest.skip('public DNS corpus not found at %s (expected ../shared/corpus next to the repo)'
                    % CORPUS)
    return CORPUS


@pytest.fixture(scope='session')
def dnsprobe_bin():
    path = pathlib.Path(os.environ.get('DNSPROBE') or REPO / 'build' / 'dnsprobe')
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail('dnsprobe binary not found or not executable: %s '
                    '(build it, e.g. `meson setup build && ninja -C build`, or set DNSPROBE=/path)'
                    % path, pytrace=False)
    return path


@pytest.fixture(scope='session')
def dnsprobe(dnsprobe_bin, tmp_path_factory):
    return Dnsprobe(dnsprobe_bin, tmp_path_factory.mktemp('dnsprobe-runs'))


def untimed(summary):
    """A parsed summary without the seconds the run took, which differ from run to run."""
    if summary is None:
        return None
    summary = dict(summary)
    summary['capture'] = {k: v for k, v in summary.get('capture', {}).items()
                          if k not in ('elapsed_s', 'receiving_s')}
    return summary
