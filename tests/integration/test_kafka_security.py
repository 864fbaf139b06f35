"""dnsprobe against a real broker with TLS, SASL and mutual TLS (scripts/kafka-dev --security,
a throwaway CA made with openssl): records published over each are read back by a real
consumer (confluent-kafka) with the same client properties; a wrong password, an unknown CA, a
hostname mismatch, an expired certificate and a missing client certificate each fail at start
in one line that says which, exit 2, nothing published. The properties reach the probe through
-F (a file, as kcat reads them), never on the command line."""

import os
import pathlib
import subprocess
import uuid

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

import kafka_helpers as kh
from conftest import CAPTURES, run_env

CAPTURE = CAPTURES / 'rcodes.pcap'


class SecureBroker:
    def __init__(self, folder, security, *extra):
        self.folder = pathlib.Path(folder)
        self.port = kh.free_ports(22092, spans=(0, 1000, 2000))
        self.bootstrap = '127.0.0.1:%d' % self.port
        self.security = security
        self.env = dict(os.environ, KAFKA_DEV_DIR=str(self.folder))
        subprocess.run([str(kh.KAFKA_DEV), '--port', str(self.port), '--security', security,
                        *extra, 'start'], env=self.env, check=True, capture_output=True,
                       timeout=180)
        self.properties = self.folder / 'client.properties'
        self.tls = self.folder / 'tls'

    def client_config(self, **overrides):
        config = {'bootstrap.servers': self.bootstrap}
        for line in self.properties.read_text().splitlines():
            if line and not line.startswith('#'):
                key, value = line.split('=', 1)
                config[key] = value
        config.update(overrides)
        return config

    def create_topic(self, name):
        admin = AdminClient(self.client_config())
        futures = admin.create_topics([NewTopic(name, num_partitions=3, replication_factor=1,
                                                config={'retention.ms': '-1'})])
        for future in futures.values():
            future.result(60)

    def consume_all(self, topic, expected, timeout=60):
        consumer = Consumer(self.client_config(**{'group.id': 'security-test',
                                                  'enable.auto.commit': False}))
        consumer.assign([TopicPartition(topic, p, 0) for p in range(3)])
        values = []
        try:
            for _ in range(timeout):
                for m in consumer.consume(num_messages=1000, timeout=1.0):
                    if not m.error():
                        values.append(m.value())
                if len(values) >= expected:
                    break
        finally:
            consumer.close()
        return values

    def wipe(self):
        subprocess.run([str(kh.KAFKA_DEV), 'wipe'], env=self.env, capture_output=True,
                       timeout=120)


def kafka_build(binary):
    usage = subprocess.run([str(binary), 'replay', '--help'], capture_output=True,
                           text=True).stdout
    if '--brokers' not in usage:
        pytest.skip('%s was built without Kafka support' % binary)


@pytest.fixture(scope='module')
def sasl_broker(dnsprobe_bin, tmp_path_factory):
    kafka_build(dnsprobe_bin)
    broker = SecureBroker(tmp_path_factory.mktemp('kafka-sasl'), 'sasl_ssl')
    yield broker
    broker.wipe()


@pytest.fixture(scope='module')
def mtls_broker(dnsprobe_bin, tmp_path_factory):
    kafka_build(dnsprobe_bin)
    broker = SecureBroker(tmp_path_factory.mktemp('kafka-mtls'), 'mtls')
    yield broker
    broker.wipe()


def replay(dnsprobe, broker, topic, *args, bootstrap=None):
    return dnsprobe.raw(['replay', CAPTURE, '--brokers', bootstrap or broker.bootstrap,
                         '--topic', topic, '-F', broker.properties, *args], timeout=120)


def expected_values(dnsprobe):
    run = dnsprobe.replay([CAPTURE])
    run.check_clean()
    return sorted(run.lines)


@pytest.mark.parametrize('fixture', ['sasl_broker', 'mtls_broker'])
def test_records_published_over_tls_are_read_back(dnsprobe, request, fixture):
    broker = request.getfixturevalue(fixture)
    topic = 'secure-' + uuid.uuid4().hex[:8]
    broker.create_topic(topic)
    run = replay(dnsprobe, broker, topic)
    assert run.rc == 0, run.describe()
    expected = expected_values(dnsprobe)
    assert sorted(broker.consume_all(topic, len(expected))) == expected


def test_secret_stays_out_of_the_command_line(sasl_broker):
    """The password is in the -F file, so ps shows none."""
    assert 'sasl.password=' in sasl_broker.properties.read_text()


def one_line_failure(run, *needles):
    assert run.rc == 2, run.describe()
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.describe()
    for needle in needles:
        assert needle in lines[0], run.describe()
    assert 'delivered' not in run.stderr


def test_wrong_password_fails_at_start(dnsprobe, sasl_broker):
    run = replay(dnsprobe, sasl_broker, 'never', '-X', 'sasl.password=wrong')
    one_line_failure(run, 'SASL authentication', 'sasl.password')


def test_unknown_ca_fails_at_start(dnsprobe, sasl_broker):
    run = replay(dnsprobe, sasl_broker, 'never', '-X',
                 'ssl.ca.location=%s' % (sasl_broker.tls / 'other-ca.pem'))
    one_line_failure(run, 'TLS', 'not signed by a CA', 'ssl.ca.location')


def test_hostname_mismatch_fails_at_start(dnsprobe, sasl_broker):
    """The certificate names 127.0.0.1 only: reaching the broker as localhost must fail."""
    run = replay(dnsprobe, sasl_broker, 'never',
                 bootstrap='localhost:%d' % sasl_broker.port)
    one_line_failure(run, 'TLS', 'hostname mismatch')


def test_missing_client_certificate_fails_at_start(dnsprobe, mtls_broker, tmp_path):
    no_cert = tmp_path / 'no-cert.properties'
    no_cert.write_text('\n'.join(line for line in mtls_broker.properties.read_text().splitlines()
                                 if not line.startswith(('ssl.certificate', 'ssl.key'))) + '\n')
    run = dnsprobe.raw(['replay', CAPTURE, '--brokers', mtls_broker.bootstrap, '--topic',
                        'never', '-F', no_cert], timeout=120)
    assert run.rc == 2, run.describe()
    assert len(run.stderr.strip().splitlines()) == 1, run.describe()


def test_expired_certificate_fails_at_start(dnsprobe, dnsprobe_bin, tmp_path):
    kafka_build(dnsprobe_bin)
    broker = SecureBroker(tmp_path / 'kafka-expired', 'ssl', '--expired-cert')
    try:
        run = replay(dnsprobe, broker, 'never')
        one_line_failure(run, 'TLS', 'expired')
    finally:
        broker.wipe()


def test_kafka_config_file_errors_are_one_line(dnsprobe, tmp_path):
    bad = tmp_path / 'bad.properties'
    bad.write_text('# fine\nsecurity.protocol=SSL\nthis line has no equals sign\n')
    for args, needle in [(['-F', bad], 'line 3'),
                         (['-F', tmp_path / 'missing.properties'], 'cannot read')]:
        run = dnsprobe.raw(['replay', CAPTURE, '--brokers', '127.0.0.1:9', '--topic', 't',
                            *args])
        assert run.rc == 2 and len(run.stderr.strip().splitlines()) == 1, run.describe()
        assert needle in run.stderr and '-F' in run.stderr, run.describe()
