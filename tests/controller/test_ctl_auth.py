"""Who may do what on synwalld's API, with real TLS (certificates made by openssl in the test):
the TCP listener takes only clients whose certificate the configured client CA signed, and
gives each a role from its certificate's subject: an admin may call everything, a reader only
what changes nothing and shows no secret (PERMISSION_DENIED otherwise, with nothing changed);
a client without a certificate, or with one of another CA, is refused. The Unix socket stays
an admin's. Configs sent through the API name no files."""

import json

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from synwall import cli
from synwall.client import Client
from synwall.errors import SynwallError
from synwall.v1 import admin_pb2 as pb
from tests.controller.pki import Pki

MASTER = bytes(range(16))


@pytest.fixture
def pki(tmp_path):
    d = tmp_path / "pki"
    d.mkdir()
    p = Pki(d)
    p.alice = p.client("alice", "/O=Example/OU=netops/CN=alice")       # admin by OU
    p.bob = p.client("bob", "/CN=bob")                                 # admin by CN
    p.grafana = p.client("grafana", "/OU=monitoring/CN=grafana")       # reads
    p.mallory = p.client("mallory", "/CN=mallory")                     # signed, no role
    p.stranger = p.client("stranger", "/OU=netops/CN=alice", ca="otherca")
    return p


def tls_env(env_factory, pki, read_clients=None):
    api = ('tcp = "127.0.0.1:0"\ntls_cert = "%s"\ntls_key = "%s"\ntls_client_ca = "%s"\n'
           'admin_clients = ["OU=netops", "CN=bob"]\n'
           % (pki.server.cert, pki.server.key, pki.client_ca))
    if read_clients is not None:
        api += "read_clients = %s\n" % json.dumps(read_clients)
    env = env_factory("fake", api_extra=api)
    env.config_path.write_text(env.config_text + '[[policy]]\nports = "80"\nmode = "proxy"\n')
    return env.start()


def tcp_client(env, pki, who=None, **kw):
    c = Client(addr="127.0.0.1:%d" % env.daemon.api.tcp_port, tls_ca=str(pki.server.cert),
               tls_cert=str(who.cert) if who else None, tls_key=str(who.key) if who else None,
               timeout=10, **kw)
    env.clients.append(c)
    return c


# Every call that changes something (or shows a secret, or is a change's dry run), as a
# reader would try it.
ADMIN_CALLS = [
    ("SetPolicy", lambda c: c.set_policy("443", "proxy")),
    ("DeletePolicy", lambda c: c.delete_policy("80")),
    ("SetLimits", lambda c: c.set_limits(rexmtlimit=1)),
    ("RotateKeys", lambda c: c.rotate_keys()),
    ("SetKeySchedule", lambda c: c.set_key_schedule(master_secret=MASTER)),
    ("ApplyConfig", lambda c: c.apply_config('[[policy]]\nports = "22"\nmode = "drop"\n')),
    ("ValidateConfig", lambda c: c.validate_config('[[policy]]\nports = "22"\nmode = "drop"\n')),
    ("FlushSyncache", lambda c: c.flush_syncache()),
    ("DumpSyncache", lambda c: list(c.dump_syncache())),
    ("SaveConfig", lambda c: c.save_config()),
    ("RestartDataplane", lambda c: c.restart_dataplane()),
    ("UpgradeDataplane", lambda c: c.upgrade_dataplane("/bin/true")),
]
READ_CALLS = [
    ("GetStatus", lambda c: c.status()),
    ("GetCounters", lambda c: c.counters()),
    ("WatchCounters", lambda c: list(c.watch_counters(0.1, count=2))),
    ("GetPorts", lambda c: c.ports()),
    ("GetLimits", lambda c: c.limits()),
    ("ListPolicies", lambda c: c.policies()),
    ("GetKeyStatus", lambda c: c.key_status()),
    ("GetRunningConfig", lambda c: c.running_config()),
    ("GetBootConfig", lambda c: c.boot_config()),
]


def state(env):
    """What a refused call must leave as it was (read on the Unix socket)."""
    c = env.client()
    k = c.key_status()
    return (c.limits(), c.policies(), k.derived_from_master, k.epoch,
            env.config_path.read_text(), env.config_path.with_name("synwall.toml.bak").exists(),
            c.status().dataplane_pid)


