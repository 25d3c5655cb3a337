#!/usr/bin/env python3
"""Read a running Portale's CKAN Action API the way real CKAN clients do, against its manifest.

usage: check_ckan.py BASE_URL MANIFEST_JSON

1. ckanapi (the CKAN project's own client): `ckanapi dump datasets --all -r URL` with POST
   (its default) and with GET (`-g`) returns every dataset of /datasets.json exactly once;
   `--datapackages` writes a datapackage per dataset; every resource URL serves bytes
   whose SHA-256 and size are the resource's `hash` and `size`.
2. ckanext-harvest's CKAN harvester gather stage, replayed: package_search with
   `rows=100&start=N&sort=id asc` until an empty page, aborting when two pages are
   byte-identical, dropping ids seen before; with the `fq` it builds for an incremental
   harvest (`metadata_modified:[<last run - 1 h>Z TO *]`, isoformat with microseconds) and
   for organization/group include and exclude filters. Every expected id exactly once.
3. Package dicts as a receiving CKAN validates them: name `[a-z0-9_-]{2,100}`, tags
   `[\\w \\-.]{2,100}`, metadata_modified `YYYY-MM-DDTHH:MM:SS.ffffff`, no extra named like a
   core field, resources whose url, size and hash match the manifest.
"""
import datetime
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse

import requests
from ckanapi import RemoteCKAN
from ckanapi.errors import CKANAPIError, NotFound, SearchError, SearchQueryError, ValidationError

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL", msg)


# ckan/logic/schema.py (CKAN 2.10): default_create_package_schema + default_show_package_schema.
CORE_KEYS = {
    "__before", "id", "name", "title", "author", "author_email", "maintainer", "maintainer_email",
    "license_id", "notes", "url", "version", "state", "type", "owner_org", "private", "__extras",
    "__junk", "resources", "tags", "tag_string", "plugin_data", "extras", "save", "return_to",
    "relationships_as_object", "relationships_as_subject", "groups", "isopen", "license_url",
    "metadata_created", "metadata_modified", "creator_user_id", "num_resources", "num_tags",
    "organization", "tracking_summary", "license_title",
}
NAME = re.compile(r"^[a-z0-9_-]{2,100}$")
TAG = re.compile(r"^[\w \-.]{2,100}$")
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")


def search_for_datasets(base, fq_terms=None):
    """ckanext-harvest's CKANHarvester._search_for_datasets, minus the CKAN plumbing."""
    url = base + "/api/3/action/package_search"
    params = {"rows": "100", "start": "0", "sort": "id asc"}
    if fq_terms:
        params["fq"] = " ".join(fq_terms)
    pkg_dicts, pkg_ids, previous = [], set(), None
    duplicates = 0
    while True:
        content = requests.get(url + "?" + urllib.parse.urlencode(params), timeout=30).content
        if previous is not None and content == previous:
            raise RuntimeError(f"the paging doesn't seem to work: {params}")
        page = json.loads(content).get("result", {}).get("results", [])
        ids_in_page = {p["id"] for p in page}
        duplicates += len(ids_in_page & pkg_ids)
        page = [p for p in page if p["id"] not in pkg_ids]
        pkg_ids |= ids_in_page
        pkg_dicts.extend(page)
        if not page:
            break
        params["start"] = str(int(params["start"]) + int(params["rows"]))
        previous = content
    return pkg_dicts, duplicates


def harvest(base, label, fq_terms, expected):
    try:
        dicts, duplicates = search_for_datasets(base, fq_terms)
    except Exception as e:  # noqa: BLE001 - reported, not raised
        check(False, f"harvest {label}: {e}")
        return
    names = [d["name"] for d in dicts]
    check(duplicates == 0, f"harvest {label}: {duplicates} ids came on two pages")
    check(len(names) == len(set(names)), f"harvest {label}: a dataset came twice")
    check(set(names) == set(expected), f"harvest {label}: got {sorted(names)}, expected {sorted(expected)}")


