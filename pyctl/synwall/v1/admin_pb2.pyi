from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Mode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODE_UNSPECIFIED: _ClassVar[Mode]
    MODE_PASS: _ClassVar[Mode]
    MODE_PROXY: _ClassVar[Mode]
    MODE_COOKIE: _ClassVar[Mode]
    MODE_DROP: _ClassVar[Mode]

class SourceAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SOURCE_ACTION_UNSPECIFIED: _ClassVar[SourceAction]
    SOURCE_ACTION_DENY: _ClassVar[SourceAction]
    SOURCE_ACTION_ALLOW: _ClassVar[SourceAction]
    SOURCE_ACTION_LIMIT: _ClassVar[SourceAction]

class TopSourcesBy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TOP_SOURCES_BY_SYNS: _ClassVar[TopSourcesBy]
    TOP_SOURCES_BY_BAD_COOKIES: _ClassVar[TopSourcesBy]
    TOP_SOURCES_BY_FLOWS: _ClassVar[TopSourcesBy]
    TOP_SOURCES_BY_SYNS_LIMITED: _ClassVar[TopSourcesBy]
    TOP_SOURCES_BY_SYNACKS_CAPPED: _ClassVar[TopSourcesBy]
MODE_UNSPECIFIED: Mode
MODE_PASS: Mode
MODE_PROXY: Mode
MODE_COOKIE: Mode
MODE_DROP: Mode
SOURCE_ACTION_UNSPECIFIED: SourceAction
SOURCE_ACTION_DENY: SourceAction
SOURCE_ACTION_ALLOW: SourceAction
SOURCE_ACTION_LIMIT: SourceAction
TOP_SOURCES_BY_SYNS: TopSourcesBy
TOP_SOURCES_BY_BAD_COOKIES: TopSourcesBy
TOP_SOURCES_BY_FLOWS: TopSourcesBy
TOP_SOURCES_BY_SYNS_LIMITED: TopSourcesBy
TOP_SOURCES_BY_SYNACKS_CAPPED: TopSourcesBy

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Status(_message.Message):
    __slots__ = ("version", "dataplane_running", "dataplane_pid", "dataplane_restarts", "workers", "config_version", "uptime_seconds", "outside_port", "inside_port", "key_epoch", "dataplane_state", "restart_pending", "dataplane_binary")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DATAPLANE_RUNNING_FIELD_NUMBER: _ClassVar[int]
    DATAPLANE_PID_FIELD_NUMBER: _ClassVar[int]
    DATAPLANE_RESTARTS_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    CONFIG_VERSION_FIELD_NUMBER: _ClassVar[int]
    UPTIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    OUTSIDE_PORT_FIELD_NUMBER: _ClassVar[int]
    INSIDE_PORT_FIELD_NUMBER: _ClassVar[int]
    KEY_EPOCH_FIELD_NUMBER: _ClassVar[int]
    DATAPLANE_STATE_FIELD_NUMBER: _ClassVar[int]
    RESTART_PENDING_FIELD_NUMBER: _ClassVar[int]
    DATAPLANE_BINARY_FIELD_NUMBER: _ClassVar[int]
    version: str
    dataplane_running: bool
    dataplane_pid: int
    dataplane_restarts: int
    workers: int
    config_version: int
    uptime_seconds: float
    outside_port: str
    inside_port: str
    key_epoch: int
    dataplane_state: str
    restart_pending: _containers.RepeatedCompositeFieldContainer[PendingRestart]
    dataplane_binary: str
    def __init__(self, version: _Optional[str] = ..., dataplane_running: _Optional[bool] = ..., dataplane_pid: _Optional[int] = ..., dataplane_restarts: _Optional[int] = ..., workers: _Optional[int] = ..., config_version: _Optional[int] = ..., uptime_seconds: _Optional[float] = ..., outside_port: _Optional[str] = ..., inside_port: _Optional[str] = ..., key_epoch: _Optional[int] = ..., dataplane_state: _Optional[str] = ..., restart_pending: _Optional[_Iterable[_Union[PendingRestart, _Mapping]]] = ..., dataplane_binary: _Optional[str] = ...) -> None: ...

