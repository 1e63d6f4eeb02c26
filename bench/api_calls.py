#!/usr/bin/env python3
"""Times Docker API calls on several unix sockets, interleaved so both see the same machine.

  api_calls.py RUNS NAME=SOCKET[+SOCKET]... -- TARGET...

For each TARGET ("/_ping", "/v1.45/containers/json?all=1", ...) and each NAME, RUNS calls on a
fresh connection each (as the docker CLI makes them) and RUNS calls on one kept-alive connection
(as docker-py makes them); the names take turns call by call. A NAME with several sockets asks
them all at once (a thread each) and counts until the last answer: the floor of a call twinboxd
answers by asking both engines. Prints one line per target, mode and name:
`TARGET MODE NAME MEDIAN_MS`. Standard library only.
"""
import http.client
import socket
import statistics
import sys
import threading
import time


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("docker", timeout=60)
        self.path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60)
        s.connect(self.path)
        self.sock = s


def call(conn, target):
    conn.request("GET", target, headers={"Host": "docker"})
    resp = conn.getresponse()
    body = resp.read()
    if resp.status != 200:
        raise SystemExit(f"{target} on {conn.path}: {resp.status} {body[:200]!r}")


class Target:
    """One NAME: its sockets, asked together."""

    def __init__(self, paths):
        self.paths = paths
        self.conns = [UnixConnection(p) for p in paths]

    def ask(self, target, fresh):
        conns = [UnixConnection(p) for p in self.paths] if fresh else self.conns
        if len(conns) == 1:
            call(conns[0], target)
        else:
            threads = [threading.Thread(target=call, args=(c, target)) for c in conns]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        if fresh:
            for c in conns:
                c.close()

    def close(self):
        for c in self.conns:
            c.close()


def main():
    args = sys.argv[1:]
    runs = int(args.pop(0))
    sep = args.index("--")
    names = [a.split("=", 1) for a in args[:sep]]
    targets = args[sep + 1:]
    for target in targets:
        fresh = {name: [] for name, _ in names}
        kept = {name: [] for name, _ in names}
        ends = {name: Target(paths.split("+")) for name, paths in names}
        for name, _ in names:  # warm up: the first call pays for caches on either side
            ends[name].ask(target, fresh=False)
        for _ in range(runs):
            for name, _ in names:
                for mode, times in ((True, fresh), (False, kept)):
                    t0 = time.perf_counter()
                    ends[name].ask(target, fresh=mode)
                    times[name].append(time.perf_counter() - t0)
        for name, _ in names:
            ends[name].close()
            print(f"{target} fresh {name} {statistics.median(fresh[name]) * 1000:.2f}")
            print(f"{target} kept {name} {statistics.median(kept[name]) * 1000:.2f}")


if __name__ == "__main__":
    main()