def test_a_reader_reads_and_changes_nothing(env_factory, pki):
    env = tls_env(env_factory, pki)
    reader = tcp_client(env, pki, pki.grafana)
    for _, call in READ_CALLS:
        call(reader)
    assert reader.status().dataplane_running
    before = state(env)
    for name, call in ADMIN_CALLS:
        with pytest.raises(SynwallError) as ei:
            call(reader)
        e = ei.value
        assert e.code == "PERMISSION_DENIED", (name, repr(e))
        assert e.message == ("%s needs the admin role: client CN=grafana,OU=monitoring may "
                             "only read (the admins are api.admin_clients)" % name), e.message
    assert state(env) == before, "a refused call changed something"
    # the standard services are a reader's too
    health = health_pb2_grpc.HealthStub(reader._channel)
    assert health.Check(health_pb2.HealthCheckRequest(), timeout=10).status == \
        health_pb2.HealthCheckResponse.SERVING
    refl = reflection_pb2_grpc.ServerReflectionStub(reader._channel)
    resp = next(refl.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(
        list_services="")]), timeout=10))
    assert "synwall.v1.Admin" in {x.name for x in resp.list_services_response.service}


@pytest.mark.parametrize("admin", ["alice", "bob"], ids=["by OU", "by CN"])
def test_an_admin_may_do_everything(env_factory, pki, admin):
    env = tls_env(env_factory, pki)
    c = tcp_client(env, pki, getattr(pki, admin))
    for _, call in READ_CALLS:
        call(c)
    c.set_policy("443", "proxy")
    c.set_limits(rexmtlimit=1)
    c.rotate_keys()
    assert c.set_key_schedule(master_secret=MASTER).derived_from_master
    c.validate_config('[[policy]]\nports = "22"\nmode = "drop"\n')
    c.apply_config('[limits]\nrexmtlimit = 2\n[[policy]]\nports = "22"\nmode = "drop"\n')
    c.flush_syncache()
    list(c.dump_syncache())
    assert [(p.ports, p.mode) for p in c.policies()] == [("22", "drop")]
    assert c.limits().rexmtlimit == 2
    assert c.save_config().boot_file == str(env.config_path)
    assert '"22"' in env.config_path.read_text()
    pid = env.dp_pid()
    assert c.restart_dataplane().old_pid == pid and env.dp_pid() != pid
    binary = env.workdir / "fake-synwall-dp"
    assert c.upgrade_dataplane(str(binary)).binary == str(binary)


def test_a_reader_sees_the_running_config_without_the_master_secret(env_factory, pki):
    env = tls_env(env_factory, pki)
    env.client().set_key_schedule(master_secret=MASTER)
    reader = tcp_client(env, pki, pki.grafana)
    for doc in (reader.running_config(), reader.boot_config()):
        assert MASTER.hex() not in doc.toml and doc.boot_file == str(env.config_path)
    assert "fingerprint %s" % reader.key_status().master_fingerprint in \
        reader.running_config().toml


@pytest.mark.parametrize("who", [None, "stranger"], ids=["no certificate", "another CA"])
def test_a_client_without_a_certificate_of_the_client_ca_is_refused(env_factory, pki, who):
    env = tls_env(env_factory, pki)
    before = state(env)
    c = tcp_client(env, pki, getattr(pki, who) if who else None)
    for call in (lambda c: c.status(), lambda c: c.set_key_schedule(master_secret=MASTER)):
        with pytest.raises(SynwallError) as ei:
            call(c)
        e = ei.value
        assert e.code == "UNAUTHENTICATED", repr(e)
        assert "refused the TLS handshake" in e.message and "api.tls_client_ca" in \
            e.message and "\n" not in e.message, e.message
    assert state(env) == before


def test_read_clients_limits_who_reads(env_factory, pki):
    env = tls_env(env_factory, pki, read_clients=["CN=grafana"])
    assert tcp_client(env, pki, pki.grafana).status().dataplane_running
    assert tcp_client(env, pki, pki.alice).policies()  # an admin reads anyway
    with pytest.raises(SynwallError) as ei:
        tcp_client(env, pki, pki.mallory).status()
    assert ei.value.code == "PERMISSION_DENIED"
    assert ei.value.message == ("client CN=mallory has no role: it is in neither "
                                "api.admin_clients nor api.read_clients")