class PendingRestart(_message.Message):
    __slots__ = ("key", "running", "boot")
    KEY_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    BOOT_FIELD_NUMBER: _ClassVar[int]
    key: str
    running: str
    boot: str
    def __init__(self, key: _Optional[str] = ..., running: _Optional[str] = ..., boot: _Optional[str] = ...) -> None: ...

class GetCountersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class WatchCountersRequest(_message.Message):
    __slots__ = ("interval_ms",)
    INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    interval_ms: int
    def __init__(self, interval_ms: _Optional[int] = ...) -> None: ...

class LcoreCounters(_message.Message):
    __slots__ = ("lcore", "counters")
    class CountersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    LCORE_FIELD_NUMBER: _ClassVar[int]
    COUNTERS_FIELD_NUMBER: _ClassVar[int]
    lcore: int
    counters: _containers.ScalarMap[str, int]
    def __init__(self, lcore: _Optional[int] = ..., counters: _Optional[_Mapping[str, int]] = ...) -> None: ...

class Counters(_message.Message):
    __slots__ = ("time_unix_ns", "total", "lcores", "names")
    class TotalEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    TIME_UNIX_NS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    LCORES_FIELD_NUMBER: _ClassVar[int]
    NAMES_FIELD_NUMBER: _ClassVar[int]
    time_unix_ns: int
    total: _containers.ScalarMap[str, int]
    lcores: _containers.RepeatedCompositeFieldContainer[LcoreCounters]
    names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, time_unix_ns: _Optional[int] = ..., total: _Optional[_Mapping[str, int]] = ..., lcores: _Optional[_Iterable[_Union[LcoreCounters, _Mapping]]] = ..., names: _Optional[_Iterable[str]] = ...) -> None: ...

class Limits(_message.Message):
    __slots__ = ("hashsize", "bucketlimit", "flows", "cachelimit", "rexmtlimit", "syncookies", "syncookies_only", "mss", "wscale", "server_retries", "cookie_check_rate", "syn_rate", "syn_burst", "reflect_rate", "reflect_burst")
    HASHSIZE_FIELD_NUMBER: _ClassVar[int]
    BUCKETLIMIT_FIELD_NUMBER: _ClassVar[int]
    FLOWS_FIELD_NUMBER: _ClassVar[int]
    CACHELIMIT_FIELD_NUMBER: _ClassVar[int]
    REXMTLIMIT_FIELD_NUMBER: _ClassVar[int]
    SYNCOOKIES_FIELD_NUMBER: _ClassVar[int]
    SYNCOOKIES_ONLY_FIELD_NUMBER: _ClassVar[int]
    MSS_FIELD_NUMBER: _ClassVar[int]
    WSCALE_FIELD_NUMBER: _ClassVar[int]
    SERVER_RETRIES_FIELD_NUMBER: _ClassVar[int]
    COOKIE_CHECK_RATE_FIELD_NUMBER: _ClassVar[int]
    SYN_RATE_FIELD_NUMBER: _ClassVar[int]
    SYN_BURST_FIELD_NUMBER: _ClassVar[int]
    REFLECT_RATE_FIELD_NUMBER: _ClassVar[int]
    REFLECT_BURST_FIELD_NUMBER: _ClassVar[int]
    hashsize: int
    bucketlimit: int
    flows: int
    cachelimit: int
    rexmtlimit: int
    syncookies: bool
    syncookies_only: bool
    mss: int
    wscale: int
    server_retries: int
    cookie_check_rate: int
    syn_rate: int
    syn_burst: int
    reflect_rate: int
    reflect_burst: int
    def __init__(self, hashsize: _Optional[int] = ..., bucketlimit: _Optional[int] = ..., flows: _Optional[int] = ..., cachelimit: _Optional[int] = ..., rexmtlimit: _Optional[int] = ..., syncookies: _Optional[bool] = ..., syncookies_only: _Optional[bool] = ..., mss: _Optional[int] = ..., wscale: _Optional[int] = ..., server_retries: _Optional[int] = ..., cookie_check_rate: _Optional[int] = ..., syn_rate: _Optional[int] = ..., syn_burst: _Optional[int] = ..., reflect_rate: _Optional[int] = ..., reflect_burst: _Optional[int] = ...) -> None: ...

class GetLimitsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SetLimitsRequest(_message.Message):
    __slots__ = ("hashsize", "bucketlimit", "flows", "cachelimit", "rexmtlimit", "syncookies", "syncookies_only", "mss", "wscale", "server_retries", "cookie_check_rate", "syn_rate", "syn_burst", "reflect_rate", "reflect_burst")
    HASHSIZE_FIELD_NUMBER: _ClassVar[int]
    BUCKETLIMIT_FIELD_NUMBER: _ClassVar[int]
    FLOWS_FIELD_NUMBER: _ClassVar[int]
    CACHELIMIT_FIELD_NUMBER: _ClassVar[int]
    REXMTLIMIT_FIELD_NUMBER: _ClassVar[int]
    SYNCOOKIES_FIELD_NUMBER: _ClassVar[int]
    SYNCOOKIES_ONLY_FIELD_NUMBER: _ClassVar[int]
    MSS_FIELD_NUMBER: _ClassVar[int]
    WSCALE_FIELD_NUMBER: _ClassVar[int]
    SERVER_RETRIES_FIELD_NUMBER: _ClassVar[int]
    COOKIE_CHECK_RATE_FIELD_NUMBER: _ClassVar[int]
    SYN_RATE_FIELD_NUMBER: _ClassVar[int]
    SYN_BURST_FIELD_NUMBER: _ClassVar[int]
    REFLECT_RATE_FIELD_NUMBER: _ClassVar[int]
    REFLECT_BURST_FIELD_NUMBER: _ClassVar[int]
    hashsize: int
    bucketlimit: int
    flows: int
    cachelimit: int
    rexmtlimit: int
    syncookies: bool
    syncookies_only: bool
    mss: int
    wscale: int
    server_retries: int
    cookie_check_rate: int
    syn_rate: int
    syn_burst: int
    reflect_rate: int
    reflect_burst: int
    def __init__(self, hashsize: _Optional[int] = ..., bucketlimit: _Optional[int] = ..., flows: _Optional[int] = ..., cachelimit: _Optional[int] = ..., rexmtlimit: _Optional[int] = ..., syncookies: _Optional[bool] = ..., syncookies_only: _Optional[bool] = ..., mss: _Optional[int] = ..., wscale: _Optional[int] = ..., server_retries: _Optional[int] = ..., cookie_check_rate: _Optional[int] = ..., syn_rate: _Optional[int] = ..., syn_burst: _Optional[int] = ..., reflect_rate: _Optional[int] = ..., reflect_burst: _Optional[int] = ...) -> None: ...

class ServerProfile(_message.Message):
    __slots__ = ("mss", "wscale", "window_scaling", "sack", "timestamps")
    MSS_FIELD_NUMBER: _ClassVar[int]
    WSCALE_FIELD_NUMBER: _ClassVar[int]
    WINDOW_SCALING_FIELD_NUMBER: _ClassVar[int]
    SACK_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMPS_FIELD_NUMBER: _ClassVar[int]
    mss: int
    wscale: int
    window_scaling: bool
    sack: bool
    timestamps: bool
    def __init__(self, mss: _Optional[int] = ..., wscale: _Optional[int] = ..., window_scaling: _Optional[bool] = ..., sack: _Optional[bool] = ..., timestamps: _Optional[bool] = ...) -> None: ...

class Policy(_message.Message):
    __slots__ = ("port_lo", "port_hi", "mode", "profile", "idle_timeout_s")
    PORT_LO_FIELD_NUMBER: _ClassVar[int]
    PORT_HI_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    IDLE_TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    port_lo: int
    port_hi: int
    mode: Mode
    profile: ServerProfile
    idle_timeout_s: int
    def __init__(self, port_lo: _Optional[int] = ..., port_hi: _Optional[int] = ..., mode: _Optional[_Union[Mode, str]] = ..., profile: _Optional[_Union[ServerProfile, _Mapping]] = ..., idle_timeout_s: _Optional[int] = ...) -> None: ...

class ListPoliciesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPoliciesResponse(_message.Message):
    __slots__ = ("policies",)
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    policies: _containers.RepeatedCompositeFieldContainer[Policy]
    def __init__(self, policies: _Optional[_Iterable[_Union[Policy, _Mapping]]] = ...) -> None: ...

