"""Grade one engine answer against one expectation: "right" | "asked_back" | "wrong".

New answer contract (preferred): {"status": "answered"|"clarify"|"refused", "value": ..., "reading",
"text", "citations": [{case_number, quote, ...}], "kind"}. "value" is typed: a number (a share as a
fraction 0..1; a percentage above 1 is divided by 100), an ISO date, a string, a list of case numbers
(or of dicts with "case_number"), a list of {"label","value"} (or [label, value]) for rankings, a bool;
for "nothing matches" the engine answers status "answered" with value [] or 0 (or None/False).

FALLBACK for the current engine (no status/value): the answer's text is read conservatively.
  - status: kind "none", or text saying it could not understand / find the question's subject, is
    taken as "refused" (-> asked_back), except that a none-statement ("No letter ... mentions X",
    "No disputed item ... is a request for X") counts as an answer with an empty value, so it is
    right for none_found expectations (and for an expected 0 / False).
    A text that asks a question back ("which ...?", "did you mean", "please specify") is "clarify".
  - number: the first number of the first sentence after removing case numbers, dates and [n]
    markers; for a share, the first "NN%" of the first sentence (else a decimal <= 1).
  - date: the first date (ISO, m/d/yyyy or "Month d, yyyy") of the first sentence.
  - text: the first two sentences must contain an accepted string; outcome words (upheld /
    overturned) are decided by whichever outcome word comes first.
  - cases: every case number in the whole text (so a listing that also names other letters is wrong).
  - ranking: labels in order of first mention in the text, each with the first number after it
    (which must equal the expected count/share); a comparison (ordered False) needs each label
    with its value anywhere in the label's text segment (split at ; , newline), in any order.
  - text with "count"/"counts" (month / specialty rankings): the first number after the named
    winner must be that count (so a share or an item count given for a letter count is wrong).
  - bool: the text must start with yes/no (or "No ..." none-statement for False).
  - passage: a citation from the expected case (and a "contains" word in text or quotes).
  Limits: phrasing that puts the figure after another number (e.g. "Of 16 MRI requests, 4 were
  overturned") is graded on the first number, so it can be marked wrong; a share given only as a
  fraction ("4 of 16") without % is read as its first number and marked wrong. The FALLBACK can only
  give asked_back, never right, for a clarify expectation unless the text asks back explicitly.
"""

from __future__ import annotations

import re

CASE_RE = re.compile(r"\b(?:CM\d{2}-\d{7}|\d{4}-\d{5})\b", re.I)
MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], 1)}
NONE_RE = re.compile(
    r"^\s*(no (disputed item|letter|request|case|item|record|decision)s?\b|none\b|nothing\b|there (are|were) no\b)"
    r"|\bno (letter|disputed item|request|case)s? in the library\b|\bnot found in any letter\b", re.I)
NOT_UNDERSTOOD_RE = re.compile(
    r"could not (understand|read|tell|work out)|couldn't (understand|tell)|not sure what you|"
    r"rephrase|i don't know how to|cannot answer|can't answer|unable to answer", re.I)
CLARIFY_RE = re.compile(r"did you mean|please (specify|say|clarify)|which (one|case|date|item|letter)s?\b.*\?|"
                        r"could you (clarify|specify)|do you mean", re.I)
NOT_STATED_RE = re.compile(r"\b(does not|doesn't|did not) (state|say|mention|give|list)\b|\bnot stated\b|\bunknown\b", re.I)
UPHELD_RE = re.compile(r"\b(upheld|uphold|upholds|denial (stands|was upheld)|not medically necessary|denied)\b", re.I)
OVERTURNED_RE = re.compile(r"\b(overturned|overturn|overturns|approved|reversed)\b|(?<!not )\bmedically necessary\b", re.I)


def _norm(s: str) -> str:
    s = s.lower().replace("&", " and ").replace("orthopaedic", "orthopedic")
    return re.sub(r"\s+", " ", s)


def _sentences(text: str, n: int) -> str:
    text = re.sub(r"\[\d+\]", "", text or "")
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z\"'(])|\n", text.strip())
    return " ".join(p for p in parts[:n] if p).strip()


