#!/usr/bin/env python3
"""Check a running Portale's /-/metrics with the Prometheus client library's own parser.

usage: check_metrics.py BASE_URL MANIFEST_JSON [SERVE_LOG]
Parses /-/metrics with prometheus_client.parser (the text exposition format 0.0.4), sends
known requests (5 health checks, 3 unknown paths, 1 download) and parses again: the
counters must have grown by exactly those numbers, every histogram's buckets must be
cumulative with +Inf equal to _count, and the gauges must agree with the manifest
(generation, datasets, built_at). With SERVE_LOG (the server's output, started with
--log-format json), every log line must be a JSON object and the access lines of the
requests sent must carry their X-Request-Id.
"""
import datetime
import json
import sys
import time

import requests
from prometheus_client.parser import text_string_to_metric_families

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL", msg)


def scrape(base):
    r = requests.get(f"{base}/-/metrics", timeout=10)
    check(r.status_code == 200, f"/-/metrics: {r.status_code}")
    check(r.headers.get("Content-Type") == "text/plain; version=0.0.4; charset=utf-8",
          f"/-/metrics Content-Type {r.headers.get('Content-Type')!r}")
    check(r.headers.get("X-Request-Id"), "/-/metrics has no X-Request-Id")
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    return families


def sample(families, family, name, **labels):
    f = families.get(family)
    if f is None:
        return None
    for s in f.samples:
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


def requests_total(families, route, method, status):
    return sample(families, "portale_http_requests", "portale_http_requests_total",
                  route=route, method=method, status=str(status)) or 0.0


def check_histograms(families, require_routes):
    f = families.get("portale_http_request_duration_seconds")
    check(f is not None and f.type == "histogram", "no histogram portale_http_request_duration_seconds")
    if f is None:
        return
    routes = sorted({s.labels["route"] for s in f.samples})
    check(len(routes) > 0 or not require_routes, "the latency histogram has no routes")
    for route in routes:
        buckets = sorted(
            ((float(s.labels["le"]), s.value) for s in f.samples
             if s.name.endswith("_bucket") and s.labels["route"] == route),
            key=lambda b: b[0])
        count = sample({f.name: f}, f.name, f.name + "_count", route=route)
        total = sample({f.name: f}, f.name, f.name + "_sum", route=route)
        check(len(buckets) == 13, f"{route}: {len(buckets)} buckets, expected 12 and +Inf")
        check(all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])),
              f"{route}: buckets not cumulative {buckets}")
        check(buckets and buckets[-1][0] == float("inf") and buckets[-1][1] == count,
              f"{route}: +Inf bucket {buckets[-1] if buckets else None} != count {count}")
        check(total is not None and total >= 0, f"{route}: sum {total}")


def main():
    base, manifest_path = sys.argv[1].rstrip("/"), sys.argv[2]
    log_path = sys.argv[3] if len(sys.argv) > 3 else None
    with open(manifest_path) as f:
        manifest = json.load(f)
    dist = next(d for ds in manifest["datasets"] for d in ds["distributions"])
    ds_id = next(ds["id"] for ds in manifest["datasets"] if dist in ds["distributions"])

    before = scrape(base)
    check_histograms(before, require_routes=False)
    ids = [f"conformance-{i}" for i in range(5)]
    for rid in ids:
        r = requests.get(f"{base}/-/health", headers={"X-Request-Id": rid}, timeout=10)
        check(r.status_code == 200 and r.headers.get("X-Request-Id") == rid,
              f"/-/health with id {rid}: {r.status_code} {r.headers.get('X-Request-Id')}")
    for i in range(3):
        r = requests.get(f"{base}/no-such-page-{i}", headers={"X-Request-Id": "bad id!"}, timeout=10)
        made = r.headers.get("X-Request-Id", "")
        check(r.status_code == 404 and made != "bad id!" and len(made) == 16,
              f"unknown path: {r.status_code}, request id {made!r}")
        try:
            in_body = r.json()["error"].get("request_id")
        except (ValueError, KeyError, TypeError):
            in_body = None
        check(in_body == made, f"unknown path: error.request_id {in_body!r} != header {made!r}")
    r = requests.get(f"{base}/datasets/{ds_id}/files/{dist['file']}", timeout=30)
    check(r.status_code == 200, f"download {ds_id}/{dist['file']}: {r.status_code}")
    after = scrape(base)
    check_histograms(after, require_routes=True)

    for (route, method, status, n) in [("/-/health", "GET", 200, 5), ("unmatched", "GET", 404, 3),
                                       ("/datasets/{id}/files/{file}", "GET", 200, 1),
                                       ("/-/metrics", "GET", 200, 1)]:
        grew = requests_total(after, route, method, status) - requests_total(before, route, method, status)
        check(grew == n, f"requests_total{{{route},{method},{status}}} grew by {grew}, expected {n}")
    dl_before = sample(before, "portale_downloads", "portale_downloads_total", dataset=ds_id) or 0.0
    dl_after = sample(after, "portale_downloads", "portale_downloads_total", dataset=ds_id)
    check(dl_after == dl_before + 1, f"downloads_total{{{ds_id}}}: {dl_before} -> {dl_after}")

    info = sample(after, "portale_build_info", "portale_build_info", generation=manifest["generation"])
    check(info == 1.0, f"portale_build_info for generation {manifest['generation']}: {info}")
    datasets = sample(after, "portale_generation_datasets", "portale_generation_datasets")
    check(datasets == len(manifest["datasets"]), f"generation_datasets {datasets}")
    built = datetime.datetime.fromisoformat(manifest["built_at"].replace("Z", "+00:00"))
    expected_age = time.time() - built.timestamp()
    age = sample(after, "portale_generation_age_seconds", "portale_generation_age_seconds")
    check(age is not None and abs(age - expected_age) < 5, f"generation age {age}, expected {expected_age:.1f}")
    rss = sample(after, "process_resident_memory_bytes", "process_resident_memory_bytes")
    check(sys.platform != "linux" or (rss or 0) > 1e6, f"process_resident_memory_bytes {rss}")

    if log_path:
        time.sleep(0.2)
        lines = [line for line in open(log_path) if line.startswith("{")]
        check(len(lines) > 0, f"{log_path}: no JSON log lines")
        seen = set()
        for line in lines:
            try:
                obj = json.loads(line)
            except ValueError as e:
                check(False, f"log line is not JSON ({e}): {line[:200]}")
                continue
            for key in ("timestamp", "level", "target", "message"):
                check(key in obj, f"log line without {key}: {line[:200]}")
            if obj.get("target") == "portale::access" and obj.get("route") == "/-/health":
                seen.add(obj.get("span", {}).get("id"))
        check(set(ids) <= seen, f"access lines for the ids {sorted(set(ids) - seen)} are missing")

    if failures:
        print(f"{len(failures)} metrics/log failure(s)")
        sys.exit(1)
    print(f"/-/metrics parsed by prometheus_client: {len(after)} families, counters and histograms consistent")


main()