class SetPolicyRequest(_message.Message):
    __slots__ = ("policy",)
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: Policy
    def __init__(self, policy: _Optional[_Union[Policy, _Mapping]] = ...) -> None: ...

class DeletePolicyRequest(_message.Message):
    __slots__ = ("port_lo", "port_hi")
    PORT_LO_FIELD_NUMBER: _ClassVar[int]
    PORT_HI_FIELD_NUMBER: _ClassVar[int]
    port_lo: int
    port_hi: int
    def __init__(self, port_lo: _Optional[int] = ..., port_hi: _Optional[int] = ...) -> None: ...

class SourceRule(_message.Message):
    __slots__ = ("action", "prefix", "port_lo", "port_hi", "rate", "burst")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    PORT_LO_FIELD_NUMBER: _ClassVar[int]
    PORT_HI_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    BURST_FIELD_NUMBER: _ClassVar[int]
    action: SourceAction
    prefix: str
    port_lo: int
    port_hi: int
    rate: int
    burst: int
    def __init__(self, action: _Optional[_Union[SourceAction, str]] = ..., prefix: _Optional[str] = ..., port_lo: _Optional[int] = ..., port_hi: _Optional[int] = ..., rate: _Optional[int] = ..., burst: _Optional[int] = ...) -> None: ...

class SourceKey(_message.Message):
    __slots__ = ("prefix", "port_lo", "port_hi")
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    PORT_LO_FIELD_NUMBER: _ClassVar[int]
    PORT_HI_FIELD_NUMBER: _ClassVar[int]
    prefix: str
    port_lo: int
    port_hi: int
    def __init__(self, prefix: _Optional[str] = ..., port_lo: _Optional[int] = ..., port_hi: _Optional[int] = ...) -> None: ...

