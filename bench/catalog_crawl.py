#!/usr/bin/env python3
"""Crawls a Portale catalogue the way harvesters do and times it (bench/catalog_crawl.sh).

usage: catalog_crawl.py BASE_URL EXPECTED_DATASETS

1. DCAT: GET /catalog.ttl, then every hydra:next until there is none (one keep-alive
   connection, pages read whole; the next link is found in the Turtle text, not by an RDF
   parser, so the time is the server's and the transfer's);
2. CKAN: package_search?rows=1000&start=N&sort=id asc until an empty page, when the
   server has the CKAN API (404 otherwise: reported as not available).
Prints one JSON object: pages, datasets seen, bytes, seconds for each crawl.
"""
import http.client
import json
import re
import sys
import time
from urllib.parse import urlsplit

NEXT = re.compile(rb"hydra:next <([^>]+)>")
DATASET = re.compile(rb"<[^>]+#dataset> a ")


def getter(base):
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=300)

    def get(url):
        u = urlsplit(url)
        path = u.path + (f"?{u.query}" if u.query else "")
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    return get


def crawl_dcat(base, get):
    url, seen, pages, datasets, size = f"{base}/catalog.ttl", set(), 0, 0, 0
    t0 = time.perf_counter()
    while url:
        if url in seen:
            raise SystemExit(f"loop: {url} seen twice")
        seen.add(url)
        status, body = get(url)
        if status != 200:
            raise SystemExit(f"{url}: status {status}")
        pages += 1
        size += len(body)
        datasets += len(DATASET.findall(body))
        m = NEXT.search(body)
        url = m.group(1).decode() if m else None
    return {"pages": pages, "datasets": datasets, "bytes": size, "seconds": round(time.perf_counter() - t0, 3)}


def crawl_ckan(base, get):
    status, _ = get(f"{base}/api/3/action/package_search?rows=1")
    if status != 200:
        return {"available": False, "status": status}
    start, pages, ids, size = 0, 0, [], 0
    t0 = time.perf_counter()
    while True:
        status, body = get(f"{base}/api/3/action/package_search?rows=1000&start={start}&sort=id%20asc")
        if status != 200:
            raise SystemExit(f"package_search start={start}: status {status}")
        pages += 1
        size += len(body)
        results = json.loads(body)["result"]["results"]
        if not results:
            break
        ids.extend(r["id"] for r in results)
        start += len(results)
    return {"available": True, "pages": pages, "datasets": len(ids), "distinct": len(set(ids)),
            "bytes": size, "seconds": round(time.perf_counter() - t0, 3)}


def main():
    base, expected = sys.argv[1].rstrip("/"), int(sys.argv[2])
    get = getter(base)
    dcat = crawl_dcat(base, get)
    ckan = crawl_ckan(base, get)
    ok = dcat["datasets"] == expected and (not ckan["available"] or ckan["distinct"] == expected)
    print(json.dumps({"dcat": dcat, "ckan": ckan, "expected": expected, "ok": ok}))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
