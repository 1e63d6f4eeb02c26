#!/usr/bin/env python3
"""Builds a multi-layer linux/arm64 image of incompressible data and pushes it to the test
registry, unless the registry already has it (issue 24: pulls of >= 200 MB).

    bench/big_image.py [REF] [LAYERS] [MIB_PER_LAYER]
    (default 127.0.0.1:5000/twinbox/big:latest, 4 layers of 56 MiB: ~225 MB compressed)

Each layer is a gzip'd tar (level 1, as fast as gzip goes; random bytes do not shrink) of one
file of random bytes; the config lists their diff_ids, so dockerd loads it like any image.
Written as an OCI layout in a temp dir and pushed with skopeo. Prints the reference.
"""
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import urllib.request

REF = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:5000/twinbox/big:latest"
LAYERS = int(sys.argv[2]) if len(sys.argv) > 2 else 4
MIB = int(sys.argv[3]) if len(sys.argv) > 3 else 56


def present(ref):
    host, rest = ref.split("/", 1)
    repo, tag = rest.rsplit(":", 1)
    req = urllib.request.Request(
        f"http://{host}/v2/{repo}/manifests/{tag}", method="HEAD",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status == 200
    except Exception:  # 404 or no registry: build and push (skopeo says what is wrong)
        return False


def put_blob(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return "sha256:" + digest


def layer(k):
    tar_buf = io.BytesIO()
    with tarfile.open(fileobj=tar_buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        payload = os.urandom(MIB << 20)
        info = tarfile.TarInfo(f"data/layer-{k}.bin")
        info.size = len(payload)
        info.mtime = 0
        info.mode = 0o644
        t.addfile(info, io.BytesIO(payload))
    tar = tar_buf.getvalue()
    gz_buf = io.BytesIO()
    with gzip.GzipFile(fileobj=gz_buf, mode="wb", compresslevel=1, mtime=0) as g:
        g.write(tar)
    return "sha256:" + hashlib.sha256(tar).hexdigest(), gz_buf.getvalue()


def main():
    if present(REF):
        print(REF)
        return
    with tempfile.TemporaryDirectory(prefix="tbbig.", dir="/var/tmp") as layout:
        os.makedirs(os.path.join(layout, "blobs", "sha256"))
        diff_ids, descs = [], []
        for k in range(LAYERS):
            diff_id, gz = layer(k)
            diff_ids.append(diff_id)
            descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                          "digest": put_blob(layout, gz), "size": len(gz)})
        config = json.dumps({
            "architecture": "arm64", "os": "linux",
            "config": {"Cmd": ["/bin/sh"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }).encode()
        manifest = json.dumps({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": put_blob(layout, config), "size": len(config)},
            "layers": descs,
        }).encode()
        with open(os.path.join(layout, "oci-layout"), "w") as f:
            f.write('{"imageLayoutVersion":"1.0.0"}')
        with open(os.path.join(layout, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": put_blob(layout, manifest), "size": len(manifest),
                "annotations": {"org.opencontainers.image.ref.name": "big"}}]}, f)
        subprocess.run(["skopeo", "copy", "-q", "--dest-tls-verify=false",
                        f"oci:{layout}:big", f"docker://{REF}"], check=True)
    print(REF)


if __name__ == "__main__":
    main()
