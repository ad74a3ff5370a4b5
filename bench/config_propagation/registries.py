"""The registries a change is written to: Consul (KV and /v1/txn), etcd (v3 JSON gateway),
ZooKeeper (kazoo) and a file. Each adapter writes keys relative to its own prefix/root and gives
the gateway's source YAML for it."""

from __future__ import annotations

import base64
import json
import os
import shutil
import sys
from pathlib import Path

from common.errors import BenchError
from common.process import run_cmd
from config_propagation import log
from config_propagation.keepalive import Http

ALL_BACKENDS = ("consul", "etcd", "zookeeper", "file")


class Consul:
    def __init__(self, addr: str) -> None:
        rest = addr.split("://", 1)[-1].rstrip("/")
        host, port = rest.rsplit(":", 1)
        self.addr = addr.rstrip("/")
        self.http = Http(host, int(port), timeout=60)

    def put(self, key: str, value: str) -> None:
        status, _, body = self.http.request("PUT", "/v1/kv/" + key, value.encode())
        if status != 200 or body.strip() != b"true":
            raise BenchError(f"Consul PUT {key}: HTTP {status} {body[:200]!r}")

    def delete(self, key: str, recurse: bool = False) -> None:
        status, _, body = self.http.request("DELETE", "/v1/kv/" + key + ("?recurse=true" if recurse else ""))
        if status != 200:
            raise BenchError(f"Consul DELETE {key}: HTTP {status} {body[:200]!r}")

    def txn(self, body: bytes, conn: Http | None = None) -> tuple[int, bytes]:
        status, _, data = (conn or self.http).request("PUT", "/v1/txn", body, {"Content-Type": "application/json"})
        return status, data

    def agent_limits(self) -> dict:
        try:
            status, _, body = self.http.request("GET", "/v1/agent/self")
            cfg = json.loads(body).get("DebugConfig", {}) if status == 200 else {}
            return {k: cfg.get(k) for k in ("KVMaxValueSize", "TxnMaxReqLen")}
        except Exception as e:
            return {"error": str(e)}


class ConsulReg:
    """Small-tree adapter: keys relative to the prefix (keys/<id>)."""
    name = "consul"

    def __init__(self, consul: Consul, prefix: str) -> None:
        self.consul, self.prefix = consul, prefix

    def source_yaml(self) -> str:
        return f'  consul: {{address: "{self.consul.addr}", prefix: "{self.prefix}", wait_ms: 300000}}\n'

    def load(self, entries: list[tuple[str, str]]) -> None:
        if entries:
            status, body = self.consul.txn(txn_body([(self.prefix + k, v) for k, v in entries]))
            if status != 200:
                raise BenchError(f"writing filler keys failed: HTTP {status} {body[:200]!r}")

    def put(self, rel: str, value: str) -> None:
        self.consul.put(self.prefix + rel, value)

    def delete(self, rel: str) -> None:
        self.consul.delete(self.prefix + rel)

    def cleanup(self) -> None:
        self.consul.delete(self.prefix, recurse=True)

    def version(self) -> str | None:
        return None  # reported from the consul binary in versions()


class EtcdReg:
    """etcd v3 JSON gateway over one keep-alive connection."""
    name = "etcd"

    def __init__(self, addr: str, prefix: str) -> None:
        rest = addr.split("://", 1)[-1].rstrip("/")
        host, port = rest.rsplit(":", 1)
        self.addr, self.prefix = addr.rstrip("/"), prefix
        self.http = Http(host, int(port), timeout=60)

    @staticmethod
    def _b64(s: str) -> str:
        return base64.b64encode(s.encode()).decode()

    def _post(self, path: str, body: dict) -> dict:
        status, _, data = self.http.request("POST", path, json.dumps(body).encode(), {"Content-Type": "application/json"})
        if status != 200:
            raise BenchError(f"etcd {path}: HTTP {status} {data[:200]!r}")
        return json.loads(data)

    def source_yaml(self) -> str:
        return f'  etcd: {{address: "{self.addr}", prefix: "{self.prefix}"}}\n'

    def load(self, entries: list[tuple[str, str]]) -> None:
        for k, v in entries:
            self.put(k, v)

    def put(self, rel: str, value: str) -> None:
        self._post("/v3/kv/put", {"key": self._b64(self.prefix + rel), "value": self._b64(value)})

    def delete(self, rel: str) -> None:
        self._post("/v3/kv/deleterange", {"key": self._b64(self.prefix + rel)})

    def cleanup(self) -> None:
        end = self.prefix[:-1] + chr(ord(self.prefix[-1]) + 1)
        self._post("/v3/kv/deleterange", {"key": self._b64(self.prefix), "range_end": self._b64(end)})
        self.http.close()

    def version(self) -> str | None:
        status, _, data = self.http.request("GET", "/version")
        return "etcd " + json.loads(data).get("etcdserver", "?") if status == 200 else None


