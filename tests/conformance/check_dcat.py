#!/usr/bin/env python3
"""DCAT-AP_IT conformance of a running Portale, with independent tools (rdflib, pySHACL).

usage: check_dcat.py BASE_URL MANIFEST [--expect-excellent] [--twins N]
       check_dcat.py --validate SOURCE [--expect-datasets N]
                                             (a file or URL; a paged URL is crawled)

For BASE_URL (served with --public-url BASE_URL) and the generation's manifest.json:
1. crawls /catalog.ttl, /catalog.rdf and /catalog.jsonld through hydra:next, checking on
   every page the exact Content-Type, hydra:totalItems / itemsPerPage, that the deprecated
   nextPage/firstPage/lastPage/previousPage agree with next/first/last/previous, that no
   page is seen twice, and at the end that every dataset of the manifest was returned
   exactly once, in id order;
2. checks that the three crawls are the same graph (rdflib; page URLs compared with their
   extension normalised, since each syntax links to its own pages) and hold no blank node;
3. validates the Turtle crawl with the AgID DCAT-AP_IT rules (SPARQL, errors count) and
   the SEMIC DCAT-AP 3.0.1 shapes (pySHACL, inference none): both must report nothing;
   the copies in tests/fixtures/dcat make this work without ../shared; when
   ../shared/conformance/validate_dcat.py exists it is run too (AgID rules only: its
   --shacl run cannot load the SEMIC file once a dcat:DataService is present, see
   tests/fixtures/dcat/dcat-ap-3.0.1_dataservice-range-shapes.ttl);
4. checks that /datasets/{id}.ttl (all, or the first N with --twins) holds exactly the
   triples reachable from the dataset in the catalogue;
5. HEAD, page=0 and junk (400), a page past the end (404), /sitemap.xml and /robots.txt;
6. with --expect-excellent, that every dataset's quality_score is rated Excellent.
"""
import argparse
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

from rdflib import BNode, Graph, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures" / "dcat"
SHARED_VALIDATOR = HERE.parent.parent.parent / "shared" / "conformance" / "validate_dcat.py"
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
SH = Namespace("http://www.w3.org/ns/shacl#")
SYNTAXES = {"ttl": ("text/turtle", "turtle"), "rdf": ("application/rdf+xml", "xml"),
            "jsonld": ("application/ld+json", "json-ld")}
PAIRS = [("next", "nextPage"), ("previous", "previousPage"), ("first", "firstPage"), ("last", "lastPage")]

failures = []


def check(ok, message):
    if not ok:
        failures.append(message)
        print(f"FAIL {message}")
    return ok


def request(url, method="GET"):
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


# --- validation: AgID rules and SEMIC shapes ------------------------------------------

def run_rules(g):
    errors, warnings, broken = [], 0, 0
    for rule in sorted((FIXTURES / "agid-rules").glob("*.rq")):
        try:
            rows = list(g.query(rule.read_text(encoding="utf-8")))
        except Exception as exc:  # a rule rdflib cannot run counts against us
            broken += 1
            print(f"rule {rule.name} could not run: {exc}")
            continue
        for row in rows:
            d = row.asdict()
            if str(d.get("Rule_Severity", "")).lower() == "error":
                errors.append(f"rule {d.get('Rule_ID', rule.stem)}: {d.get('Message', '')}")
            else:
                warnings += 1
    return errors, warnings, broken


def run_shacl(g):
    from pyshacl import validate
    shapes = Graph()
    shapes.parse(FIXTURES / "dcat-ap-3.0.1_dcat-ap-SHACL.ttl", format="turtle")
    shapes.parse(FIXTURES / "dcat-ap-3.0.1_dataservice-range-shapes.ttl", format="turtle")
    _, report, text = validate(g, shacl_graph=shapes, inference="none", allow_warnings=True)
    violations = len(list(report.subjects(SH.resultSeverity, SH.Violation)))
    if violations:
        print(text[:8000])
    return violations


def validate_graph(g, label, expect_datasets=None):
    t0 = time.time()
    errors, warnings, broken = run_rules(g)
    for e in errors[:20]:
        print(f"  {e}")
    violations = run_shacl(g)
    datasets = len(set(g.subjects(RDF.type, DCAT.Dataset)))
    print(f"{label}: {len(g)} triples, {datasets} datasets, AgID errors {len(errors)}, "
          f"warnings {warnings}, rules not run {broken}, SHACL violations {violations} "
          f"({time.time() - t0:.0f} s)")
    check(not errors and not broken, f"{label}: AgID rules report {len(errors)} errors, {broken} rules not run")
    check(violations == 0, f"{label}: {violations} DCAT-AP 3.0.1 SHACL violations")
    check(datasets > 0, f"{label}: no dcat:Dataset")
    if expect_datasets is not None:
        check(datasets == expect_datasets, f"{label}: {datasets} datasets, expected {expect_datasets}")


# --- crawling ------------------------------------------------------------------------

