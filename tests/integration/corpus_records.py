# corpus_records: every record dnsprobe writes for the public corpus (../shared/corpus/pcap),
# each file replayed on its own as test_conformance does, computed once per test session.

import concurrent.futures
import os

_cache = {}


def corpus_records(dnsprobe, corpus_dir):
    """Records of every corpus file that replays cleanly, in file order."""
    key = str(corpus_dir)
    if key not in _cache:
        files = sorted((corpus_dir / 'pcap').iterdir())
        with concurrent.futures.ThreadPoolExecutor(max(1, os.cpu_count() or 1)) as pool:
            runs = list(pool.map(lambda f: dnsprobe.replay([f]), files))
        records = []
        for run in runs:
            if run.rc == 0:
                records += run.records()
        _cache[key] = records
    return _cache[key]