class ZooKeeperReg:
    """kazoo (pip install kazoo). <root>, <root>/keys and the first key are created in one transaction:
    an empty childless znode would be an entry, which the gateway rejects."""
    name = "zookeeper"

    def __init__(self, hosts: str, root: str) -> None:
        try:
            from kazoo.client import KazooClient
        except ImportError:
            log("kazoo missing; installing it with pip (python3 -m pip install --quiet kazoo)")
            run_cmd([sys.executable, "-m", "pip", "install", "--quiet", "kazoo"], timeout=300)
            from kazoo.client import KazooClient
        self.hosts, self.root = hosts, root.rstrip("/")
        self.zk = KazooClient(hosts=hosts, timeout=15)
        self.zk.start(timeout=30)

    def source_yaml(self) -> str:
        return f'  zookeeper: {{hosts: "{self.hosts}", root: "{self.root}"}}\n'

    def load(self, entries: list[tuple[str, str]]) -> None:
        if not entries:
            raise BenchError("zookeeper needs at least one background key (--tree-keys >= 1)")
        txn = self.zk.transaction()
        txn.create(self.root, b"")
        txn.create(self.root + "/keys", b"")
        txn.create(f"{self.root}/{entries[0][0]}", entries[0][1].encode())
        results = txn.commit()
        if any(isinstance(r, Exception) for r in results):
            raise BenchError(f"zookeeper: creating {self.root} failed: {results}")
        for k, v in entries[1:]:
            self.put(k, v)

    def put(self, rel: str, value: str) -> None:
        self.zk.create(f"{self.root}/{rel}", value.encode())

    def delete(self, rel: str) -> None:
        self.zk.delete(f"{self.root}/{rel}")

    def cleanup(self) -> None:
        try:
            self.zk.delete(self.root, recursive=True)
        finally:
            self.zk.stop()
            self.zk.close()

    def version(self) -> str | None:
        try:
            return "ZooKeeper " + ".".join(str(x) for x in self.zk.server_version())
        except Exception:  # 'envi' four-letter word not whitelisted: the installed package's version
            r = run_cmd(["dpkg-query", "-W", "-f", "${Version}", "zookeeper"], timeout=30, check=False)
            return f"ZooKeeper {r.stdout.strip()} (package)" if r.returncode == 0 and r.stdout.strip() else None


class FileReg:
    """A YAML file (relative key -> JSON string), rewritten whole and replaced atomically (temp + rename)."""
    name = "file"

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.path = directory / "registry.yaml"
        self.entries: dict[str, str] = {}

    def _write(self) -> None:
        tmp = self.dir / ".registry.yaml.tmp"
        # json.dumps of a string is a valid YAML double-quoted scalar, so the value stays a string.
        tmp.write_text("".join(f"{json.dumps(k)}: {json.dumps(v)}\n" for k, v in self.entries.items()) or "{}\n")
        os.replace(tmp, self.path)

    def source_yaml(self) -> str:
        return f'  file: {{path: "{self.path}"}}\n'

    def load(self, entries: list[tuple[str, str]]) -> None:
        self.entries.update(entries)
        self._write()

    def put(self, rel: str, value: str) -> None:
        self.entries[rel] = value
        self._write()

    def delete(self, rel: str) -> None:
        del self.entries[rel]
        self._write()

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def version(self) -> str | None:
        return None


def txn_body(ops: list[tuple[str, str]]) -> bytes:
    return json.dumps([{"KV": {"Verb": "set", "Key": k, "Value": base64.b64encode(v.encode()).decode()}}
                       for k, v in ops], separators=(",", ":")).encode()