def crawl(base, ext, manifest_ids):
    media_type, fmt = SYNTAXES[ext]
    url, seen, merged, dataset_order, total = f"{base}/catalog.{ext}", set(), Graph(), [], None
    catalog = URIRef(f"{base}/catalog")
    pages = 0
    while url:
        check(url not in seen, f"{ext}: page {url} seen twice (a loop)")
        if url in seen or pages > 10000:
            break
        seen.add(url)
        status, headers, body = request(url)
        if not check(status == 200, f"{url}: status {status}"):
            break
        ctype = headers.get("Content-Type") or headers.get("content-type")
        check(ctype == media_type, f"{url}: Content-Type {ctype!r}, expected exactly {media_type!r}")
        page = Graph().parse(data=body, format=fmt, publicID=url)
        pages += 1
        this = URIRef(url if "page=" in url else f"{url}?page=1")
        totals = [int(o) for o in page.objects(this, HYDRA.totalItems)]
        check(len(totals) == 1, f"{url}: {len(totals)} hydra:totalItems on {this}")
        check([int(o) for o in page.objects(this, HYDRA.itemsPerPage)] == [100], f"{url}: itemsPerPage is not 100")
        if totals:
            check(total is None or total == totals[0], f"{url}: totalItems changed during the crawl")
            total = totals[0]
        for new, old in PAIRS:
            a, b = set(page.objects(this, HYDRA[new])), set(page.objects(this, HYDRA[old]))
            check(a == b, f"{url}: hydra:{new} {a} differs from hydra:{old} {b}")
        ids = sorted(str(o) for o in page.objects(catalog, DCAT.dataset))
        check(len(ids) <= 100, f"{url}: {len(ids)} datasets on one page")
        dataset_order.extend(ids)
        merged += page
        nxt = list(page.objects(this, HYDRA.next))
        url = str(nxt[0]) if nxt else None
    expected = [f"{base}/datasets/{i}#dataset" for i in sorted(manifest_ids)]
    check(dataset_order == expected,
          f"{ext}: the crawl returned {len(dataset_order)} datasets ({len(set(dataset_order))} distinct), "
          f"the manifest has {len(expected)}; every one must come exactly once, in id order")
    check(total == len(expected), f"{ext}: hydra:totalItems {total}, manifest {len(expected)}")
    print(f"{ext}: {pages} pages, {len(dataset_order)} datasets, {len(merged)} triples")
    return merged


def normalised(g, base):
    """The graph with page URLs of every syntax written as Turtle page URLs."""
    out = Graph()

    def fix(t):
        if isinstance(t, URIRef):
            s = str(t)
            for ext in ("rdf", "jsonld"):
                s = s.replace(f"{base}/catalog.{ext}?", f"{base}/catalog.ttl?")
            return URIRef(s)
        return t
    for s, p, o in g:
        out.add((fix(s), p, fix(o)))
    return out


def same_graph(a, b):
    blank = any(isinstance(x, BNode) for t in list(a) + list(b) for x in t)
    if blank:
        return isomorphic(a, b)
    # Without blank nodes, isomorphism is equality of the triple sets.
    return set(a) == set(b)


def closure(g, start):
    out, todo, seen = Graph(), [start], {start}
    while todo:
        s = todo.pop()
        for p, o in g.predicate_objects(s):
            out.add((s, p, o))
            if isinstance(o, URIRef) and o not in seen:
                seen.add(o)
                todo.append(o)
    return out


def check_twins(base, catalogue, ids):
    for i in ids:
        for ext, (media_type, fmt) in SYNTAXES.items():
            status, headers, body = request(f"{base}/datasets/{i}.{ext}")
            if not check(status == 200, f"/datasets/{i}.{ext}: status {status}"):
                continue
            ctype = headers.get("Content-Type") or headers.get("content-type")
            check(ctype == media_type, f"/datasets/{i}.{ext}: Content-Type {ctype!r}")
            twin = Graph().parse(data=body, format=fmt)
            part = closure(catalogue, URIRef(f"{base}/datasets/{i}#dataset"))
            if not check(same_graph(twin, part), f"/datasets/{i}.{ext} differs from its part of the catalogue"):
                print("  only in twin:", sorted(map(str, set(twin) - set(part)))[:5])
                print("  only in catalogue:", sorted(map(str, set(part) - set(twin)))[:5])
    print(f"twins: {len(ids)} datasets × 3 syntaxes compared with the catalogue")


