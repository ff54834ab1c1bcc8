from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PortRange(_message.Message):
    __slots__ = ("lo", "hi", "mode", "mss", "wscale", "window_scaling", "sack", "timestamps", "idle_timeout_s")
    LO_FIELD_NUMBER: _ClassVar[int]
    HI_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    MSS_FIELD_NUMBER: _ClassVar[int]
    WSCALE_FIELD_NUMBER: _ClassVar[int]
    WINDOW_SCALING_FIELD_NUMBER: _ClassVar[int]
    SACK_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMPS_FIELD_NUMBER: _ClassVar[int]
    IDLE_TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    lo: int
    hi: int
    mode: int
    mss: int
    wscale: int
    window_scaling: bool
    sack: bool
    timestamps: bool
    idle_timeout_s: int
    def __init__(self, lo: _Optional[int] = ..., hi: _Optional[int] = ..., mode: _Optional[int] = ..., mss: _Optional[int] = ..., wscale: _Optional[int] = ..., window_scaling: _Optional[bool] = ..., sack: _Optional[bool] = ..., timestamps: _Optional[bool] = ..., idle_timeout_s: _Optional[int] = ...) -> None: ...

class DpConfig(_message.Message):
    __slots__ = ("cachelimit", "rexmtlimit", "syncookies", "syncookies_only", "mss", "wscale", "server_retries", "ports", "cookie_check_rate", "syn_rate", "syn_burst", "reflect_rate", "reflect_burst")
    CACHELIMIT_FIELD_NUMBER: _ClassVar[int]
    REXMTLIMIT_FIELD_NUMBER: _ClassVar[int]
    SYNCOOKIES_FIELD_NUMBER: _ClassVar[int]
    SYNCOOKIES_ONLY_FIELD_NUMBER: _ClassVar[int]
    MSS_FIELD_NUMBER: _ClassVar[int]
    WSCALE_FIELD_NUMBER: _ClassVar[int]
    SERVER_RETRIES_FIELD_NUMBER: _ClassVar[int]
    PORTS_FIELD_NUMBER: _ClassVar[int]
    COOKIE_CHECK_RATE_FIELD_NUMBER: _ClassVar[int]
    SYN_RATE_FIELD_NUMBER: _ClassVar[int]
    SYN_BURST_FIELD_NUMBER: _ClassVar[int]
    REFLECT_RATE_FIELD_NUMBER: _ClassVar[int]
    REFLECT_BURST_FIELD_NUMBER: _ClassVar[int]
    cachelimit: int
    rexmtlimit: int
    syncookies: bool
    syncookies_only: bool
    mss: int
    wscale: int
    server_retries: int
    ports: _containers.RepeatedCompositeFieldContainer[PortRange]
    cookie_check_rate: int
    syn_rate: int
    syn_burst: int
    reflect_rate: int
    reflect_burst: int
    def __init__(self, cachelimit: _Optional[int] = ..., rexmtlimit: _Optional[int] = ..., syncookies: _Optional[bool] = ..., syncookies_only: _Optional[bool] = ..., mss: _Optional[int] = ..., wscale: _Optional[int] = ..., server_retries: _Optional[int] = ..., ports: _Optional[_Iterable[_Union[PortRange, _Mapping]]] = ..., cookie_check_rate: _Optional[int] = ..., syn_rate: _Optional[int] = ..., syn_burst: _Optional[int] = ..., reflect_rate: _Optional[int] = ..., reflect_burst: _Optional[int] = ...) -> None: ...

class DpKeys(_message.Message):
    __slots__ = ("epoch", "current", "previous")
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    current: bytes
    previous: bytes
    def __init__(self, epoch: _Optional[int] = ..., current: _Optional[bytes] = ..., previous: _Optional[bytes] = ...) -> None: ...

class DpStatus(_message.Message):
    __slots__ = ("pid", "workers", "hashsize", "bucketlimit", "flows", "config_version", "key_epoch", "keys_managed", "outside_port", "inside_port", "source_prefixes4", "source_prefixes6", "source_ranges", "source_table", "source_v4_len", "source_v6_len", "source_limits", "source_bytes")
    PID_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    HASHSIZE_FIELD_NUMBER: _ClassVar[int]
    BUCKETLIMIT_FIELD_NUMBER: _ClassVar[int]
    FLOWS_FIELD_NUMBER: _ClassVar[int]
    CONFIG_VERSION_FIELD_NUMBER: _ClassVar[int]
    KEY_EPOCH_FIELD_NUMBER: _ClassVar[int]
    KEYS_MANAGED_FIELD_NUMBER: _ClassVar[int]
    OUTSIDE_PORT_FIELD_NUMBER: _ClassVar[int]
    INSIDE_PORT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_PREFIXES4_FIELD_NUMBER: _ClassVar[int]
    SOURCE_PREFIXES6_FIELD_NUMBER: _ClassVar[int]
    SOURCE_RANGES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TABLE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_V4_LEN_FIELD_NUMBER: _ClassVar[int]
    SOURCE_V6_LEN_FIELD_NUMBER: _ClassVar[int]
    SOURCE_LIMITS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_BYTES_FIELD_NUMBER: _ClassVar[int]
    pid: int
    workers: int
    hashsize: int
    bucketlimit: int
    flows: int
    config_version: int
    key_epoch: int
    keys_managed: bool
    outside_port: str
    inside_port: str
    source_prefixes4: int
    source_prefixes6: int
    source_ranges: int
    source_table: int
    source_v4_len: int
    source_v6_len: int
    source_limits: int
    source_bytes: int
    def __init__(self, pid: _Optional[int] = ..., workers: _Optional[int] = ..., hashsize: _Optional[int] = ..., bucketlimit: _Optional[int] = ..., flows: _Optional[int] = ..., config_version: _Optional[int] = ..., key_epoch: _Optional[int] = ..., keys_managed: _Optional[bool] = ..., outside_port: _Optional[str] = ..., inside_port: _Optional[str] = ..., source_prefixes4: _Optional[int] = ..., source_prefixes6: _Optional[int] = ..., source_ranges: _Optional[int] = ..., source_table: _Optional[int] = ..., source_v4_len: _Optional[int] = ..., source_v6_len: _Optional[int] = ..., source_limits: _Optional[int] = ..., source_bytes: _Optional[int] = ...) -> None: ...