class SourcesSummary(_message.Message):
    __slots__ = ("rules", "deny", "allow", "limit", "prefixes_v4", "prefixes_v6", "port_ranges", "sha256")
    RULES_FIELD_NUMBER: _ClassVar[int]
    DENY_FIELD_NUMBER: _ClassVar[int]
    ALLOW_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PREFIXES_V4_FIELD_NUMBER: _ClassVar[int]
    PREFIXES_V6_FIELD_NUMBER: _ClassVar[int]
    PORT_RANGES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    rules: int
    deny: int
    allow: int
    limit: int
    prefixes_v4: int
    prefixes_v6: int
    port_ranges: int
    sha256: str
    def __init__(self, rules: _Optional[int] = ..., deny: _Optional[int] = ..., allow: _Optional[int] = ..., limit: _Optional[int] = ..., prefixes_v4: _Optional[int] = ..., prefixes_v6: _Optional[int] = ..., port_ranges: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...

class ListSourcesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSourcesResponse(_message.Message):
    __slots__ = ("rules", "next_page_token", "summary")
    RULES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    rules: _containers.RepeatedCompositeFieldContainer[SourceRule]
    next_page_token: str
    summary: SourcesSummary
    def __init__(self, rules: _Optional[_Iterable[_Union[SourceRule, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., summary: _Optional[_Union[SourcesSummary, _Mapping]] = ...) -> None: ...

class SetSourcesRequest(_message.Message):
    __slots__ = ("rules",)
    RULES_FIELD_NUMBER: _ClassVar[int]
    rules: _containers.RepeatedCompositeFieldContainer[SourceRule]
    def __init__(self, rules: _Optional[_Iterable[_Union[SourceRule, _Mapping]]] = ...) -> None: ...

class DeleteSourcesRequest(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[SourceKey]
    def __init__(self, keys: _Optional[_Iterable[_Union[SourceKey, _Mapping]]] = ...) -> None: ...

class ReplaceSourcesRequest(_message.Message):
    __slots__ = ("text", "rules", "source_name")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_NAME_FIELD_NUMBER: _ClassVar[int]
    text: str
    rules: _containers.RepeatedCompositeFieldContainer[SourceRule]
    source_name: str
    def __init__(self, text: _Optional[str] = ..., rules: _Optional[_Iterable[_Union[SourceRule, _Mapping]]] = ..., source_name: _Optional[str] = ...) -> None: ...

class SourcesChange(_message.Message):
    __slots__ = ("summary", "config_version")
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    CONFIG_VERSION_FIELD_NUMBER: _ClassVar[int]
    summary: SourcesSummary
    config_version: int
    def __init__(self, summary: _Optional[_Union[SourcesSummary, _Mapping]] = ..., config_version: _Optional[int] = ...) -> None: ...

class TopSourcesRequest(_message.Message):
    __slots__ = ("by", "max")
    BY_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    by: TopSourcesBy
    max: int
    def __init__(self, by: _Optional[_Union[TopSourcesBy, str]] = ..., max: _Optional[int] = ...) -> None: ...

class TopSource(_message.Message):
    __slots__ = ("prefix", "syns", "syns_limited", "bad_cookies", "flows", "synacks_capped", "idle_ms", "rule")
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    SYNS_FIELD_NUMBER: _ClassVar[int]
    SYNS_LIMITED_FIELD_NUMBER: _ClassVar[int]
    BAD_COOKIES_FIELD_NUMBER: _ClassVar[int]
    FLOWS_FIELD_NUMBER: _ClassVar[int]
    SYNACKS_CAPPED_FIELD_NUMBER: _ClassVar[int]
    IDLE_MS_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    prefix: str
    syns: int
    syns_limited: int
    bad_cookies: int
    flows: int
    synacks_capped: int
    idle_ms: int
    rule: SourceRule
    def __init__(self, prefix: _Optional[str] = ..., syns: _Optional[int] = ..., syns_limited: _Optional[int] = ..., bad_cookies: _Optional[int] = ..., flows: _Optional[int] = ..., synacks_capped: _Optional[int] = ..., idle_ms: _Optional[int] = ..., rule: _Optional[_Union[SourceRule, _Mapping]] = ...) -> None: ...

class TopSourcesResponse(_message.Message):
    __slots__ = ("sources", "source_table", "source_v4_len", "source_v6_len", "time_unix_ns")
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TABLE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_V4_LEN_FIELD_NUMBER: _ClassVar[int]
    SOURCE_V6_LEN_FIELD_NUMBER: _ClassVar[int]
    TIME_UNIX_NS_FIELD_NUMBER: _ClassVar[int]
    sources: _containers.RepeatedCompositeFieldContainer[TopSource]
    source_table: int
    source_v4_len: int
    source_v6_len: int
    time_unix_ns: int
    def __init__(self, sources: _Optional[_Iterable[_Union[TopSource, _Mapping]]] = ..., source_table: _Optional[int] = ..., source_v4_len: _Optional[int] = ..., source_v6_len: _Optional[int] = ..., time_unix_ns: _Optional[int] = ...) -> None: ...

class GetPortsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Port(_message.Message):
    __slots__ = ("role", "name", "id", "link_up", "speed_mbps", "full_duplex", "autoneg", "ipackets", "opackets", "ibytes", "obytes", "imissed", "ierrors", "oerrors", "rx_nombuf", "queue_ipackets", "queue_opackets")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    LINK_UP_FIELD_NUMBER: _ClassVar[int]
    SPEED_MBPS_FIELD_NUMBER: _ClassVar[int]
    FULL_DUPLEX_FIELD_NUMBER: _ClassVar[int]
    AUTONEG_FIELD_NUMBER: _ClassVar[int]
    IPACKETS_FIELD_NUMBER: _ClassVar[int]
    OPACKETS_FIELD_NUMBER: _ClassVar[int]
    IBYTES_FIELD_NUMBER: _ClassVar[int]
    OBYTES_FIELD_NUMBER: _ClassVar[int]
    IMISSED_FIELD_NUMBER: _ClassVar[int]
    IERRORS_FIELD_NUMBER: _ClassVar[int]
    OERRORS_FIELD_NUMBER: _ClassVar[int]
    RX_NOMBUF_FIELD_NUMBER: _ClassVar[int]
    QUEUE_IPACKETS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_OPACKETS_FIELD_NUMBER: _ClassVar[int]
    role: str
    name: str
    id: int
    link_up: bool
    speed_mbps: int
    full_duplex: bool
    autoneg: bool
    ipackets: int
    opackets: int
    ibytes: int
    obytes: int
    imissed: int
    ierrors: int
    oerrors: int
    rx_nombuf: int
    queue_ipackets: _containers.RepeatedScalarFieldContainer[int]
    queue_opackets: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, role: _Optional[str] = ..., name: _Optional[str] = ..., id: _Optional[int] = ..., link_up: _Optional[bool] = ..., speed_mbps: _Optional[int] = ..., full_duplex: _Optional[bool] = ..., autoneg: _Optional[bool] = ..., ipackets: _Optional[int] = ..., opackets: _Optional[int] = ..., ibytes: _Optional[int] = ..., obytes: _Optional[int] = ..., imissed: _Optional[int] = ..., ierrors: _Optional[int] = ..., oerrors: _Optional[int] = ..., rx_nombuf: _Optional[int] = ..., queue_ipackets: _Optional[_Iterable[int]] = ..., queue_opackets: _Optional[_Iterable[int]] = ...) -> None: ...

class LcoreBusy(_message.Message):
    __slots__ = ("lcore", "busy_share", "interval_seconds", "since_start", "cycles", "busy_cycles")
    LCORE_FIELD_NUMBER: _ClassVar[int]
    BUSY_SHARE_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SINCE_START_FIELD_NUMBER: _ClassVar[int]
    CYCLES_FIELD_NUMBER: _ClassVar[int]
    BUSY_CYCLES_FIELD_NUMBER: _ClassVar[int]
    lcore: int
    busy_share: float
    interval_seconds: float
    since_start: bool
    cycles: int
    busy_cycles: int
    def __init__(self, lcore: _Optional[int] = ..., busy_share: _Optional[float] = ..., interval_seconds: _Optional[float] = ..., since_start: _Optional[bool] = ..., cycles: _Optional[int] = ..., busy_cycles: _Optional[int] = ...) -> None: ...

class Ports(_message.Message):
    __slots__ = ("ports", "lcores", "time_unix_ns")
    PORTS_FIELD_NUMBER: _ClassVar[int]
    LCORES_FIELD_NUMBER: _ClassVar[int]
    TIME_UNIX_NS_FIELD_NUMBER: _ClassVar[int]
    ports: _containers.RepeatedCompositeFieldContainer[Port]
    lcores: _containers.RepeatedCompositeFieldContainer[LcoreBusy]
    time_unix_ns: int
    def __init__(self, ports: _Optional[_Iterable[_Union[Port, _Mapping]]] = ..., lcores: _Optional[_Iterable[_Union[LcoreBusy, _Mapping]]] = ..., time_unix_ns: _Optional[int] = ...) -> None: ...

class KeyStatus(_message.Message):
    __slots__ = ("epoch", "current_fingerprint", "previous_fingerprint", "rotation_interval_s", "derived_from_master", "master_fingerprint", "next_rotation_unix", "previous_epoch", "max_clock_skew_s")
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    ROTATION_INTERVAL_S_FIELD_NUMBER: _ClassVar[int]
    DERIVED_FROM_MASTER_FIELD_NUMBER: _ClassVar[int]
    MASTER_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    NEXT_ROTATION_UNIX_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_EPOCH_FIELD_NUMBER: _ClassVar[int]
    MAX_CLOCK_SKEW_S_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    current_fingerprint: str
    previous_fingerprint: str
    rotation_interval_s: int
    derived_from_master: bool
    master_fingerprint: str
    next_rotation_unix: float
    previous_epoch: int
    max_clock_skew_s: int
    def __init__(self, epoch: _Optional[int] = ..., current_fingerprint: _Optional[str] = ..., previous_fingerprint: _Optional[str] = ..., rotation_interval_s: _Optional[int] = ..., derived_from_master: _Optional[bool] = ..., master_fingerprint: _Optional[str] = ..., next_rotation_unix: _Optional[float] = ..., previous_epoch: _Optional[int] = ..., max_clock_skew_s: _Optional[int] = ...) -> None: ...

class GetKeyStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RotateKeysRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SetKeyScheduleRequest(_message.Message):
    __slots__ = ("rotation_interval_s", "master_secret", "clear_master", "max_clock_skew_s")
    ROTATION_INTERVAL_S_FIELD_NUMBER: _ClassVar[int]
    MASTER_SECRET_FIELD_NUMBER: _ClassVar[int]
    CLEAR_MASTER_FIELD_NUMBER: _ClassVar[int]
    MAX_CLOCK_SKEW_S_FIELD_NUMBER: _ClassVar[int]
    rotation_interval_s: int
    master_secret: bytes
    clear_master: bool
    max_clock_skew_s: int
    def __init__(self, rotation_interval_s: _Optional[int] = ..., master_secret: _Optional[bytes] = ..., clear_master: _Optional[bool] = ..., max_clock_skew_s: _Optional[int] = ...) -> None: ...

class SyncacheEntry(_message.Message):
    __slots__ = ("lcore", "client_addr", "client_port", "server_addr", "server_port", "client_isn", "iss", "retransmits", "mss", "sack", "timestamps", "wscale", "age_ms")
    LCORE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ADDR_FIELD_NUMBER: _ClassVar[int]
    CLIENT_PORT_FIELD_NUMBER: _ClassVar[int]
    SERVER_ADDR_FIELD_NUMBER: _ClassVar[int]
    SERVER_PORT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ISN_FIELD_NUMBER: _ClassVar[int]
    ISS_FIELD_NUMBER: _ClassVar[int]
    RETRANSMITS_FIELD_NUMBER: _ClassVar[int]
    MSS_FIELD_NUMBER: _ClassVar[int]
    SACK_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMPS_FIELD_NUMBER: _ClassVar[int]
    WSCALE_FIELD_NUMBER: _ClassVar[int]
    AGE_MS_FIELD_NUMBER: _ClassVar[int]
    lcore: int
    client_addr: str
    client_port: int
    server_addr: str
    server_port: int
    client_isn: int
    iss: int
    retransmits: int
    mss: int
    sack: bool
    timestamps: bool
    wscale: int
    age_ms: int
    def __init__(self, lcore: _Optional[int] = ..., client_addr: _Optional[str] = ..., client_port: _Optional[int] = ..., server_addr: _Optional[str] = ..., server_port: _Optional[int] = ..., client_isn: _Optional[int] = ..., iss: _Optional[int] = ..., retransmits: _Optional[int] = ..., mss: _Optional[int] = ..., sack: _Optional[bool] = ..., timestamps: _Optional[bool] = ..., wscale: _Optional[int] = ..., age_ms: _Optional[int] = ...) -> None: ...

class DumpSyncacheRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class DumpSyncacheResponse(_message.Message):
    __slots__ = ("entries", "next_page_token", "total")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[SyncacheEntry]
    next_page_token: str
    total: int
    def __init__(self, entries: _Optional[_Iterable[_Union[SyncacheEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total: _Optional[int] = ...) -> None: ...

class FlushSyncacheRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class FlushSyncacheResponse(_message.Message):
    __slots__ = ("flushed",)
    FLUSHED_FIELD_NUMBER: _ClassVar[int]
    flushed: int
    def __init__(self, flushed: _Optional[int] = ...) -> None: ...

class RuntimeConfig(_message.Message):
    __slots__ = ("limits", "policies", "keys", "sources")
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    limits: SetLimitsRequest
    policies: _containers.RepeatedCompositeFieldContainer[Policy]
    keys: SetKeyScheduleRequest
    sources: SourceRules
    def __init__(self, limits: _Optional[_Union[SetLimitsRequest, _Mapping]] = ..., policies: _Optional[_Iterable[_Union[Policy, _Mapping]]] = ..., keys: _Optional[_Union[SetKeyScheduleRequest, _Mapping]] = ..., sources: _Optional[_Union[SourceRules, _Mapping]] = ...) -> None: ...

class SourceRules(_message.Message):
    __slots__ = ("rules",)
    RULES_FIELD_NUMBER: _ClassVar[int]
    rules: _containers.RepeatedCompositeFieldContainer[SourceRule]
    def __init__(self, rules: _Optional[_Iterable[_Union[SourceRule, _Mapping]]] = ...) -> None: ...

class ApplyConfigRequest(_message.Message):
    __slots__ = ("toml", "runtime", "source_name")
    TOML_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_NAME_FIELD_NUMBER: _ClassVar[int]
    toml: str
    runtime: RuntimeConfig
    source_name: str
    def __init__(self, toml: _Optional[str] = ..., runtime: _Optional[_Union[RuntimeConfig, _Mapping]] = ..., source_name: _Optional[str] = ...) -> None: ...

class ApplyConfigResponse(_message.Message):
    __slots__ = ("config_version",)
    CONFIG_VERSION_FIELD_NUMBER: _ClassVar[int]
    config_version: int
    def __init__(self, config_version: _Optional[int] = ...) -> None: ...

class ValidateConfigRequest(_message.Message):
    __slots__ = ("toml", "runtime", "source_name")
    TOML_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_NAME_FIELD_NUMBER: _ClassVar[int]
    toml: str
    runtime: RuntimeConfig
    source_name: str
    def __init__(self, toml: _Optional[str] = ..., runtime: _Optional[_Union[RuntimeConfig, _Mapping]] = ..., source_name: _Optional[str] = ...) -> None: ...

class ValidateConfigResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetRunningConfigRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetBootConfigRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ConfigDocument(_message.Message):
    __slots__ = ("toml", "boot_file", "config_version")
    TOML_FIELD_NUMBER: _ClassVar[int]
    BOOT_FILE_FIELD_NUMBER: _ClassVar[int]
    CONFIG_VERSION_FIELD_NUMBER: _ClassVar[int]
    toml: str
    boot_file: str
    config_version: int
    def __init__(self, toml: _Optional[str] = ..., boot_file: _Optional[str] = ..., config_version: _Optional[int] = ...) -> None: ...

class SaveConfigRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SaveConfigResponse(_message.Message):
    __slots__ = ("boot_file", "backup_file", "config_version")
    BOOT_FILE_FIELD_NUMBER: _ClassVar[int]
    BACKUP_FILE_FIELD_NUMBER: _ClassVar[int]
    CONFIG_VERSION_FIELD_NUMBER: _ClassVar[int]
    boot_file: str
    backup_file: str
    config_version: int
    def __init__(self, boot_file: _Optional[str] = ..., backup_file: _Optional[str] = ..., config_version: _Optional[int] = ...) -> None: ...

class RestartDataplaneRequest(_message.Message):
    __slots__ = ("force",)
    FORCE_FIELD_NUMBER: _ClassVar[int]
    force: bool
    def __init__(self, force: _Optional[bool] = ...) -> None: ...

class UpgradeDataplaneRequest(_message.Message):
    __slots__ = ("binary", "force")
    BINARY_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    binary: str
    force: bool
    def __init__(self, binary: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class DataplaneRestart(_message.Message):
    __slots__ = ("old_pid", "pid", "old_binary", "binary", "stop_seconds", "down_seconds", "tables", "state_layout", "forced", "config_version", "key_epoch", "boot_binary")
    OLD_PID_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    OLD_BINARY_FIELD_NUMBER: _ClassVar[int]
    BINARY_FIELD_NUMBER: _ClassVar[int]
    STOP_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DOWN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TABLES_FIELD_NUMBER: _ClassVar[int]
    STATE_LAYOUT_FIELD_NUMBER: _ClassVar[int]
    FORCED_FIELD_NUMBER: _ClassVar[int]
    CONFIG_VERSION_FIELD_NUMBER: _ClassVar[int]
    KEY_EPOCH_FIELD_NUMBER: _ClassVar[int]
    BOOT_BINARY_FIELD_NUMBER: _ClassVar[int]
    old_pid: int
    pid: int
    old_binary: str
    binary: str
    stop_seconds: float
    down_seconds: float
    tables: _containers.RepeatedScalarFieldContainer[str]
    state_layout: str
    forced: bool
    config_version: int
    key_epoch: int
    boot_binary: str
    def __init__(self, old_pid: _Optional[int] = ..., pid: _Optional[int] = ..., old_binary: _Optional[str] = ..., binary: _Optional[str] = ..., stop_seconds: _Optional[float] = ..., down_seconds: _Optional[float] = ..., tables: _Optional[_Iterable[str]] = ..., state_layout: _Optional[str] = ..., forced: _Optional[bool] = ..., config_version: _Optional[int] = ..., key_epoch: _Optional[int] = ..., boot_binary: _Optional[str] = ...) -> None: ...