def parse_modified(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(datetime.timezone.utc).replace(tzinfo=None)


def main(base, manifest_path):
    manifest = json.load(open(manifest_path))
    by_id = {d["id"]: d for d in manifest["datasets"]}
    listed, page = [], 1
    while True:
        body = requests.get(f"{base}/datasets.json", timeout=10,
                            params={"origin": "local", "per_page": 100, "page": page, "facets": "false"}).json()
        listed += [d["id"] for d in body["results"]]
        if page >= body["pages"]:
            break
        page += 1
    check(sorted(listed) == sorted(by_id), "/datasets.json and the manifest list different datasets")

    # 1. ckanapi, the CLI and the library.
    with tempfile.TemporaryDirectory() as tmp:
        for flags in ([], ["-g"]):
            out = os.path.join(tmp, "dump.jsonl")
            run = subprocess.run(["ckanapi", "dump", "datasets", "--all", "-q", "-r", base, "-O", out] + flags,
                                 capture_output=True, text=True)
            check(run.returncode == 0, f"ckanapi dump {flags}: {run.stderr[-500:]}")
            dumped = [json.loads(line) for line in open(out)] if run.returncode == 0 else []
            names = [d["name"] for d in dumped]
            check(sorted(names) == sorted(listed), f"ckanapi dump {flags}: {sorted(names)} != {sorted(listed)}")
            check(len(set(d["id"] for d in dumped)) == len(dumped), f"ckanapi dump {flags}: duplicate ids")
        dp = os.path.join(tmp, "dp")
        run = subprocess.run(["ckanapi", "dump", "datasets", "--all", "-q", "-r", base, "--datapackages", dp],
                             capture_output=True, text=True)
        check(run.returncode == 0, f"ckanapi --datapackages: {run.stderr[-500:]}")
        # ckanapi 4.11's create_datapackage downloads the *last* resource into every file
        # (it passes its loop's leftover `resource`, not `cres`), so the files it writes
        # are not compared here: the resources are fetched below instead.
        for name in listed:
            path = os.path.join(dp, name, "datapackage.json")
            if not os.path.exists(path):
                check(False, f"ckanapi wrote no datapackage for {name}")
                continue
            package = json.load(open(path))
            check(len(package["resources"]) == len(by_id[name]["distributions"]), f"{name}: datapackage resources")
            check(package.get("license", {}).get("title") or package.get("license"), f"{name}: datapackage without a licence")

    ckan = RemoteCKAN(base)
    check(ckan.action.package_list() == sorted(listed), "package_list is not the sorted dataset ids")
    try:
        ckan.action.package_show(id="no-such-dataset")
        check(False, "package_show of a missing dataset did not fail")
    except NotFound:
        pass
    for bad, error in (({"rows": "many"}, ValidationError), ({"sort": "id"}, SearchQueryError), ({"fq": "tags:("}, SearchError)):
        try:
            ckan.action.package_search(**bad)
            check(False, f"package_search {bad} did not fail")
        except error:
            pass
    # A GET over the server's caps (q longer than 500 characters) is refused before the
    # action runs (a POST body's q is checked by the action: SearchError), still in CKAN's
    # envelope, which ckanapi passes on in its generic error.
    try:
        RemoteCKAN(base, get_only=True).action.package_search(q="scuola " * 80)
        check(False, "GET package_search with a 560-character q did not fail")
    except CKANAPIError as e:
        text = str(e)
        check(type(e) is CKANAPIError and ", 400, " in text and '"success":false' in text
              and '"__type":"Bad Request"' in text and "at most 500" in text,
              f"over-long q: not a 400 in CKAN's envelope naming the cap: {text[:300]}")
    status = ckan.action.status_show()
    check(status.get("ckan_version", "").startswith("2."), f"status_show ckan_version {status.get('ckan_version')}")

    # 3. The dicts, as a receiving CKAN validates them.
    downloads = 0
    for name in listed:
        d, p = by_id[name], ckan.action.package_show(id=name)
        check(NAME.match(p["name"]) and p["name"] == name, f"{name}: name {p['name']}")
        check(STAMP.match(p["metadata_modified"]) and STAMP.match(p["metadata_created"]), f"{name}: timestamps {p['metadata_created']} {p['metadata_modified']}")
        check(p["metadata_modified"] == parse_modified(d["modified"]).strftime("%Y-%m-%dT%H:%M:%S.%f"), f"{name}: metadata_modified {p['metadata_modified']} vs {d['modified']}")
        check(all(TAG.match(t["name"]) for t in p["tags"]), f"{name}: tags {[t['name'] for t in p['tags']]}")
        keys = [e["key"] for e in p["extras"]]
        check(not (set(keys) & CORE_KEYS) and len(keys) == len(set(keys)), f"{name}: extras keys {keys}")
        check(p["num_resources"] == len(d["distributions"]) == len(p["resources"]), f"{name}: resources")
        for r, dist in zip(p["resources"], d["distributions"]):
            check(r["hash"] == dist["sha256"] and r["size"] == dist["byte_size"], f"{name}: resource {dist['file']}")
            check(r["url"] == f"{base}/datasets/{name}/files/{dist['file']}", f"{name}: resource url {r['url']}")
            body = requests.get(r["url"], timeout=30).content
            check(hashlib.sha256(body).hexdigest() == r["hash"] and len(body) == r["size"], f"{name}: {r['url']} does not hash to the resource hash")
            downloads += 1
        # What the harvester's remote_orgs / remote_groups options fetch.
        org = ckan.action.organization_show(id=p["owner_org"])
        check(org["name"] == p["organization"]["name"], f"{name}: organization_show by owner_org")
        for g in p["groups"]:
            check(ckan.action.group_show(id=g["name"])["id"] == g["id"], f"{name}: group_show {g['name']}")

    # 2. ckanext-harvest's gather stage.
    harvest(base, "full", None, listed)
    times = sorted(parse_modified(d["modified"]) for d in manifest["datasets"])
    for since in (times[0] - datetime.timedelta(hours=1), times[len(times) // 2], times[-1] + datetime.timedelta(seconds=1)):
        fq = f"metadata_modified:[{since.isoformat()}Z TO *]"
        expected = [n for n in listed if parse_modified(by_id[n]["modified"]) >= since]
        harvest(base, f"since {since.isoformat()}", [fq], expected)
    orgs = ckan.action.organization_list()
    members = {o: [p["name"] for p in ckan.action.organization_show(id=o, include_datasets=True)["packages"]] for o in orgs}
    check(sorted(sum(members.values(), [])) == sorted(listed), "organizations do not partition the datasets")
    harvest(base, "organizations include", [" OR ".join(f"organization:{o}" for o in orgs)], listed)
    for o in orgs:
        harvest(base, f"organization {o}", [f"organization:{o}"], members[o])
        harvest(base, f"not organization {o}", [f"-organization:{o}"], [n for n in listed if n not in members[o]])
        since = times[0] - datetime.timedelta(hours=1)
        harvest(base, f"organization {o} since", [f"organization:{o}", f"metadata_modified:[{since.isoformat()}Z TO *]"], members[o])
    for g in ckan.action.group_list():
        themed = [n for n in listed if g.upper() in by_id[n]["meta"]["themes"]]
        harvest(base, f"group {g}", [f"groups:{g}"], themed)
        harvest(base, f"not group {g}", [f"-groups:{g}"], [n for n in listed if n not in themed])

    print(f"ckan: {len(listed)} datasets, {downloads} resources fetched by their package URL and hash, gather replayed")
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), sys.argv[2])
