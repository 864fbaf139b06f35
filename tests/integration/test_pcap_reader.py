# test_pcap_reader: `dnsprobe replay` reads a classic pcap file that is a regular file itself,
# in blocks of 1 MiB (pcap/pcap_blocks.c), and anything else (a pipe, pcapng) through libpcap.
# These tests replay the same bytes both ways - the file itself, then the file piped into
# /dev/stdin - and check that the records, the counts, the exit status and the warning agree:
# for microsecond and nanosecond files in both byte orders, for the test captures and the public
# corpus, for files cut short at every kind of place, for records whose captured length is
# bigger than the file's snapshot length or than libpcap's maximum, and for a capture of several
# blocks with records across every kind of block boundary.  They also check that the block
# reader reads in blocks, and that replaying a big file keeps the resident set small.

import json
import random
import re
import shutil
import struct
import subprocess
import sys
from decimal import Decimal

import pytest
from scapy.all import DNS, DNSQR, DNSRR, IP, UDP, CookedLinux, Ether, IPv6, PcapWriter

from conftest import ASAN, CAPTURES, CORPUS, RUN_TIMEOUT, SANITIZER_MARKS, run_env, untimed

FILE_HEADER = 24
RECORD_HEADER = 16
LIBPCAP_MAX_CAPLEN = 262144
CLASSIC_MAGICS = {b'\xd4\xc3\xb2\xa1', b'\xa1\xb2\xc3\xd4',   # microseconds
                  b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d'}   # nanoseconds


class Replay:
    """One `dnsprobe replay` of one capture, with the path it was given replaced by FILE in its
    standard error so that two runs of the same bytes compare equal."""

    def __init__(self, proc, path, records, summary):
        self.rc = proc.returncode
        self.stderr = proc.stderr.decode('utf-8', 'replace').replace(str(path), 'FILE')
        self.records = records
        self.summary = summary

    def warnings(self):
        return [line for line in self.stderr.splitlines() if 'warning' in line]

    def outcome(self):
        return {'exit': self.rc, 'stderr': self.stderr, 'records': self.records,
                'summary': untimed(json.loads(self.summary) if self.summary else None)}

    def check_no_crash(self):
        assert self.rc >= 0, 'dnsprobe was killed by signal %d\n%s' % (-self.rc, self.stderr)
        mark = next((m for m in SANITIZER_MARKS if m in self.stderr), None)
        assert mark is None, 'sanitizer report:\n' + self.stderr


def replay(dnsprobe_bin, tmp_path, path, label, piped=False):
    """Replays path: as a file (read in blocks) or, with piped, through a pipe into
    /dev/stdin (read by libpcap)."""
    out = tmp_path / (label + '.jsonl')
    summary = tmp_path / (label + '.summary.json')
    given = '/dev/stdin' if piped else path
    cmd = [str(dnsprobe_bin), 'replay', str(given), '--output', str(out),
           '--summary-json', str(summary)]
    if piped:
        feed = {'input': path.read_bytes()}
    else:
        feed = {'stdin': subprocess.DEVNULL}
    proc = subprocess.run(cmd, capture_output=True, timeout=RUN_TIMEOUT, env=run_env(), **feed)
    records = out.read_bytes() if out.exists() else None
    summary_text = summary.read_text() if summary.exists() else None
    for leftover in (out, summary):
        if leftover.exists():
            leftover.unlink()
    return Replay(proc, given, records, summary_text)


def blocks_and_piped(dnsprobe_bin, tmp_path, path):
    blocks = replay(dnsprobe_bin, tmp_path, path, 'blocks')
    piped = replay(dnsprobe_bin, tmp_path, path, 'piped', piped=True)
    blocks.check_no_crash()
    piped.check_no_crash()
    return blocks, piped


def assert_same(blocks, piped, what):
    assert blocks.outcome() == piped.outcome(), (
        '%s: the file read in blocks and the piped file differ\n'
        'blocks: exit %s\n%s\npiped: exit %s\n%s'
        % (what, blocks.rc, blocks.stderr, piped.rc, piped.stderr))

# --------------------------------------------------------------------------
# Building captures.
# --------------------------------------------------------------------------


def dns_packets(link):
    """UDP DNS queries and answers over IPv4 and IPv6, with the link header of link."""
    if link == 'ethernet':
        def frame(l3):
            return Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02') / l3
    else:
        def frame(l3):
            return CookedLinux(pkttype=0, lladdrtype=1, lladdrlen=6, src=b'\x02\0\0\0\0\x01') / l3
    packets = []
    for i in range(6):
        name = 'host%d.example.com' % i
        ip = IP(src='192.0.2.1', dst='198.51.100.53') if i % 2 == 0 else \
            IPv6(src='2001:db8::1', dst='2001:db8::53')
        query = frame(ip / UDP(sport=40000 + i, dport=53) /
                      DNS(id=i + 1, rd=1, qd=DNSQR(qname=name, qtype='A')))
        answer = frame(ip.copy() / UDP(sport=53, dport=40000 + i) /
                       DNS(id=i + 1, qr=1, rd=1, ra=1, qd=DNSQR(qname=name, qtype='A'),
                           an=DNSRR(rrname=name, type='A', ttl=300, rdata='203.0.113.%d' % i)))
        packets += [query, answer]
    # Fractions that need nanoseconds, and seconds after 2038 (read unsigned).
    times = [Decimal('1381236696.123456789'), Decimal('1381236696.999999999'),
             Decimal('1381236697.000000001'), Decimal('1700000000.5'),
             Decimal('2200000000.25'), Decimal('4000000000.000123456')]
    for i, packet in enumerate(packets):
        packet.time = times[i % len(times)] + i
    return packets


def write_capture(path, link, nanoseconds):
    linktype = 1 if link == 'ethernet' else 113
    writer = PcapWriter(str(path), linktype=linktype, nano=nanoseconds, sync=True)
    for packet in dns_packets(link):
        writer.write(packet)
    writer.close()
    return path


def file_byte_order(data):
    return '<' if data[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'


def records_of(data):
    """(offset, caplen) of each record of a classic pcap file that is not cut short."""
    order = file_byte_order(data)
    offset, found = FILE_HEADER, []
    while offset + RECORD_HEADER <= len(data):
        caplen = struct.unpack(order + 'I', data[offset + 8:offset + 12])[0]
        found.append((offset, caplen))
        offset += RECORD_HEADER + caplen
    return found


def to_big_endian(data):
    """The same capture with its file and record headers written big-endian."""
    assert file_byte_order(data) == '<'
    header = struct.unpack('<IHHiIII', data[:FILE_HEADER])
    out = bytearray(struct.pack('>IHHiIII', *header))
    for offset, caplen in records_of(data):
        fields = struct.unpack('<IIII', data[offset:offset + RECORD_HEADER])
        out += struct.pack('>IIII', *fields)
        out += data[offset + RECORD_HEADER:offset + RECORD_HEADER + caplen]
    return bytes(out)


def patch_record(data, index, seconds=None, fraction=None, caplen=None):
    """Sets fields of the index-th record header (in the file's byte order)."""
    order = file_byte_order(data)
    offset = records_of(data)[index][0]
    fields = list(struct.unpack(order + 'IIII', data[offset:offset + RECORD_HEADER]))
    for i, value in enumerate((seconds, fraction, caplen)):
        if value is not None:
            fields[i] = value
    return data[:offset] + struct.pack(order + 'IIII', *fields) + data[offset + RECORD_HEADER:]


def set_snaplen(data, snaplen):
    return data[:16] + struct.pack(file_byte_order(data) + 'I', snaplen) + data[20:]


FORMATS = {
    'microseconds-little-endian': (False, False),
    'nanoseconds-little-endian': (True, False),
    'microseconds-big-endian': (False, True),
    'nanoseconds-big-endian': (True, True),
}


@pytest.fixture(params=sorted(FORMATS))
def capture_format(request):
    return request.param


def make_capture(tmp_path, fmt, link='ethernet'):
    nanoseconds, big_endian = FORMATS[fmt]
    path = write_capture(tmp_path / ('%s-%s.pcap' % (fmt, link)), link, nanoseconds)
    data = path.read_bytes()
    assert data[:4] == (b'\x4d\x3c\xb2\xa1' if nanoseconds else b'\xd4\xc3\xb2\xa1'), \
        'scapy wrote an unexpected magic number'
    if big_endian:
        path.write_bytes(to_big_endian(data))
    return path

# --------------------------------------------------------------------------
# The same records both ways.
# --------------------------------------------------------------------------


@pytest.mark.parametrize('link', ['ethernet', 'linux-sll'])
def test_formats_read_the_same_both_ways(dnsprobe_bin, tmp_path, capture_format, link):
    path = make_capture(tmp_path, capture_format, link)
    blocks, piped = blocks_and_piped(dnsprobe_bin, tmp_path, path)
    assert blocks.rc == 0, blocks.stderr
    assert blocks.records and blocks.records.count(b'\n') == 12, blocks.records
    assert_same(blocks, piped, path.name)


def test_big_endian_file_gives_the_records_of_the_little_endian_one(dnsprobe_bin, tmp_path):
    little = make_capture(tmp_path, 'nanoseconds-little-endian')
    big = make_capture(tmp_path, 'nanoseconds-big-endian')
    assert little.read_bytes() != big.read_bytes()
    assert replay(dnsprobe_bin, tmp_path, little, 'little').records == \
        replay(dnsprobe_bin, tmp_path, big, 'big').records


def test_odd_timestamps_read_the_same(dnsprobe_bin, tmp_path, capture_format):
    """A fraction of a second out of range, or above 2**31 (libpcap reads it signed)."""
    data = make_capture(tmp_path, capture_format).read_bytes()
    for index, fraction in ((0, 1999999), (1, 0xFFFFFFFF), (2, 0x80000000), (3, 999999999)):
        data = patch_record(data, index, fraction=fraction)
    data = patch_record(data, 4, seconds=0xFFFFFFFF)
    path = tmp_path / 'odd-times.pcap'
    path.write_bytes(data)
    blocks, piped = blocks_and_piped(dnsprobe_bin, tmp_path, path)
    assert_same(blocks, piped, capture_format)


def classic_pcaps():
    found = sorted(CAPTURES.glob('*.pcap')) + sorted((CAPTURES / 'hostile').glob('*.pcap'))
    if (CORPUS / 'pcap').is_dir():
        found += sorted((CORPUS / 'pcap').iterdir())
    return [p for p in found if p.is_file() and p.read_bytes()[:4] in CLASSIC_MAGICS]


@pytest.mark.parametrize('path', classic_pcaps(), ids=lambda p: p.name)
def test_shipped_captures_read_the_same(dnsprobe_bin, tmp_path, path):
    blocks, piped = blocks_and_piped(dnsprobe_bin, tmp_path, path)
    assert_same(blocks, piped, path.name)


# --------------------------------------------------------------------------
# Captures bigger than the block reader's buffer.
# --------------------------------------------------------------------------

BUFFER_SIZE = 1 << 20   # BUFFER_SIZE in pcap_blocks.c


def dns_frames_by_size():
    """Ethernet frames of UDP DNS answers of many sizes, smallest first: names of different
    lengths, with none to nine answers."""
    frames = []
    for i in range(40):
        name = ('n%d.' % i) + 'a' * (i % 30) + '.example.com'
        answers = None
        for k in range(i // 4):
            rr = DNSRR(rrname=name, type='A', ttl=60, rdata='203.0.113.%d' % k)
            answers = rr if answers is None else answers / rr
        packet = (Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02') /
                  IP(src='198.51.100.53', dst='192.0.2.1') / UDP(sport=53, dport=41000 + i) /
                  DNS(id=i + 1, qr=1, rd=1, ra=1, qd=DNSQR(qname=name, qtype='A'), an=answers))
        frames.append(bytes(packet))
    return sorted(frames, key=len)


class PcapBytes:
    """A little-endian microsecond pcap file built in memory, one record at a time."""

    def __init__(self):
        self.parts = [struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)]
        self.size = FILE_HEADER
        self.offsets = []

    def add(self, frame, index):
        self.offsets.append(self.size)
        seconds, micros = 1700000000 + index // 1000, (index % 1000) * 1000 + 7
        self.parts.append(struct.pack('<IIII', seconds, micros, len(frame), len(frame)))
        self.parts.append(frame)
        self.size += RECORD_HEADER + len(frame)

    def bytes(self):
        return b''.join(self.parts)


# Where a record starts relative to the end of the data in the reader's buffer, one for each
# refill in turn (then again): its header cut, its header whole and its data not there, its data
# cut, and a record ending exactly where the buffer does.
BOUNDARY_PLACES = (-8, -RECORD_HEADER, -RECORD_HEADER - 100, 0)


def blocks_capture(packets, seed=1):
    """About packets records of varied sizes (about 400 bytes on average) whose places around
    the reader's refills cycle through BOUNDARY_PLACES, so that records straddle the end of the
    buffer in every way. The reader fills the buffer from the first record it does not hold
    whole: the buffer ends BUFFER_SIZE bytes after that record starts. Returns the file's bytes
    and the offsets of the records whose header is cut."""
    frames = dns_frames_by_size()
    smallest, largest_random = len(frames[0]), 750
    sizes = random.Random(seed)
    capture = PcapBytes()
    buffer_end = FILE_HEADER + BUFFER_SIZE
    refills, header_cut = 0, []

    def frame_of_size(size):
        frame = max((f for f in frames if len(f) <= size), key=len)
        return frame + b'\0' * (size - len(frame))  # an Ethernet trailer

    while len(capture.offsets) < packets:
        place = BOUNDARY_PLACES[refills % len(BOUNDARY_PLACES)]
        target = buffer_end + place   # where the record after this one is to start
        room = target - capture.size - RECORD_HEADER
        if room < largest_random + RECORD_HEADER + smallest:
            size = room   # one more random record could leave too little room
        else:
            size = sizes.randint(smallest, largest_random)
        capture.add(frame_of_size(size), len(capture.offsets))
        if capture.size == target:
            if place == -8:
                header_cut.append(capture.size)
            # The next record is the first the buffer does not hold whole.
            buffer_end = capture.size + BUFFER_SIZE
            refills += 1
    assert refills >= 2 * len(BOUNDARY_PLACES), 'too few refills: %d' % refills
    return capture.bytes(), header_cut


@pytest.fixture(scope='module')
def big_capture(tmp_path_factory):
    path = tmp_path_factory.mktemp('blocks') / 'blocks-20000.pcap'
    data, header_cut = blocks_capture(20000)
    path.write_bytes(data)
    return path, header_cut


def test_capture_of_many_blocks_reads_the_same(dnsprobe_bin, tmp_path, big_capture):
    path, _header_cut = big_capture
    assert path.stat().st_size > 6 * BUFFER_SIZE
    blocks, piped = blocks_and_piped(dnsprobe_bin, tmp_path, path)
    assert blocks.rc == 0 and blocks.warnings() == [], blocks.stderr
    assert blocks.records.count(b'\n') == len(records_of(path.read_bytes()))
    assert_same(blocks, piped, path.name)


def test_capture_of_many_blocks_cut_in_a_header_at_a_buffer_end(dnsprobe_bin, tmp_path,
                                                               big_capture):
    path, header_cut = big_capture
    cut = path.read_bytes()[:header_cut[1] + 8]
    cut_path = tmp_path / 'cut-at-refill.pcap'
    cut_path.write_bytes(cut)
    blocks, piped = blocks_and_piped(dnsprobe_bin, tmp_path, cut_path)
    assert_same(blocks, piped, 'cut in the header of the record at %d' % header_cut[1])
    assert blocks.warnings() and 'tried to read 16 header bytes, only got 8' in \
        blocks.warnings()[0], blocks.stderr


def test_a_regular_file_is_read_in_blocks_and_a_pipe_through_libpcap(dnsprobe_bin, tmp_path,
                                                                     big_capture):
    """Guards the comparisons above: they mean something only if the two runs really take
    different readers. The file's records are read a mebibyte at a time, never a record at a
    time, and the file is not mapped."""
    strace = shutil.which('strace')
    if not strace:
        pytest.skip('strace not installed')
    path, _header_cut = big_capture
    size = path.stat().st_size
    packets = len(records_of(path.read_bytes()))

    env = run_env()
    env['ASAN_OPTIONS'] = 'detect_leaks=0'  # LeakSanitizer cannot run under ptrace

    def reads_of_the_capture(piped):
        """The sizes asked for by each read() of the capture, and the trace."""
        log = tmp_path / ('strace-%s.log' % piped)
        # -f: the capture is read on the runner's lane thread
        cmd = [strace, '-f', '-o', str(log), '-e', 'trace=openat,read,pread64,mmap',
               '-e', 'read=none', '-s', '0',
               str(dnsprobe_bin), 'replay', '/dev/stdin' if piped else str(path), '--discard']
        subprocess.run(cmd, input=path.read_bytes() if piped else None, capture_output=True,
                       check=True, timeout=RUN_TIMEOUT, env=env)
        trace = log.read_text()
        name = '/dev/stdin' if piped else str(path)
        opened = re.search(r'openat\(AT_FDCWD, "%s", [^)]*\) = (\d+)' % re.escape(name), trace)
        assert opened, 'the capture was not opened:\n' + trace
        fd, after_open = opened.group(1), trace[opened.end():]
        assert not re.search(r'mmap\([^)]*, %s, 0\)' % fd, after_open), 'the capture was mapped'
        read_call = r'^(?:\d+ +)?read\(%s, "?[^,]*, (\d+)\)' % fd
        asked = [int(m.group(1)) for m in re.finditer(read_call,
                                                      after_open, re.M)]
        return asked, trace

    asked, trace = reads_of_the_capture(False)
    blocks = [n for n in asked if n >= BUFFER_SIZE // 2]
    assert len(blocks) >= size // BUFFER_SIZE, trace
    assert len(asked) <= size // (BUFFER_SIZE // 2) + 4, 'too many reads for %d packets:\n%s' % (
        packets, trace)
    piped_asked, trace = reads_of_the_capture(True)
    assert piped_asked and max(piped_asked) < BUFFER_SIZE // 2, trace


def test_replaying_a_big_file_keeps_the_resident_set_small(dnsprobe_bin, tmp_path):
    """Reads a 50 MB capture; the file's pages must not count in the probe's peak resident set,
    as they would if the file were mapped."""
    if ASAN:
        pytest.skip('a sanitizer build has its own memory overhead')
    frame = max((f for f in dns_frames_by_size() if len(f) <= 500), key=len)
    frame += b'\0' * (500 - len(frame))
    record_data = struct.pack('<II', len(frame), len(frame)) + frame
    count = 50 * 1000 * 1000 // (RECORD_HEADER + len(frame))
    capture = PcapBytes()
    capture.parts += [struct.pack('<II', 1700000000 + i // 1000000, i % 1000000) + record_data
                      for i in range(count)]
    path = tmp_path / 'big.pcap'
    path.write_bytes(capture.bytes())
    measure = ('import resource, subprocess, sys\n'
               'subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n'
               'print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n')
    proc = subprocess.run([sys.executable, '-c', measure, str(dnsprobe_bin), 'replay', str(path),
                           '--discard', '--summary-json', str(tmp_path / 'summary.json')],
                          capture_output=True, timeout=RUN_TIMEOUT, env=run_env(), text=True)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / 'summary.json').read_text())
    assert summary['packets'] == count, summary
    peak_kib = int(proc.stdout)
    assert peak_kib < 30 * 1024, 'peak resident set %d KiB for a %d MB file' % (
        peak_kib, path.stat().st_size // 1000000)

# --------------------------------------------------------------------------
# Files cut short.
# --------------------------------------------------------------------------


def cut_points(data):
    """Places to cut a capture: at a record boundary, inside a record header, right after a
    header, inside the data."""
    points = []
    for offset, caplen in records_of(data)[1:]:
        points += [offset, offset + 1, offset + 8, offset + RECORD_HEADER - 1,
                   offset + RECORD_HEADER, offset + RECORD_HEADER + 1,
                   offset + RECORD_HEADER + caplen - 1]
    return points


def test_cut_files_read_the_same(dnsprobe_bin, tmp_path, capture_format):
    full_path = make_capture(tmp_path, capture_format)
    data = full_path.read_bytes()
    full = replay(dnsprobe_bin, tmp_path, full_path, 'full')
    assert full.rc == 0
    path = tmp_path / 'cut.pcap'
    boundaries = {offset for offset, _caplen in records_of(data)}
    for cut in cut_points(data):
        path.write_bytes(data[:cut])
        blocks, piped = blocks_and_piped(dnsprobe_bin, tmp_path, path)
        assert_same(blocks, piped, 'cut at byte %d' % cut)
        assert blocks.rc == 0, blocks.stderr
        assert full.records.startswith(blocks.records), 'cut at byte %d: not a prefix' % cut
        complete = sum(1 for offset, caplen in records_of(data)
                       if offset + RECORD_HEADER + caplen <= cut)
        assert blocks.records.count(b'\n') == complete, 'cut at byte %d' % cut
        if cut in boundaries:
            assert blocks.warnings() == [], blocks.stderr
        else:
            assert len(blocks.warnings()) == 1, blocks.stderr
            assert 'truncated dump file' in blocks.warnings()[0], blocks.stderr

# --------------------------------------------------------------------------
# Captured lengths bigger than the snapshot length or than libpcap's maximum.
# --------------------------------------------------------------------------


@pytest.mark.parametrize('caplen', [LIBPCAP_MAX_CAPLEN + 1, 0x7FFFFFFF, 0xFFFFFFFF])
@pytest.mark.parametrize('data_follows', [True, False], ids=['data-follows', 'file-ends'])
def test_caplen_over_the_maximum_is_one_warning(dnsprobe_bin, tmp_path, capture_format, caplen,
                                                data_follows):
    data = make_capture(tmp_path, capture_format).read_bytes()
    third = records_of(data)[2][0]
    data = patch_record(data, 2, caplen=caplen)
    following = b'\0' * (LIBPCAP_MAX_CAPLEN + 1) if data_follows else b''
    data = data[:third + RECORD_HEADER] + following
    path = tmp_path / 'too-long.pcap'
    path.write_bytes(data)
    blocks, piped = blocks_and_piped(dnsprobe_bin, tmp_path, path)
    assert_same(blocks, piped, 'caplen %d' % caplen)
    assert blocks.rc == 0
    assert blocks.records.count(b'\n') == 2
    assert len(blocks.warnings()) == 1, blocks.stderr
    assert 'invalid packet capture length %d' % caplen in blocks.warnings()[0], blocks.stderr


@pytest.mark.parametrize('snaplen', [1, 60, 100])
def test_records_longer_than_the_snapshot_length_are_cut_to_it(dnsprobe_bin, tmp_path,
                                                              capture_format, snaplen):
    data = set_snaplen(make_capture(tmp_path, capture_format).read_bytes(), snaplen)
    path = tmp_path / 'snaplen.pcap'
    path.write_bytes(data)
    blocks, piped = blocks_and_piped(dnsprobe_bin, tmp_path, path)
    assert_same(blocks, piped, 'snaplen %d' % snaplen)
    assert blocks.rc == 0 and blocks.warnings() == [], blocks.stderr
    # Then cut inside the snapshot part of a record, and after it.
    second, caplen = records_of(data)[1]
    assert caplen > snaplen
    for cut in (second + RECORD_HEADER + snaplen - 1, second + RECORD_HEADER + caplen - 1):
        path.write_bytes(data[:cut])
        blocks, piped = blocks_and_piped(dnsprobe_bin, tmp_path, path)
        assert_same(blocks, piped, 'snaplen %d, cut at %d' % (snaplen, cut))
        assert len(blocks.warnings()) == 1 and 'truncated' in blocks.warnings()[0], blocks.stderr
