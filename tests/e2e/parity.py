#!/usr/bin/env python3
"""Differential test (issue 19): one sequence of Docker API calls, through docker-py's low-level
client and the docker CLI, against twinboxd and against a guest engine's own socket. Each step's
status code, the shape of its JSON (keys and types) and, where the step says so, its output are
compared, with ids, names and times left out. A difference is a failure unless a row of the
table in docs/parity.md (its first column, an fnmatch pattern of "step:path") explains it.

  parity.py --twinbox unix://S --engine unix://E --platform linux/arm64 --image IMG --table MD

Prints one line per step ("same", "known: ...", "DIFF: ...") and exits 1 on an unexplained
difference."""
import argparse
import base64
import fnmatch
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

import docker

API = "1.41"


def shape(v):
    """Keys and types: what a client's parser depends on."""
    if isinstance(v, dict):
        return {k: shape(x) for k, x in v.items()}
    if isinstance(v, list):
        return [shape(v[0])] if v else []
    if v is None:
        return "null"
    return type(v).__name__


def shape_diff(a, b, path, out):
    """Differences between engine shape `a` and twinbox shape `b`, as "path: what" strings."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in a:
            if k not in b:
                out.append(f"{path}.{k}: missing")
            else:
                shape_diff(a[k], b[k], f"{path}.{k}", out)
        for k in b:
            if k not in a:
                out.append(f"{path}.{k}: extra")
    elif isinstance(a, list) and isinstance(b, list):
        if a and b:  # an empty list says nothing about its elements
            shape_diff(a[0], b[0], path + "[]", out)
    elif a != b:
        out.append(f"{path}: {json.dumps(a)[:40]} vs {json.dumps(b)[:40]}")


class Target:
    """One side: a docker-py client, the CLI's host, and the names it creates (own suffix)."""

    def __init__(self, url, tag, platform):
        self.url, self.tag, self.platform = url, tag, platform
        self.api = docker.APIClient(base_url=url, version=API, timeout=300)
        self.ids = {}

    def name(self, n):
        return f"par-{self.tag}-{n}"

    def normalize(self, text):
        """Names and ids of this side, and numbers that are times or sizes, made neutral."""
        text = text.replace(f"par-{self.tag}-", "par-X-")
        for n, i in self.ids.items():
            text = text.replace(i, f"<{n}>").replace(i[:12], f"<{n}>")
        return text

    def call(self, method, path, params=None, body=None, data=None, headers=None, stream=False):
        url = self.api._url(path)
        kw = {"params": params or {}, "stream": stream}
        if headers:
            kw["headers"] = headers
        if body is not None:
            kw["data"] = json.dumps(body)
            kw["headers"] = {**(headers or {}), "Content-Type": "application/json"}
        elif data is not None:
            kw["data"] = data
        if method == "HEAD":
            return self.api.head(url, params=params or {}, timeout=300)
        fn = {"GET": self.api._get, "POST": self.api._post, "DELETE": self.api._delete,
              "PUT": self.api._put}[method]
        return fn(url, **kw)

    def cli(self, *args, stdin=None):
        env = {**os.environ, "DOCKER_HOST": self.url}
        p = subprocess.run(["docker", *args], input=stdin, capture_output=True, env=env,
                           timeout=300)
        return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def demux(raw):
    """stdout+stderr of a multiplexed stream, framed as dockerd frames it; raw when not framed."""
    out, i = b"", 0
    while i + 8 <= len(raw) and raw[i] in (0, 1, 2) and raw[i + 1:i + 4] == b"\0\0\0":
        n = int.from_bytes(raw[i + 4:i + 8], "big")
        out += raw[i + 8:i + 8 + n]
        i += 8 + n
    return out if i == len(raw) else raw


def lines_of_both_streams(raw):
    """stdout and stderr lines of a multiplexed answer, sorted: the engine copies the two streams
    into its log concurrently, so lines written at the same moment land in either order (seen
    with dockerd 26)."""
    return sorted(demux(raw).decode(errors="replace").splitlines())


