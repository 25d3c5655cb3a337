#!/usr/bin/env python3
"""Drive a running Portale with an HTTP client and GDAL, against its own manifest.

usage: check_http.py BASE_URL MANIFEST_JSON
Checks /-/health, /datasets.json (the search: every own dataset, page by page, and a few
searches whose answers the manifest decides), /datasets/{id}.json, and every download: status,
Content-Type, Content-Length, ETag (and If-None-Match → 304), a Range request (206 with
the right bytes), the SHA-256 of the body against the manifest; then GDAL's ogrinfo
reads FlatGeobuf and GeoPackage files over HTTP (/vsicurl/, which uses Range requests)
and must report the manifest's feature count.
"""
import hashlib
import json
import shutil
import subprocess
import sys

import requests

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL", msg)


def own_ids(base):
    """Every dataset /datasets.json lists with origin=local, following its pages."""
    ids, page, seen_pages = [], 1, 0
    while True:
        r = requests.get(f"{base}/datasets.json",
                         params={"origin": "local", "per_page": 100, "page": page, "facets": "false"},
                         timeout=10)
        check(r.status_code == 200, f"/datasets.json page {page}: {r.status_code} {r.text[:200]}")
        if r.status_code != 200:
            return ids
        body = r.json()
        ids += [d["id"] for d in body["results"]]
        seen_pages += 1
        if page >= body["pages"] or seen_pages > 1000:
            check(len(ids) == body["total"], f"/datasets.json total {body['total']}, pages gave {len(ids)}")
            return ids
        check(body["links"]["next"] is not None, f"/datasets.json page {page} has no next link")
        page += 1


def check_search(base, manifest):
    """Searches whose answers follow from the manifest."""
    ds = manifest["datasets"][0]
    r = requests.get(f"{base}/datasets.json", params={"q": ds["meta"]["title"], "origin": "local"}, timeout=10)
    check(r.status_code == 200, f"/datasets.json?q=...: {r.status_code}")
    if r.status_code == 200:
        ids = [d["id"] for d in r.json()["results"]]
        check(ds["id"] in ids[:10], f"searching the title {ds['meta']['title']!r} does not find {ds['id']} in the first 10: {ids[:10]}")
    theme = ds["meta"]["themes"][0]
    r = requests.get(f"{base}/datasets.json", params={"theme": theme, "origin": "local", "per_page": 1}, timeout=10)
    expected = sum(1 for d in manifest["datasets"] if theme in d["meta"]["themes"])
    check(r.status_code == 200 and r.json()["total"] == expected,
          f"/datasets.json?theme={theme}: {r.status_code}, total {r.json().get('total') if r.ok else None}, manifest {expected}")
    bad = requests.get(f"{base}/datasets.json", params={"thema": theme}, timeout=10)
    check(bad.status_code == 400 and "thema" in bad.text, f"unknown parameter answered {bad.status_code}")
    bad = requests.get(f"{base}/datasets.json", params={"bbox": "10,44,11,43"}, timeout=10)
    check(bad.status_code == 400, f"a bbox with min > max answered {bad.status_code}")
    word = ds["meta"]["title"].split()[0][:4]
    s = requests.get(f"{base}/suggest.json", params={"q": word}, timeout=10)
    check(s.status_code == 200 and isinstance(s.json().get("words"), list),
          f"/suggest.json?q={word}: {s.status_code} {s.text[:200]}")


def main(base, manifest_path):
    manifest = json.load(open(manifest_path))
    h = requests.get(f"{base}/-/health", timeout=10)
    check(h.status_code == 200 and h.json().get("status") == "ok", f"/-/health: {h.status_code} {h.text[:200]}")
    check(h.json().get("generation") == manifest["generation"], "health reports another generation")
    search = h.json().get("search") or {}
    check(search.get("generation") == manifest["generation"] and search.get("records", 0) >= len(manifest["datasets"]),
          f"health reports no search index of the served generation: {search}")

    lst = requests.get(f"{base}/datasets.json", timeout=10)
    check(lst.status_code == 200, f"/datasets.json: {lst.status_code}")
    check(lst.headers.get("content-type", "").startswith("application/json"), "datasets.json content type")
    ids = own_ids(base)
    check(sorted(ids) == sorted(d["id"] for d in manifest["datasets"]), f"dataset ids differ: {ids}")
    check_search(base, manifest)

    files = 0
    for ds in manifest["datasets"]:
        r = requests.get(f"{base}/datasets/{ds['id']}.json", timeout=10)
        check(r.status_code == 200, f"{ds['id']}.json: {r.status_code}")
        body = r.json()
        check(body.get("id") == ds["id"], f"{ds['id']}.json has id {body.get('id')}")
        check(body.get("rows") == ds["rows"], f"{ds['id']}.json rows")
        for dist in ds["distributions"]:
            files += 1
            url = f"{base}/datasets/{ds['id']}/files/{dist['file']}"
            r = requests.get(url, timeout=30)
            check(r.status_code == 200, f"{url}: {r.status_code}")
            check(int(r.headers.get("content-length", -1)) == dist["byte_size"], f"{url}: Content-Length")
            check(r.headers.get("content-type", "").split(";")[0] == dist["media_type"], f"{url}: Content-Type {r.headers.get('content-type')}")
            check(hashlib.sha256(r.content).hexdigest() == dist["sha256"], f"{url}: body SHA-256 differs from the manifest")
            etag = r.headers.get("etag")
            check(etag is not None, f"{url}: no ETag")
            if etag:
                r304 = requests.get(url, headers={"If-None-Match": etag}, timeout=10)
                check(r304.status_code == 304, f"{url}: If-None-Match gave {r304.status_code}")
            if dist["byte_size"] > 20:
                rr = requests.get(url, headers={"Range": "bytes=10-19"}, timeout=10)
                check(rr.status_code == 206 and rr.content == r.content[10:20], f"{url}: Range gave {rr.status_code}")
                check(rr.headers.get("content-range") == f"bytes 10-19/{dist['byte_size']}", f"{url}: Content-Range {rr.headers.get('content-range')}")
            if dist["file"].endswith((".fgb", ".gpkg")) and shutil.which("ogrinfo"):
                out = subprocess.run(["ogrinfo", "-ro", "-so", "-al", f"/vsicurl/{url}"], capture_output=True, text=True)
                check(out.returncode == 0, f"ogrinfo /vsicurl/{url}: {out.stderr[:300]}")
                count = [l for l in out.stdout.splitlines() if l.startswith("Feature Count:")]
                check(count and int(count[0].split(":")[1]) == dist["rows"], f"ogrinfo over HTTP counted {count} features in {url}, manifest says {dist['rows']}")
    bad = requests.get(f"{base}/datasets/{manifest['datasets'][0]['id']}/files/..%2fmanifest.json", timeout=10)
    # A traversal attempt is a bad request (400), never the file.
    check(bad.status_code == 400 and b'"generation"' not in bad.content, f"path traversal answered {bad.status_code}")
    print(f"http: {len(manifest['datasets'])} datasets, {files} downloads checked")
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), sys.argv[2])