class DpSource(_message.Message):
    __slots__ = ("prefix", "len", "syns", "syns_limited", "bad_cookies", "flows", "synacks_capped", "idle_ms")
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    LEN_FIELD_NUMBER: _ClassVar[int]
    SYNS_FIELD_NUMBER: _ClassVar[int]
    SYNS_LIMITED_FIELD_NUMBER: _ClassVar[int]
    BAD_COOKIES_FIELD_NUMBER: _ClassVar[int]
    FLOWS_FIELD_NUMBER: _ClassVar[int]
    SYNACKS_CAPPED_FIELD_NUMBER: _ClassVar[int]
    IDLE_MS_FIELD_NUMBER: _ClassVar[int]
    prefix: bytes
    len: int
    syns: int
    syns_limited: int
    bad_cookies: int
    flows: int
    synacks_capped: int
    idle_ms: int
    def __init__(self, prefix: _Optional[bytes] = ..., len: _Optional[int] = ..., syns: _Optional[int] = ..., syns_limited: _Optional[int] = ..., bad_cookies: _Optional[int] = ..., flows: _Optional[int] = ..., synacks_capped: _Optional[int] = ..., idle_ms: _Optional[int] = ...) -> None: ...

class DpCounters(_message.Message):
    __slots__ = ("names", "total", "lcores")
    NAMES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    LCORES_FIELD_NUMBER: _ClassVar[int]
    names: _containers.RepeatedScalarFieldContainer[str]
    total: _containers.RepeatedScalarFieldContainer[int]
    lcores: _containers.RepeatedCompositeFieldContainer[DpLcoreCounters]
    def __init__(self, names: _Optional[_Iterable[str]] = ..., total: _Optional[_Iterable[int]] = ..., lcores: _Optional[_Iterable[_Union[DpLcoreCounters, _Mapping]]] = ...) -> None: ...

class DpLcoreCounters(_message.Message):
    __slots__ = ("lcore", "values")
    LCORE_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    lcore: int
    values: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, lcore: _Optional[int] = ..., values: _Optional[_Iterable[int]] = ...) -> None: ...

class DpSyncacheEntry(_message.Message):
    __slots__ = ("lcore", "client_addr", "client_port", "server_addr", "server_port", "client_isn", "iss", "retransmits", "mss", "sack", "timestamps", "wscale", "age_ms", "age_known")
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
    AGE_KNOWN_FIELD_NUMBER: _ClassVar[int]
    lcore: int
    client_addr: bytes
    client_port: int
    server_addr: bytes
    server_port: int
    client_isn: int
    iss: int
    retransmits: int
    mss: int
    sack: bool
    timestamps: bool
    wscale: int
    age_ms: int
    age_known: bool
    def __init__(self, lcore: _Optional[int] = ..., client_addr: _Optional[bytes] = ..., client_port: _Optional[int] = ..., server_addr: _Optional[bytes] = ..., server_port: _Optional[int] = ..., client_isn: _Optional[int] = ..., iss: _Optional[int] = ..., retransmits: _Optional[int] = ..., mss: _Optional[int] = ..., sack: _Optional[bool] = ..., timestamps: _Optional[bool] = ..., wscale: _Optional[int] = ..., age_ms: _Optional[int] = ..., age_known: _Optional[bool] = ...) -> None: ...

class DpPort(_message.Message):
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