def check_http(base, manifest_ids):
    for ext, (media_type, _) in SYNTAXES.items():
        status, headers, body = request(f"{base}/catalog.{ext}", "HEAD")
        ctype = headers.get("Content-Type") or headers.get("content-type")
        check(status == 200 and ctype == media_type and body == b"", f"HEAD /catalog.{ext}: {status} {ctype}")
    for q in ("page=0", "page=abc", "page=-3", "modified_since=ieri"):
        status, _, _ = request(f"{base}/catalog.ttl?{q}")
        check(status == 400, f"/catalog.ttl?{q}: status {status}, expected 400")
    last = max(1, -(-len(manifest_ids) // 100))
    status, _, _ = request(f"{base}/catalog.ttl?page={last + 1}")
    check(status == 404, f"/catalog.ttl?page={last + 1}: status {status}, expected 404")
    status, _, body = request(f"{base}/robots.txt")
    check(status == 200 and f"Sitemap: {base}/sitemap.xml" in body.decode(), "/robots.txt names no sitemap")
    status, _, body = request(f"{base}/sitemap.xml")
    if check(status == 200, f"/sitemap.xml: status {status}"):
        ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
        locs = {e.text for e in ET.fromstring(body).findall("s:url/s:loc", ns)}
        missing = {f"{base}/datasets/{i}" for i in manifest_ids} - locs
        check(not missing, f"/sitemap.xml lacks {len(missing)} dataset pages")
        check(f"{base}/catalog.ttl" in locs, "/sitemap.xml lacks /catalog.ttl")


def check_scores(base, manifest_ids):
    bad = []
    for i in sorted(manifest_ids):
        status, _, body = request(f"{base}/datasets/{i}.json")
        score = json.loads(body)["quality_score"] if status == 200 else {}
        if score.get("rating") != "Excellent":
            bad.append((i, score.get("points"), score.get("rating")))
        org = json.loads(body).get("schema_org", {}) if status == 200 else {}
        check(org.get("@type") == "Dataset" and org.get("distribution"), f"/datasets/{i}.json: no schema.org Dataset")
    check(not bad, f"datasets not rated Excellent: {bad}")
    print(f"quality: {len(manifest_ids) - len(bad)} of {len(manifest_ids)} datasets Excellent")


def run_shared_validator(base, has_services):
    if not SHARED_VALIDATOR.exists():
        print(f"({SHARED_VALIDATOR} not found: skipped)")
        return
    # Its --shacl loads the SEMIC file alone, which pySHACL refuses once the data holds a
    # dcat:DataService (SEMICeu/DCAT-AP #448); the shapes ran above with the fix.
    args = [] if has_services else ["--shacl"]
    r = subprocess.run([sys.executable, str(SHARED_VALIDATOR), f"{base}/catalog.ttl", "--quiet", *args],
                       capture_output=True, text=True)
    last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr[-500:]
    print(f"shared validate_dcat.py {' '.join(args)}: {last}")
    check(r.returncode == 0, "../shared/conformance/validate_dcat.py reports errors")


def load_source(source):
    g = Graph()
    if source.startswith("http"):
        url, seen = source, set()
        while url and url not in seen:
            seen.add(url)
            status, headers, body = request(url)
            ctype = (headers.get("Content-Type") or headers.get("content-type") or "").split(";")[0]
            fmt = {v[0]: v[1] for v in SYNTAXES.values()}.get(ctype, "turtle")
            page = Graph().parse(data=body, format=fmt, publicID=url)
            g += page
            nxt = [o for p in (HYDRA.next, HYDRA.nextPage) for o in page.objects(None, p)]
            url = str(nxt[0]) if nxt else None
    else:
        fmt = "xml" if source.endswith(".rdf") else "json-ld" if source.endswith(".jsonld") else "turtle"
        g.parse(source, format=fmt)
    return g


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base", nargs="?")
    ap.add_argument("manifest", nargs="?")
    ap.add_argument("--validate")
    ap.add_argument("--expect-datasets", type=int, help="with --validate: the number of dcat:Dataset")
    ap.add_argument("--expect-excellent", action="store_true")
    ap.add_argument("--twins", type=int, default=0, help="compare only the first N dataset twins (0: all)")
    a = ap.parse_args()
    if a.validate:
        validate_graph(load_source(a.validate), a.validate, a.expect_datasets)
    else:
        base = a.base.rstrip("/")
        manifest = json.loads(Path(a.manifest).read_text(encoding="utf-8"))
        ids = [d["id"] for d in manifest["datasets"]]
        graphs = {ext: crawl(base, ext, ids) for ext in SYNTAXES}
        turtle = normalised(graphs["ttl"], base)
        for ext in ("rdf", "jsonld"):
            check(same_graph(turtle, normalised(graphs[ext], base)),
                  f"the Turtle and {ext} catalogues are different graphs")
        print("Turtle, RDF/XML and JSON-LD crawls: the same graph")
        validate_graph(graphs["ttl"], f"{base}/catalog.ttl")
        run_shared_validator(base, any(graphs["ttl"].subjects(RDF.type, DCAT.DataService)))
        check_twins(base, graphs["ttl"], sorted(ids)[: a.twins or None])
        check_http(base, ids)
        if a.expect_excellent:
            check_scores(base, ids)
    if failures:
        print(f"check_dcat: {len(failures)} failures")
        sys.exit(1)
    print("check_dcat: ok")


if __name__ == "__main__":
    main()
