"""Deliverables: download -> scan -> SHA-256 -> record of 1 GB and 2 GB files, against clamd alone
on the same bytes and against the download alone, measured in one run.

It starts the sandbox (HTTPS on a free loopback port, its own data folder under a temp dir) and
our own clamd (``gigbridge.integrations.clamav.daemon``, the limits ``gigbridge up`` uses: 2047M,
the most clamd takes: it scans no file over 2 GiB - 1 byte), writes each file (random bytes) to
the temp dir, uploads it to a group's document library through the product's ``upload_file``
(a Graph upload session), then measures, each in a child process of its own (its peak RSS:
``VmHWM`` of /proc/self/status):

- ``download``: the version's ``@microsoft.graph.downloadUrl`` read (no token, 1 MiB chunks) and
  dropped: what the files host and TLS give;
- ``clamd``: the local file's bytes sent to clamd with the product's client (``INSTREAM``,
  1 MiB chunks) until its verdict: what the scanner gives;
- ``pipeline``: ``gigbridge.files.scanning.scan_download`` (download, SHA-256 and clamd in one
  pass) then the record written (one row inserted in a SQLite table): what Gigbridge does.

MB/s are 10^6 bytes per second of wall time (over the bytes read; for a file clamd refuses as too
large, ``clamd`` stops where clamd answered). Files, sandbox data and clamd's folder live in a
temp dir under /tmp, removed at the end (``--keep`` keeps them).

    .venv/bin/python bench/deliverables/run.py                    # 1 GiB and 2 GiB, ~10 minutes
    .venv/bin/python bench/deliverables/run.py --sizes-mib 256    # a quick look
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from benchutil import code_fingerprint, free_port, machine, start_sandbox, stop  # noqa: E402

RESULTS = ROOT / "bench" / "results"
MIB = 1024 * 1024
READ = MIB  # what the product reads at a time (settings.CLAMAV["chunk_bytes"])
UPLOAD_CHUNK = 180 * 320 * 1024  # 56.25 MiB: the largest multiple of 320 KiB under 60 MiB


# -- the measured children ----------------------------------------------------------------------


def child_download(url: str) -> dict:
    from gigbridge.integrations.outbound.http import new_client

    received = 0
    with new_client(
        user_agent="bench", verify=os.environ["GIGBRIDGE_GRAPH_CA_BUNDLE"], timeout=120
    ) as http, http.stream("GET", url) as response:
        if response.status_code != 200:
            raise SystemExit(f"download answered {response.status_code}")
        for chunk in response.iter_bytes(READ):
            received += len(chunk)
    return {"bytes": received}


def child_clamd(path: str) -> dict:
    from gigbridge.integrations.clamav.client import Clamd

    scanner = Clamd(os.environ["GIGBRIDGE_CLAMD_ADDRESS"], timeout=600)
    with open(path, "rb") as handle, scanner.session() as scan:
        while not scan.done and (chunk := handle.read(READ)):
            scan.feed(chunk)
        result = scan.finish()
    return {"bytes": scan.sent, "verdict": result.status, "signature": result.signature}


def child_pipeline(url: str, size: int, database: str) -> dict:
    import sqlite3

    from gigbridge.files.scanning import scan_download

    scanned = scan_download(url, expected_size=size)
    with sqlite3.connect(database) as db:  # the record: one row, as files.scan writes it
        db.execute(
            "CREATE TABLE IF NOT EXISTS deliverable "
            "(size INTEGER, sha256 TEXT, verdict TEXT, signature TEXT, scanner TEXT, at TEXT)"
        )
        db.execute(
            "INSERT INTO deliverable VALUES (?, ?, ?, ?, ?, ?)",
            (
                scanned.size,
                scanned.sha256,
                scanned.result.status,
                scanned.result.signature,
                scanned.scanner,
                dt.datetime.now(dt.UTC).isoformat(),
            ),
        )
    return {
        "bytes": scanned.size,
        "verdict": scanned.result.status,
        "signature": scanned.result.signature,
        "sha256": scanned.sha256,
        "scanner": scanned.scanner,
    }


def child_main(argv: list[str]) -> None:
    kind, *rest = argv
    # Start-up (Django, imports) is not what is measured: done before the clock starts.
    import django

    django.setup()
    import gigbridge.files.scanning  # noqa: F401
    import gigbridge.integrations.clamav.client  # noqa: F401
    import gigbridge.integrations.outbound.http  # noqa: F401

    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    started = time.perf_counter()
    if kind == "download":
        out = child_download(rest[0])
    elif kind == "clamd":
        out = child_clamd(rest[0])
    else:
        out = child_pipeline(rest[0], int(rest[1]), rest[2])
    out["seconds"] = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu_seconds"] = usage.ru_utime + usage.ru_stime - cpu_before
    # This process's own high-water mark (wait4's ru_maxrss would start from the parent's: a
    # child inherits its parent's peak across fork and exec on Linux).
    out["max_rss_mib"] = vm_hwm_mib(os.getpid())
    print(json.dumps(out), flush=True)


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs so far (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def measure(env: dict, *args: str) -> dict:
    """Run one child; -> its JSON line (with its peak RSS, MiB), MB/s, and how busy the whole
    machine's CPUs were meanwhile (the sandbox, clamd and other jobs share them)."""
    busy_before, total_before = machine_busy()
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--child", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    out = proc.stdout.read()
    if proc.wait():
        raise RuntimeError(f"{args[0]} failed with {proc.returncode}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result["mb_per_s"] = result["bytes"] / result["seconds"] / 1e6
    busy_after, total_after = machine_busy()
    result["machine_cpu_busy"] = (busy_after - busy_before) / max(1, total_after - total_before)
    return result


# -- set-up -------------------------------------------------------------------------------------


def write_file(path: Path, size: int) -> None:
    block = 16 * MIB
    with open(path, "wb") as out:
        left = size
        while left:
            out.write(os.urandom(min(block, left)))
            left -= min(block, left)


def library(info: dict):
    """A new group's drive in the sandbox tenant and the product's GraphClient: -> (client,
    drive, root)."""
    import httpx

    from gigbridge.integrations.msgraph.client import GraphClient
    from gigbridge.sandbox.client import ssl_context_from
    from gigbridge.sandbox.graph.testing import Graph, app_token
    from gigbridge.sandbox.tests.files_support import token_provider, unified_group

    http = httpx.Client(verify=ssl_context_from(info["ca_cert"]), timeout=600)
    graph = Graph(http, info, app_token(info))
    group = unified_group(graph, "Bench")
    drive = graph.ok("GET", f"/groups/{group}/drive")["id"]
    root = graph.ok("GET", f"/drives/{drive}/root")["id"]
    client = GraphClient(
        info["graph_base_url"], token_provider(info), verify=info["ca_cert"], limiter=None,
        timeout=900,
    )  # fmt: skip
    return client, drive, root


def vm_hwm_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes-mib", default="1024,2048", help="file sizes, MiB, comma-separated")
    parser.add_argument("--rounds", type=int, default=2, help="times each measure is repeated")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args(argv)
    sizes = [int(text) * MIB for text in args.sizes_mib.split(",")]
    work = Path(tempfile.mkdtemp(prefix="gb-bench-deliv-", dir="/tmp"))
    sandbox = clamd = None
    results: list[dict] = []
    facts = machine()
    try:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gigbridge.settings")
        (work / "sandbox").mkdir()
        (work / "product").mkdir(mode=0o700)
        print(f"temp dir {work}; starting the sandbox and clamd", flush=True)
        sandbox, info = start_sandbox(
            work / "sandbox",
            free_port(),
            # gunicorn's sync worker is killed after 30 s without a heartbeat, and it sends
            # none while it serves one 2 GB download or hashes a 2 GB upload: allow that here.
            extra_env={"GUNICORN_CMD_ARGS": "--timeout 900"},
        )
        from gigbridge.integrations.clamav import daemon

        clamd = daemon.start(work / "clamd")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("GIGBRIDGE_")},
            "GIGBRIDGE_DATA_DIR": str(work / "product"),
            "GIGBRIDGE_GRAPH_CA_BUNDLE": info["ca_cert"],
            "GIGBRIDGE_CLAMD_ADDRESS": clamd.address,
            "GIGBRIDGE_CLAMD_TIMEOUT": "900",
            "GIGBRIDGE_CLAMD_CHUNK_BYTES": str(READ),
            "DJANGO_SETTINGS_MODULE": "gigbridge.settings",
            "PYTHONPATH": str(ROOT),
        }
        env.pop("DATABASE_URL", None)
        os.environ.update(GIGBRIDGE_DATA_DIR=str(work / "product"))
        import django

        django.setup()
        from gigbridge.integrations.msgraph.upload import upload_file

        client, drive, root = library(info)
        for size in sizes:
            path = work / f"deliverable-{size // MIB}MiB.bin"
            print(f"{size // MIB} MiB: writing, uploading", flush=True)
            write_file(path, size)
            started = time.perf_counter()
            with open(path, "rb") as stream:
                item = upload_file(
                    client, drive, root, path.name, stream, size, chunk_size=UPLOAD_CHUNK
                )
            upload_seconds = time.perf_counter() - started
            fresh = client.get_json(f"/drives/{drive}/items/{item['id']}", type_name="driveItem")
            url = fresh["@microsoft.graph.downloadUrl"]
            row = {"size_bytes": size, "upload_seconds": upload_seconds, "rounds": []}
            for number in range(1, args.rounds + 1):
                got = {}
                for kind, extra in (
                    ("download", [url]),
                    ("clamd", [str(path)]),
                    ("pipeline", [url, str(size), str(work / "records.sqlite3")]),
                ):
                    # Each measure starts with no dirty pages left by the one before (clamd
                    # spools each stream to disk): write-back would slow the next one.
                    os.sync()
                    print(f"{size // MIB} MiB round {number}: {kind}", flush=True)
                    got[kind] = measure(env, kind, *extra)
                    print(f"  {json.dumps(got[kind])}", flush=True)
                slower = min(got["download"]["mb_per_s"], got["clamd"]["mb_per_s"])
                got["pipeline_vs_slower"] = got["pipeline"]["mb_per_s"] / slower
                got["sha256_matches_sandbox"] = (
                    got["pipeline"]["sha256"].upper() == fresh["file"]["hashes"]["sha256Hash"]
                )
                row["rounds"].append(got)
            results.append(row)
            path.unlink()
        clamd_peak = vm_hwm_mib(clamd.process.pid)
    finally:
        if clamd is not None:
            clamd.stop()
        if sandbox is not None:
            stop(sandbox)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    report = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": facts,
        "code": code_fingerprint(),
        "read_chunk_bytes": READ,
        "clamd_limits": vars(daemon.Limits()),
        "clamd_peak_rss_mib": clamd_peak,
        "results": results,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "deliverables.json").write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(table(results))
    return 0


def table(results: list[dict]) -> str:
    lines = [
        "| file | measure | MB/s | seconds | peak RSS MiB | CPU s (process) | machine CPU busy "
        "| verdict |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in results:
        for number, got in enumerate(row["rounds"], 1):
            name = f"{row['size_bytes'] // MIB} MiB, round {number}"
            for kind in ("download", "clamd", "pipeline"):
                one = got[kind]
                lines.append(
                    f"| {name} | {kind} | {one['mb_per_s']:.1f} | {one['seconds']:.1f} | "
                    f"{one['max_rss_mib']:.0f} | {one['cpu_seconds']:.1f} | "
                    f"{one['machine_cpu_busy']:.0%} | {one.get('verdict', '')} |"
                )
            lines.append(
                f"| {name} | pipeline / slower of the two | {got['pipeline_vs_slower']:.2f} "
                "| | | | | |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child_main(sys.argv[2:])
    else:
        sys.exit(main())