def tar_of(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mtime = 1700000000
            t.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def tar_names(data):
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            return sorted(m.name for m in t.getmembers())
    except tarfile.TarError:
        return ["<not a tar>"]


def record(resp, value=None):
    """What is compared of one API answer: status, JSON shape, and a chosen value."""
    r = {"status": resp.status_code}
    ctype = resp.headers.get("Content-Type", "")
    if value is not None:
        r["value"] = value
    elif "json" in ctype and resp.content:
        try:
            r["shape"] = shape(json.loads(resp.content))
        except ValueError:  # a stream of JSON lines
            lines = [json.loads(x) for x in resp.content.splitlines() if x.strip()]
            r["shape"] = shape(lines)
    return r


def wait_until(pred, secs=120):
    for _ in range(secs):
        if pred():
            return True
        time.sleep(1)
    return False


def scenario(t, image):
    """The steps, as (name, record). Both sides run exactly the same calls."""
    n, plat = t.name, t.platform
    created = {}
    began = int(time.time()) - 1

    def create(key, body, expect_id=True):
        r = t.call("POST", "/containers/create", params={"name": n(key), "platform": plat},
                   body=body)
        if expect_id and r.status_code == 201:
            created[key] = r.json()["Id"]
            t.ids[key] = created[key]
        return r

    def cid(key):
        return created.get(key, n(key))

    # Create: an empty config, a full one (command, log driver and options, labels, ports), a
    # link to a running container, a link to nothing.
    yield "create.empty", record(create("empty", {"Image": image}))
    yield "create.full", record(create("main", {
        "Image": image,
        "Cmd": ["sh", "-c", "echo hello; echo oops >&2; echo data > /tmp/made; exec sleep 600"],
        "Labels": {"par": "yes", "par-side": t.tag},
        "ExposedPorts": {"80/tcp": {}},
        "HostConfig": {"LogConfig": {"Type": "json-file", "Config": {"max-size": "1m",
                                                                    "max-file": "2"}},
                       "PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}}}))
    yield "start", record(t.call("POST", f"/containers/{cid('main')}/start"))
    yield "start.again", record(t.call("POST", f"/containers/{cid('main')}/start"))
    wait_until(lambda: b"hello" in t.call("GET", f"/containers/{cid('main')}/logs",
                                          params={"stdout": 1}).content)
    yield "create.link", record(create("linked", {
        "Image": image, "Cmd": ["sh", "-c", "grep -c peer /etc/hosts"],
        "HostConfig": {"Links": [f"{n('main')}:peer"]}}))
    yield "create.link-missing", record(create("nolink", {
        "Image": image, "HostConfig": {"Links": [f"{n('missing')}:peer"]}}, expect_id=False))
    yield "start.linked", record(t.call("POST", f"/containers/{cid('linked')}/start"))
    w = t.call("POST", f"/containers/{cid('linked')}/wait", params={"condition": "not-running"})
    yield "wait.not-running", record(w, value=w.json() if w.status_code == 200 else None)
    lg = t.call("GET", f"/containers/{cid('linked')}/logs", params={"stdout": 1})
    yield "logs.linked", record(lg, value=demux(lg.content).decode(errors="replace"))

    # Inspect and listings.
    yield "inspect", record(t.call("GET", f"/containers/{cid('main')}/json"))
    yield "inspect.missing", record(t.call("GET", f"/containers/{n('missing')}/json"))
    yield "list", record(t.call("GET", "/containers/json",
                                params={"all": 1, "filters": json.dumps({"label": ["par=yes"]})}))

    # Logs (both streams, timestamps), follow with cancel, attach without a stream.
    lg = t.call("GET", f"/containers/{cid('main')}/logs", params={"stdout": 1, "stderr": 1})
    yield "logs", record(lg, value=lines_of_both_streams(lg.content))
    lg = t.call("GET", f"/containers/{cid('main')}/logs",
                params={"stdout": 1, "timestamps": 1, "tail": 2})
    yield "logs.tail-timestamps", record(lg, value=re.sub(
        r"^\S+ ", "<time> ", demux(lg.content).decode(errors="replace"), flags=re.M))
    f = t.call("GET", f"/containers/{cid('main')}/logs",
               params={"stdout": 1, "follow": 1}, stream=True)
    first = next(f.iter_content(64), b"")
    f.close()
    yield "logs.follow-cancel", record(f, value=demux(first).decode(errors="replace")[:6])
    a = t.call("POST", f"/containers/{cid('main')}/attach",
               params={"logs": 1, "stream": 0, "stdout": 1, "stderr": 1})
    yield "attach.logs-no-stream", record(a, value=lines_of_both_streams(a.content))

    # Attach with a live stream (the hijacked connection docker-py reads until the container
    # ends), wait for the next exit, and wait until removed while another call removes it.
    create("talker", {"Image": image,
                      "Cmd": ["sh", "-c", "sleep 1; for i in 1 2 3; do echo tick$i; sleep 1; done"]})
    t.call("POST", f"/containers/{cid('talker')}/start")
    try:
        got = b"".join(t.api.attach(cid("talker"), stream=True, logs=True))
        yield "attach.stream", {"value": got.decode(errors="replace")}
    except docker.errors.APIError as err:
        yield "attach.stream", {"status": err.status_code}
    create("waiter", {"Image": image, "Cmd": ["sleep", "3"]})
    t.call("POST", f"/containers/{cid('waiter')}/start")
    w = t.call("POST", f"/containers/{cid('waiter')}/wait", params={"condition": "next-exit"})
    yield "wait.next-exit", record(w, value=w.json() if w.status_code == 200 else None)
    create("doomed", {"Image": image, "Cmd": ["true"]})
    waited = {}

    def wait_removed():
        r = t.call("POST", f"/containers/{cid('doomed')}/wait", params={"condition": "removed"})
        waited["r"] = record(r, value=r.json() if r.status_code == 200 else None)

    waiting = threading.Thread(target=wait_removed, daemon=True)
    waiting.start()
    time.sleep(2)
    yield "rm.waited", record(t.call("DELETE", f"/containers/{cid('doomed')}"))
    waiting.join(120)
    yield "wait.removed", waited.get("r", {"value": "no answer in 120 s"})

    # Processes, changes, ports, stats.
    tp = t.call("GET", f"/containers/{cid('main')}/top")
    yield "top", record(tp, value=tp.json().get("Titles") if tp.status_code == 200 else None)
    ch = t.call("GET", f"/containers/{cid('main')}/changes")
    yield "changes", record(ch, value=sorted(c["Path"] for c in ch.json() or [])
                            if ch.status_code == 200 else None)
    yield "stats.one-shot", record(t.call("GET", f"/containers/{cid('main')}/stats",
                                          params={"stream": 0}))
    s = t.call("GET", f"/containers/{cid('main')}/stats", params={"stream": 1}, stream=True)
    line = next(s.iter_lines(), b"{}")
    s.close()
    yield "stats.stream", {"status": s.status_code, "shape": shape(json.loads(line))}

    # Archive: stat (HEAD), get, put, get back; export.
    h = t.call("HEAD", f"/containers/{cid('main')}/archive", params={"path": "/tmp/made"})
    stat = h.headers.get("X-Docker-Container-Path-Stat")
    yield "archive.head", {"status": h.status_code,
                           "shape": shape(json.loads(base64.b64decode(stat))) if stat else None}
    g = t.call("GET", f"/containers/{cid('main')}/archive", params={"path": "/tmp/made"})
    yield "archive.get", record(g, value=tar_names(g.content))
    p = t.call("PUT", f"/containers/{cid('main')}/archive", params={"path": "/tmp"},
               data=tar_of({"put.txt": b"from the host\n"}),
               headers={"Content-Type": "application/x-tar"})
    yield "archive.put", record(p)
    g = t.call("GET", f"/containers/{cid('main')}/archive", params={"path": "/tmp/put.txt"})
    yield "archive.get-put", record(g, value=tar_names(g.content))
    yield "archive.get-missing", record(t.call("GET", f"/containers/{cid('main')}/archive",
                                               params={"path": "/no/such"}))
    e = t.call("GET", f"/containers/{cid('empty')}/export", stream=True)
    head = e.raw.read(1024)
    e.close()
    yield "export", {"status": e.status_code, "tar": len(head) == 1024 and head[257:262] == b"ustar"}

    # Exec with a tty, resize while it runs, inspect it.
    ex = t.call("POST", f"/containers/{cid('main')}/exec",
                body={"Cmd": ["echo", "hi"], "Tty": True, "AttachStdout": True})
    yield "exec.create", record(ex)
    if ex.status_code == 201:
        st = t.call("POST", f"/exec/{ex.json()['Id']}/start", body={"Detach": False, "Tty": True})
        yield "exec.start-tty", record(st, value=st.content.decode(errors="replace"))
    ex = t.call("POST", f"/containers/{cid('main')}/exec",
                body={"Cmd": ["sleep", "5"], "Tty": True})
    if ex.status_code == 201:
        eid = ex.json()["Id"]
        yield "exec.start-detached", record(t.call("POST", f"/exec/{eid}/start",
                                                   body={"Detach": True, "Tty": True}))
        yield "exec.resize", record(t.call("POST", f"/exec/{eid}/resize", params={"h": 30, "w": 100}))
        yield "exec.inspect", record(t.call("GET", f"/exec/{eid}/json"))

    # Update, pause/unpause, rename, kill -s, restart -t 0.
    yield "update", record(t.call("POST", f"/containers/{cid('main')}/update",
                                  body={"CpuShares": 512}))
    yield "pause", record(t.call("POST", f"/containers/{cid('main')}/pause"))
    yield "pause.again", record(t.call("POST", f"/containers/{cid('main')}/pause"))
    yield "unpause", record(t.call("POST", f"/containers/{cid('main')}/unpause"))
    yield "rename", record(t.call("POST", f"/containers/{cid('main')}/rename",
                                  params={"name": n("renamed")}))
    yield "rename.taken", record(t.call("POST", f"/containers/{cid('empty')}/rename",
                                        params={"name": n("renamed")}))
    yield "restart", record(t.call("POST", f"/containers/{cid('main')}/restart", params={"t": 0}))
    yield "kill.signal", record(t.call("POST", f"/containers/{cid('main')}/kill",
                                       params={"signal": "SIGKILL"}))
    yield "kill.not-running", record(t.call("POST", f"/containers/{cid('main')}/kill",
                                            params={"signal": "SIGUSR1"}))

    # Commit: the image is made where the container is.
    yield "commit", record(t.call("POST", "/commit", params={
        "container": cid("main"), "repo": f"par-{t.tag}/committed", "tag": "v1"}))
    yield "commit.rm", record(t.call("DELETE", f"/images/par-{t.tag}/committed:v1"))

    # Images: tag, history, inspect, rm.
    repo = f"par-{t.tag}/tagged"
    yield "image.tag", record(t.call("POST", f"/images/{image}/tag",
                                     params={"repo": repo, "tag": "v1"}))
    yield "image.history", record(t.call("GET", f"/images/{repo}:v1/history"))
    yield "image.inspect", record(t.call("GET", f"/images/{repo}:v1/json"))
    yield "image.inspect-missing", record(t.call("GET", "/images/par-none/nothing:v9/json"))
    yield "image.rm", record(t.call("DELETE", f"/images/{repo}:v1"))

    # CLI: the same commands, exit codes and output compared.
    host_file = os.path.join(tempfile.mkdtemp(prefix="parity-"), "in.txt")
    with open(host_file, "w", encoding="utf-8") as f:
        f.write("copied in\n")
    for step, args, *stdin in [
        ("cli.ps", ["ps", "-a", "--filter", "label=par=yes", "--format", "{{.Names}} {{.Image}}"]),
        ("cli.run-rm", ["run", "--rm", "--platform", plat, image, "echo", "ran"]),
        ("cli.start", ["start", n("renamed")]),
        ("cli.exec", ["exec", n("renamed"), "cat", "/tmp/put.txt"]),
        ("cli.logs", ["logs", n("renamed")]),
        ("cli.inspect-state", ["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}",
                               n("renamed")]),
        ("cli.cp-out", ["cp", f"{n('renamed')}:/tmp/put.txt", "-"]),
        ("cli.cp-in", ["cp", host_file, f"{n('renamed')}:/tmp/in.txt"]),
        ("cli.cp-in-read", ["exec", n("renamed"), "cat", "/tmp/in.txt"]),
        ("cli.port", ["port", n("renamed")]),
        ("cli.run-stdin", ["run", "-i", "--rm", "--platform", plat, image, "cat"], b"piped\n"),
        ("cli.start-attach", ["start", "-a", n("talker")]),
        ("cli.rm-missing", ["rm", n("missing")]),
        ("cli.stop", ["stop", "-t", "0", n("renamed")]),
    ]:
        rc, out, _ = t.cli(*args, stdin=stdin[0] if stdin else None)
        value = tar_names(out) if step == "cli.cp-out" else out.decode(errors="replace").strip()
        if step == "cli.port":  # the host port is whichever was free
            value = re.sub(r":\d+$", ":<port>", value, flags=re.M)
        yield step, {"rc": rc, "value": value}

    # docker-py's high-level client: run with remove, list by label.
    hl = docker.DockerClient(base_url=t.url, version=API, timeout=300)
    try:
        out = hl.containers.run(image, ["echo", "high level"], remove=True, platform=plat)
        yield "py.run-remove", {"value": out.decode(errors="replace")}
    except docker.errors.DockerException as err:
        yield "py.run-remove", {"value": f"error {type(err).__name__}"}
    yield "py.list", {"value": sorted(t.normalize(c.name) for c in hl.containers.list(
        all=True, filters={"label": f"par-side={t.tag}"}))}

    # Events of this side's containers, bounded by since/until, as a stream of JSON lines.
    ev = t.call("GET", "/events", params={
        "since": began, "until": int(time.time()) + 1,
        "filters": json.dumps({"type": ["container"], "label": [f"par-side={t.tag}"]})})
    lines = [json.loads(x) for x in ev.content.splitlines() if x.strip()]
    # Which kinds of event, not their order or count: a detached exec's exec_die lands wherever
    # its process ends, and a stop may be reported once or twice (restart, then stop -t 0).
    yield "events.since-until", {"status": ev.status_code, "shape": shape(lines),
                                 "value": sorted({e.get("status") for e in lines})}

    # Prune (filters that touch only this test's objects) and system df.
    only = json.dumps({"label": ["par=none-such"]})
    for kind in ("containers", "images", "networks", "volumes"):
        yield f"prune.{kind}", record(t.call("POST", f"/{kind}/prune", params={"filters": only}))
    yield "system.df", record(t.call("GET", "/system/df"))

    # Cleanup through the same side.
    for key in ("renamed", "linked", "empty", "talker", "waiter"):
        t.call("DELETE", f"/containers/{n(key)}", params={"force": 1})


def load_table(path):
    """Rows of the differences table: (pattern, reason)."""
    rows = []
    for line in open(path, encoding="utf-8"):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].startswith("`") and cells[0].endswith("`"):
            rows.append((cells[0].strip("`"), cells[-1]))
    return rows


def compare(step, a, b, ta, tb):
    """Differences of one step, as "step:path: what" strings."""
    out = []
    for key in ("status", "rc"):
        if a.get(key) != b.get(key):
            out.append(f"{step}:{key}: {a.get(key)} vs {b.get(key)}")
    if "shape" in a or "shape" in b:
        d = []
        shape_diff(a.get("shape"), b.get("shape"), "", d)
        out += [f"{step}:{x.lstrip('.')}" for x in d]
    if "value" in a or "value" in b:
        va = ta.normalize(json.dumps(a.get("value")))
        vb = tb.normalize(json.dumps(b.get("value")))
        if va != vb:
            at = next((i for i, (x, y) in enumerate(zip(va, vb)) if x != y), min(len(va), len(vb)))
            start = max(0, at - 40)
            out.append(f"{step}:value: ...{va[start:at + 80]} vs ...{vb[start:at + 80]}")
    for k in set(a) - {"status", "rc", "shape", "value"}:
        if a[k] != b.get(k):
            out.append(f"{step}:{k}: {a[k]} vs {b.get(k)}")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--twinbox", required=True)
    ap.add_argument("--engine", required=True)
    ap.add_argument("--platform", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--table", required=True)
    ap.add_argument("--label", default="")
    args = ap.parse_args()
    table = load_table(args.table)
    short = args.platform.split("/")[-1]
    engine = Target(args.engine, "e" + short, args.platform)
    twin = Target(args.twinbox, "t" + short, args.platform)
    ea = dict(scenario(engine, args.image))
    tb = dict(scenario(twin, args.image))
    unexplained, used = 0, set()
    for step in list(ea) + [s for s in tb if s not in ea]:
        if step not in ea or step not in tb:
            diffs = [f"{step}:step: only on {'twinbox' if step in tb else 'the engine'}"]
        else:
            diffs = compare(step, ea[step], tb[step], engine, twin)
        if not diffs:
            said = ea[step].get("status", ea[step].get("rc"))
            print(f"same: {args.label}{step} ({said}) {json.dumps(ea[step].get('value', ''))[:60]}")
            continue
        for d in diffs:
            known = [(p, why) for p, why in table if fnmatch.fnmatchcase(d.split(": ")[0], p)]
            if known:
                used.add(known[0][0])
                print(f"known: {args.label}{d} (row `{known[0][0]}`)")
            else:
                unexplained += 1
                print(f"DIFF: {args.label}{d}")
    for pattern, why in table:
        if pattern in used:
            print(f"row `{pattern}`: {why}")
    print(f"{len(ea)} steps, {unexplained} unexplained difference(s)")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