def _strip_ids(s: str) -> str:
    s = CASE_RE.sub(" ", s)
    s = re.sub(r"\b\d{4}-\d{2}-\d{2}\b", " ", s)
    s = re.sub(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b", " ", s)
    s = re.sub(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? (\d{1,2}, )?\d{4}\b", " ", s, flags=re.I)
    s = re.sub(r"\b(19|20)\d{2}\b", " ", s)  # bare years
    return s


def _first_number(s: str) -> float | None:
    m = re.search(r"(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?", _strip_ids(s))
    return float(m.group(0).replace(",", "")) if m else None


def _first_percent(s: str) -> float | None:
    m = re.search(r"(\d+(?:\.\d+)?)\s?%", _strip_ids(s))
    if m:
        return float(m.group(1)) / 100
    m = re.search(r"(?<![\w.])(0?\.\d+|1\.0+|0|1)(?![\w.%])", _strip_ids(s))
    return float(m.group(1)) if m else None


def _first_date(s: str) -> str | None:
    m = re.search(r"\b(\d{4})-(\d{2})-(\d{2})\b", s)
    if m:
        return m.group(0)
    m = re.search(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b", s)
    if m:
        return f"{m.group(3)}-{int(m.group(1)):02d}-{int(m.group(2)):02d}"
    m = re.search(r"\b([A-Za-z]+)\.? (\d{1,2}),? (\d{4})\b", s)
    if m and m.group(1).lower() in MONTHS:
        return f"{m.group(3)}-{MONTHS[m.group(1).lower()]:02d}-{int(m.group(2)):02d}"
    return None


def _iso(v) -> str | None:
    if v is None:
        return None
    s = str(v)
    return _first_date(s)


def _citations(answer: dict) -> list[dict]:
    return [c for c in (answer.get("citations") or []) if isinstance(c, dict)]


def _status(answer: dict, expected: dict) -> tuple[str, bool]:
    """(status, is_none_statement). Uses "status" when present, else the FALLBACK."""
    text = answer.get("text") or answer.get("answer") or ""
    if answer.get("status") in ("answered", "clarify", "refused"):
        st = answer["status"]
        return st, st == "answered" and _is_empty(answer.get("value"))
    if answer.get("status") == "error":
        return "error", False
    kind = answer.get("kind")
    first = _sentences(text, 1)
    if CLARIFY_RE.search(first) and "?" in first:
        return "clarify", False
    empty_ok = expected["type"] == "none_found"  # a none-statement is an answer only where "nothing" is right
    none_stmt = bool(NONE_RE.search(first) or (expected["type"] == "none_found" and NOT_STATED_RE.search(first)))
    if none_stmt and empty_ok and not NOT_UNDERSTOOD_RE.search(first):
        return "answered", True
    if kind == "none" or NOT_UNDERSTOOD_RE.search(first):
        return "refused", False
    return "answered", none_stmt


def _is_empty(v) -> bool:
    return v is None or v == [] or v == 0 or v is False or v == ""


def _num_ok(got: float | None, expected: dict) -> bool:
    if got is None:
        return False
    vals = expected.get("accept_values") or [expected["value"]]
    tol = float(expected.get("tolerance") or 0) + 1e-9
    if expected.get("share") and got > 1:
        got = got / 100
    return any(abs(got - float(v)) <= tol for v in vals)


def _label_match(label: str, row_label: str, accept: dict) -> bool:
    label = _norm(label)
    terms = [_norm(t) for t in accept.get(row_label, [])] + [_norm(row_label)]
    for t in terms:
        if re.search(r"(?<![a-z0-9])" + re.escape(t), label):
            return True
    return _norm(row_label) in label or (len(label) > 3 and label in _norm(row_label))


def _ranking_ok(labels: list[tuple[str, float | None]], expected: dict) -> bool:
    rows = expected["value"]
    top = expected["top"]
    accept = expected.get("accept") or {}
    if len(labels) < top:
        return False
    used: set[int] = set()
    for i in range(top):
        v = rows[i][1]
        group = [j for j, r in enumerate(rows) if r[1] == v and j not in used]
        lab, val = labels[i]
        hit = next((j for j in group if _label_match(lab, rows[j][0], accept)), None)
        if hit is None:
            return False
        if val is not None:
            tol = 0.011 if isinstance(v, float) and v <= 1 else 0.5
            vv = float(val) / 100 if (isinstance(v, float) and v <= 1 and float(val) > 1) else float(val)
            if abs(vv - float(v)) > tol:
                return False
        used.add(hit)
    return True


def _fallback_ranking_labels(text: str, expected: dict) -> list[tuple[str, float]]:
    accept = expected.get("accept") or {}
    found = []
    low = _norm(text)
    for label, _ in expected["value"]:
        terms = [_norm(t) for t in accept.get(label, [])] + [_norm(label)]
        pos = [m.start() for t in terms for m in re.finditer(r"(?<![a-z0-9])" + re.escape(t), low)]
        if pos:
            # the label's figure: the first number after its first mention (a % for a share ranking)
            after = _strip_ids(low[min(pos) + 1:min(pos) + 80])
            m = re.search(r"(?<![\w.])\d+(?:\.\d+)?", after)
            pct = re.match(r"[^\d]*?(\d+(?:\.\d+)?)\s?%", after)
            val = float(m.group(0)) if m else -1.0  # a label without a figure cannot be checked: wrong
            if pct and any(isinstance(v, float) and v <= 1 for _, v in expected["value"]):
                val = float(pct.group(1))
            found.append((min(pos), label, val))
    found.sort()
    return [(f[1], f[2]) for f in found]


def _value_close(got, v) -> bool:
    if got is None:
        return False
    if isinstance(got, (list, tuple, set)):  # fallback: any number of the label's segment
        return any(_value_close(g, v) for g in got)
    got = float(got)
    if isinstance(v, float) and v <= 1:
        if got > 1:
            got = got / 100
        return abs(got - v) <= 0.011
    return abs(got - float(v)) <= 0.5


def _unordered_ok(labels: list, expected: dict) -> bool:
    """A comparison: every expected row named, each with its value (any order)."""
    accept = expected.get("accept") or {}
    for row_label, v in expected["value"][: expected["top"]]:
        hit = [val for lab, val in labels if _label_match(lab, row_label, accept)]
        if not hit or not any(_value_close(h, v) for h in hit):
            return False
    return True


def _fallback_labels_with_values(text: str, expected: dict) -> list:
    """For each expected label, the numbers of the text segments (split at ; , newline) naming it."""
    accept = expected.get("accept") or {}
    share = any(isinstance(v, float) and v <= 1 for _, v in expected["value"])
    segs = re.split(r"[;,\n]", re.sub(r"\[\d+\]", "", text))
    out = []
    for label, _ in expected["value"]:
        terms = [_norm(t) for t in accept.get(label, [])] + [_norm(label)]
        for seg in segs:
            ns = _norm(seg)
            if any(re.search(r"(?<![a-z0-9])" + re.escape(t), ns) for t in terms):
                clean = _strip_ids(seg)
                if share:
                    nums = [float(x) / 100 for x in re.findall(r"(\d+(?:\.\d+)?)\s?%", clean)]
                else:
                    nums = [float(x) for x in re.findall(r"(?<![\w.])\d+(?:\.\d+)?", clean)]
                out.append((label, nums))
    return out


def _outcome_word(s: str) -> str | None:
    u = UPHELD_RE.search(s)
    o = OVERTURNED_RE.search(s)
    if u and (not o or u.start() <= o.start()):
        return "upheld"
    if o:
        return "overturned"
    if re.search(r"\bpartial", s, re.I):
        return "partially_overturned"
    return None


def grade(answer: dict, expected: dict) -> dict:
    """{"verdict": right|asked_back|wrong, "wrong_cited": bool, "why": str}"""
    et = expected["type"]
    text = answer.get("text") or answer.get("answer") or ""
    has_value = "value" in answer and answer.get("status") is not None
    value = answer.get("value")
    status, none_stmt = _status(answer, expected)
    cites = _citations(answer)

    def out(verdict: str, why: str) -> dict:
        return {"verdict": verdict, "wrong_cited": verdict == "wrong" and bool(cites), "why": why}

    if status == "error":
        return out("wrong", "engine error: " + text[:200])
    if et == "clarify":
        if status == "clarify":
            return out("right", "asked back")
        if status == "refused":
            return out("asked_back", "refused (not a clarifying question)")
        return out("wrong", "answered an ambiguous question")
    if status in ("clarify", "refused"):
        return out("asked_back", status)

    if et == "none_found":
        if none_stmt or (has_value and _is_empty(value)):
            return out("right", "said nothing matches")
        if not has_value and _first_number(_sentences(text, 1)) == 0:
            return out("right", "counted 0")
        return out("wrong", "claimed matches for an absent service")

    if et == "number":
        if has_value:
            got = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
            if got is None and isinstance(value, str):
                got = _first_number(value)
        else:
            if none_stmt:
                got = 0.0
            else:
                first = _sentences(text, 1)
                got = None
                if expected.get("unit") == "letters":  # "81 disputed items ..., in 25 letters": the letters figure
                    m = re.search(r"(\d+) (letters?|cases?|decisions?)\b", _strip_ids(first))
                    got = float(m.group(1)) if m else None
                if got is None:
                    got = _first_percent(first) if expected.get("share") else _first_number(first)
        return out("right" if _num_ok(got, expected) else "wrong", f"got {got}")

    if et == "date":
        got = _iso(value) if has_value else _first_date(_sentences(text, 1))
        return out("right" if got == expected["value"] else "wrong", f"got {got}")

    if et == "text":
        if has_value:
            s = " ".join(map(str, value)) if isinstance(value, list) else str(value)
            s = " ".join(str(x.get("label", x)) if isinstance(x, dict) else str(x) for x in value) if isinstance(value, list) else s
        else:
            s = _sentences(text, 2)
        if expected.get("value") in ("upheld", "overturned", "partially_overturned"):
            got = _outcome_word(s)
            ok = got == expected["value"] or (expected["value"] == "partially_overturned" and got == "overturned")
            return out("right" if ok else "wrong", f"outcome read as {got}")
        ns = _norm(s)
        hits = [a for a in expected["accept"] if _norm(a) in ns]
        ok = len(hits) == len(expected["accept"]) if expected.get("all") else bool(hits)
        counts = expected.get("counts") or ([expected["count"]] if "count" in expected else [])
        if ok and counts and not has_value:  # FALLBACK: the figure after the winner must be the count asked for
            pos = min(ns.find(_norm(h)) for h in hits)
            m = re.search(r"(?<![\w.])\d+(?:\.\d+)?", _strip_ids(ns[pos + 1:pos + 80]))
            ok = bool(m) and any(abs(float(m.group(0)) - c) < 0.5 for c in counts)
        elif ok and counts and isinstance(value, list) and value and isinstance(value[0], dict):
            ok = any(abs(float(value[0].get("value") or -1) - c) < 0.5 for c in counts)
        return out("right" if ok else "wrong", f"matched {hits}")

    if et == "cases":
        if has_value:
            got = set()
            for v in (value if isinstance(value, list) else []):  # a count where cases were asked: wrong
                cn = v.get("case_number") if isinstance(v, dict) else v
                if cn and CASE_RE.fullmatch(str(cn).strip()):
                    got.add(str(cn).strip().upper())
        else:
            got = {c.upper() for c in CASE_RE.findall(text)} if not none_stmt else set()
        sets = [expected["value"]] + expected.get("accept_sets", [])
        ok = any(got == {c.upper() for c in s} for s in sets)
        return out("right" if ok else "wrong", f"got {len(got)} cases, expected {len(expected['value'])}")

    if et == "ranking":
        if has_value and isinstance(value, list):
            labels = []
            for r in value:
                if isinstance(r, dict):
                    labels.append((str(r.get("label")), r.get("value")))
                elif isinstance(r, (list, tuple)) and r:
                    labels.append((str(r[0]), r[1] if len(r) > 1 else None))
                else:
                    labels.append((str(r), None))
        elif has_value and isinstance(value, str):
            labels = [(value, None)]
        else:
            if expected.get("ordered") is False:
                labels = _fallback_labels_with_values(text, expected)
            else:
                labels = _fallback_ranking_labels(text, expected)
        ok = _unordered_ok(labels, expected) if expected.get("ordered") is False else _ranking_ok(labels, expected)
        return out("right" if ok else "wrong", f"labels {[l for l, _ in labels[:5]]}")

    if et == "bool":
        if has_value and isinstance(value, bool):
            got = value
        else:
            first = _sentences(text, 1).lower()
            got = True if re.match(r"^\s*yes\b", first) else False if (re.match(r"^\s*no\b", first) or none_stmt) else None
            if got is None and expected.get("outcome_true"):  # "X was overturned" answers "was X approved"
                word = _outcome_word(first)
                got = None if word is None else (word == expected["outcome_true"]
                                                 or (word == "overturned" and expected["outcome_true"] == "partially_overturned"))
        return out("right" if got is expected["value"] else "wrong", f"got {got}")

    if et == "passage":
        case = expected["case"].upper()
        ok_case = any((c.get("case_number") or "").upper() == case for c in cites)
        if not ok_case:
            return out("wrong", "no citation from the case")
        words = expected.get("contains") or []
        blob = _norm(text + " " + " ".join(c.get("quote") or "" for c in cites))
        if words and not any(_norm(w) in blob for w in words):
            return out("wrong", f"cited the case but none of {words}")
        return out("right", "cited the case")

    return out("wrong", f"unknown expectation type {et}")