def test_the_unix_socket_is_an_admins(env_factory, pki):
    env = tls_env(env_factory, pki)
    c = env.client()
    c.set_policy("443", "proxy")
    assert c.set_key_schedule(master_secret=MASTER).derived_from_master


def test_synwallctl_over_mutual_tls(env_factory, pki, capsys):
    env = tls_env(env_factory, pki)
    addr = "127.0.0.1:%d" % env.daemon.api.tcp_port

    def ctl(who, *args):
        capsys.readouterr()
        creds = ["--tls-cert", str(who.cert), "--tls-key", str(who.key)] if who else []
        rc = cli.main(["--timeout", "10", "--addr", addr, "--tls-ca", str(pki.server.cert),
                       *creds, *args])
        return (rc,) + capsys.readouterr()

    rc, out, err = ctl(pki.grafana, "--json", "status")
    assert rc == 0 and json.loads(out)["dataplane_running"], err
    rc, out, err = ctl(pki.grafana, "policy", "set", "443", "proxy")
    assert (rc, out) == (1, "") and err == (
        "synwallctl: SetPolicy needs the admin role: client CN=grafana,OU=monitoring may "
        "only read (the admins are api.admin_clients)\n"), err
    rc, out, err = ctl(pki.alice, "policy", "set", "443", "proxy")
    assert rc == 0 and "443" in out, err
    rc, out, err = ctl(None, "status")
    assert rc == 1 and err.count("\n") == 1 and "refused the TLS handshake" in err, err


def test_a_grpc_client_sees_the_status_codes(env_factory, pki):
    """The raw gRPC view (what grpcurl or another client sees): PERMISSION_DENIED from the
    server itself."""
    env = tls_env(env_factory, pki)
    creds = grpc.ssl_channel_credentials(pki.server.cert.read_bytes(),
                                         pki.grafana.key.read_bytes(),
                                         pki.grafana.cert.read_bytes())
    with grpc.secure_channel("127.0.0.1:%d" % env.daemon.api.tcp_port, creds) as ch:
        stub = ch.unary_unary("/synwall.v1.Admin/RotateKeys",
                              request_serializer=pb.RotateKeysRequest.SerializeToString,
                              response_deserializer=pb.KeyStatus.FromString)
        with pytest.raises(grpc.RpcError) as ei:
            stub(pb.RotateKeysRequest(), timeout=10)
        assert ei.value.code() == grpc.StatusCode.PERMISSION_DENIED


# --- configs from the API name no files ----------------------------------------------------

PATH_CONFIGS = [
    ("keys", "master_secret_file"), ("api", "tls_cert"), ("api", "tls_key"),
    ("api", "tls_client_ca"), ("api", "unix_socket"), ("dataplane", "binary"),
    ("dataplane", "state_dir"), ("dataplane", "runtime_dir"), ("dataplane", "state_file"),
]


@pytest.mark.parametrize("section,key", PATH_CONFIGS, ids=[k for _, k in PATH_CONFIGS])
@pytest.mark.parametrize("secret", [True, False], ids=["secret file", "no file"])
def test_a_config_from_the_api_names_no_files(env_factory, tmp_path, section, key, secret):
    env = env_factory("fake")
    env.start()
    c = env.client()
    before = state(env)
    target = tmp_path / "x.key"
    if secret:
        target.write_text(MASTER.hex() + "\n")  # a file any path could name
    text = '[%s]\n%s = "%s"\n[[policy]]\nports = "22"\nmode = "drop"\n' % (section, key, target)
    for call in (c.apply_config, c.validate_config):
        with pytest.raises(SynwallError) as ei:
            call(text, "new.toml")
        e = ei.value
        # the same answer whether the file exists or not: the API is no oracle
        assert (e.code, e.field) == ("INVALID_ARGUMENT", "%s.%s" % (section, key)), repr(e)
        assert e.message.startswith("new.toml: %s.%s: names a file on the appliance, and a "
                                    "config sent through the API names no files"
                                    % (section, key)), e.message
    assert state(env) == before
