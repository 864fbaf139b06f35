# test_docs: the user documentation agrees with itself and with what is shipped.
# - docs/operations.md's table of contents lists every numbered section, in order, with the
#   anchor GitHub makes of the heading (lower case, punctuation dropped, spaces to dashes).
# - Every relative link in README.md and docs/*.md names a file of the repository (a user's
#   clone has no ../shared/).
# - The --stats-file paths in README.md and docs/operations.md are in the folder the unit may
#   write (its StateDirectory under /var/lib), which ProtectSystem=strict leaves writable.
# - docs/architecture.md's folder table names every folder of probe/ and the backends, and
#   nothing that does not exist.

import re

from conftest import REPO

DOCS = [REPO / 'README.md'] + sorted((REPO / 'docs').glob('*.md'))


def github_anchor(heading):
    return re.sub(r'[^\w\- ]', '', heading.strip().lower()).replace(' ', '-')


def test_operations_table_of_contents_matches_the_sections():
    text = (REPO / 'docs' / 'operations.md').read_text()
    headings = re.findall(r'^## (\d+\. .*)$', text, re.M)
    toc = re.findall(r'^(\d+)\. \[(.*)\]\(#(.*)\)$', text, re.M)
    assert [('%s. %s' % (n, t)) for n, t, _ in toc] == headings
    assert [a for _, _, a in toc] == [github_anchor(h) for h in headings]
    assert [int(n) for n, _, _ in toc] == list(range(1, len(toc) + 1))
    numbers = {int(h.split('.')[0]) for h in headings}
    for doc in DOCS:
        for n in re.findall(r'operations\.md`?,? section (\d+)', doc.read_text()):
            assert int(n) in numbers, '%s cites section %s' % (doc.name, n)


def test_relative_links_name_files_of_the_repository():
    broken = []
    for doc in DOCS:
        for target in re.findall(r'\]\(([^)#:\s]+)(?:#[^)]*)?\)', doc.read_text()):
            if not (doc.parent / target).exists():
                broken.append('%s -> %s' % (doc.relative_to(REPO), target))
    assert not broken, broken


def test_stats_file_paths_are_where_the_unit_may_write():
    unit = (REPO / 'dist' / 'systemd' / 'dnsprobe.service.in').read_text()
    state = re.search(r'^StateDirectory=(\S+)$', unit, re.M).group(1)
    assert re.search(r'^ProtectSystem=strict$', unit, re.M)
    conf = (REPO / 'dist' / 'dnsprobe.conf').read_text()
    paths = re.findall(r'^stats-file (\S+)$', conf, re.M)
    for doc in (REPO / 'README.md', REPO / 'docs' / 'operations.md'):
        paths += re.findall(r'--stats-file (/\S+)', doc.read_text())
        paths += re.findall(r'^stats-file (/\S+)$', doc.read_text(), re.M)
    assert paths
    for path in paths:
        assert path.startswith('/var/lib/%s/' % state), path


def test_architecture_names_every_folder_and_only_folders_that_exist():
    text = (REPO / 'docs' / 'architecture.md').read_text()
    named = set(re.findall(r'^\| `([\w/]+/)`', text, re.M))
    actual = {'probe/%s/' % p.name for p in (REPO / 'probe').iterdir() if p.is_dir()}
    actual |= {'probe/', 'pcap/', 'dpdk/', 'kafka/'}  # probe/ itself: the interface headers
    assert named == actual