class DpRequest(_message.Message):
    __slots__ = ("ping", "get_status", "get_counters", "get_config", "apply_config", "validate_config", "set_keys", "dump_syncache", "flush_syncache", "load_sources", "top_sources", "get_ports")
    class DumpSyncache(_message.Message):
        __slots__ = ("cursor", "max_entries")
        CURSOR_FIELD_NUMBER: _ClassVar[int]
        MAX_ENTRIES_FIELD_NUMBER: _ClassVar[int]
        cursor: int
        max_entries: int
        def __init__(self, cursor: _Optional[int] = ..., max_entries: _Optional[int] = ...) -> None: ...
    class LoadSources(_message.Message):
        __slots__ = ("path",)
        PATH_FIELD_NUMBER: _ClassVar[int]
        path: str
        def __init__(self, path: _Optional[str] = ...) -> None: ...
    class TopSources(_message.Message):
        __slots__ = ("by", "max")
        class By(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
            __slots__ = ()
            SYNS: _ClassVar[DpRequest.TopSources.By]
            BAD_COOKIES: _ClassVar[DpRequest.TopSources.By]
            FLOWS: _ClassVar[DpRequest.TopSources.By]
            SYNS_LIMITED: _ClassVar[DpRequest.TopSources.By]
            SYNACKS_CAPPED: _ClassVar[DpRequest.TopSources.By]
        SYNS: DpRequest.TopSources.By
        BAD_COOKIES: DpRequest.TopSources.By
        FLOWS: DpRequest.TopSources.By
        SYNS_LIMITED: DpRequest.TopSources.By
        SYNACKS_CAPPED: DpRequest.TopSources.By
        BY_FIELD_NUMBER: _ClassVar[int]
        MAX_FIELD_NUMBER: _ClassVar[int]
        by: DpRequest.TopSources.By
        max: int
        def __init__(self, by: _Optional[_Union[DpRequest.TopSources.By, str]] = ..., max: _Optional[int] = ...) -> None: ...
    PING_FIELD_NUMBER: _ClassVar[int]
    GET_STATUS_FIELD_NUMBER: _ClassVar[int]
    GET_COUNTERS_FIELD_NUMBER: _ClassVar[int]
    GET_CONFIG_FIELD_NUMBER: _ClassVar[int]
    APPLY_CONFIG_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_CONFIG_FIELD_NUMBER: _ClassVar[int]
    SET_KEYS_FIELD_NUMBER: _ClassVar[int]
    DUMP_SYNCACHE_FIELD_NUMBER: _ClassVar[int]
    FLUSH_SYNCACHE_FIELD_NUMBER: _ClassVar[int]
    LOAD_SOURCES_FIELD_NUMBER: _ClassVar[int]
    TOP_SOURCES_FIELD_NUMBER: _ClassVar[int]
    GET_PORTS_FIELD_NUMBER: _ClassVar[int]
    ping: bool
    get_status: bool
    get_counters: bool
    get_config: bool
    apply_config: DpConfig
    validate_config: DpConfig
    set_keys: DpKeys
    dump_syncache: DpRequest.DumpSyncache
    flush_syncache: bool
    load_sources: DpRequest.LoadSources
    top_sources: DpRequest.TopSources
    get_ports: bool
    def __init__(self, ping: _Optional[bool] = ..., get_status: _Optional[bool] = ..., get_counters: _Optional[bool] = ..., get_config: _Optional[bool] = ..., apply_config: _Optional[_Union[DpConfig, _Mapping]] = ..., validate_config: _Optional[_Union[DpConfig, _Mapping]] = ..., set_keys: _Optional[_Union[DpKeys, _Mapping]] = ..., dump_syncache: _Optional[_Union[DpRequest.DumpSyncache, _Mapping]] = ..., flush_syncache: _Optional[bool] = ..., load_sources: _Optional[_Union[DpRequest.LoadSources, _Mapping]] = ..., top_sources: _Optional[_Union[DpRequest.TopSources, _Mapping]] = ..., get_ports: _Optional[bool] = ...) -> None: ...

class DpResponse(_message.Message):
    __slots__ = ("ok", "error", "error_field", "status", "counters", "config", "entries", "next_cursor", "flushed", "config_version", "sources", "ports")
    OK_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    COUNTERS_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    FLUSHED_FIELD_NUMBER: _ClassVar[int]
    CONFIG_VERSION_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    PORTS_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    error: str
    error_field: str
    status: DpStatus
    counters: DpCounters
    config: DpConfig
    entries: _containers.RepeatedCompositeFieldContainer[DpSyncacheEntry]
    next_cursor: int
    flushed: int
    config_version: int
    sources: _containers.RepeatedCompositeFieldContainer[DpSource]
    ports: _containers.RepeatedCompositeFieldContainer[DpPort]
    def __init__(self, ok: _Optional[bool] = ..., error: _Optional[str] = ..., error_field: _Optional[str] = ..., status: _Optional[_Union[DpStatus, _Mapping]] = ..., counters: _Optional[_Union[DpCounters, _Mapping]] = ..., config: _Optional[_Union[DpConfig, _Mapping]] = ..., entries: _Optional[_Iterable[_Union[DpSyncacheEntry, _Mapping]]] = ..., next_cursor: _Optional[int] = ..., flushed: _Optional[int] = ..., config_version: _Optional[int] = ..., sources: _Optional[_Iterable[_Union[DpSource, _Mapping]]] = ..., ports: _Optional[_Iterable[_Union[DpPort, _Mapping]]] = ...) -> None: ...
