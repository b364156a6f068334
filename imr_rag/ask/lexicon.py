"""The words and phrases the reader links to meaning, each with its kind: outcomes, units, field
nouns (from fields.FIELDS), categories, guideline families, specialties, states, negation,
quantifiers and the intent cues. Built once per vocabulary; matched longest phrase first."""

from __future__ import annotations

import re

from imr_rag.ask.fields import FIELDS
from imr_rag.ask.function_words import FUNCTION_WORDS
from imr_rag.ask.vocab import Vocabulary

OUTCOMES = {
    "overturned": "overturned overturn overturns overturning approved approve approves approval approvals granted grant "
                  "reversed reverse reversal reversals flipped flip certified certify won allowed authorized "
                  "authorised overruled",
    "upheld": "upheld uphold upholds upholding denied deny denials denial rejected reject affirmed affirm sustained "
              "non-certified noncertified lost stood stands",
    "partially_overturned": "partially partial partly",
}
OUTCOME_PHRASES = {"denial stands": "upheld", "denial stood": "upheld", "turned down": "upheld",
                   # plain words for who won: the worker (the request is approved) or the payer
                   "green lit": "overturned", "greenlit": "overturned", "okayed": "overturned", "ok'd": "overturned",
                   "okd": "overturned", "success": "overturned", "successful": "overturned",
                   "in the worker's favor": "overturned", "in the workers favor": "overturned",
                   "in the worker's favour": "overturned", "in favor of the worker": "overturned",
                   "worker's favor": "overturned", "workers favor": "overturned", "in the patient's favor": "overturned",
                   "in the insurer's favor": "upheld", "in the carrier's favor": "upheld",
                   "in the employer's favor": "upheld", "in favor of the insurer": "upheld",
                   "knocked back": "upheld", "shot down": "upheld", "nixed": "upheld", "declined": "upheld",
                   "refused": "upheld", "stayed denied": "upheld", "remained denied": "upheld", "kept denied": "upheld",
                   "still denied": "upheld", "stayed upheld": "upheld", "unsuccessful": "upheld",
                   "not approved": "upheld", "partially overturned": "partially_overturned",
                   "partially approved": "partially_overturned", "got overturned": "overturned",
                   "get through": "overturned", "got through": "overturned", "gets through": "overturned",
                   "made it through": "overturned", "make it through": "overturned", "went through": "overturned",
                   # the letters' own wording of the outcome ('is medically necessary' / 'is not ...')
                   "medically necessary": "overturned", "found medically necessary": "overturned",
                   "not medically necessary": "upheld", "found not medically necessary": "upheld",
                   "medically appropriate": "overturned", "not medically appropriate": "upheld",
                   **{f"{v} {n}medically necessary": ("upheld" if n else "overturned")
                      for v in ("deemed", "considered", "judged", "ruled") for n in ("", "not ")},
                   # who won, said with the winner ('did the injured worker win'): the worker winning
                   # is the request approved; the payer winning, or the worker losing, is the denial upheld
                   **{f"{who} {verb}": (outcome if verb in ("win", "wins", "won", "prevail", "prevailed")
                                        else {"overturned": "upheld", "upheld": "overturned"}[outcome])
                      for who, outcome in (("worker", "overturned"), ("injured worker", "overturned"),
                                           ("claimant", "overturned"), ("patient", "overturned"),
                                           ("applicant", "overturned"), ("employee", "overturned"),
                                           ("insurer", "upheld"), ("carrier", "upheld"), ("employer", "upheld"),
                                           ("payer", "upheld"), ("health plan", "upheld"), ("plan", "upheld"))
                      for verb in ("win", "wins", "won", "prevail", "prevailed", "lose", "loses", "lost")}}
UNITS = {
    "letters": "letter letters case cases appeals file files claim claims patient patients claimant claimants "
               "worker workers employee employees applicant applicants",
    "decisions": "decision decisions determination determinations imrs reviews review",
    "items": "disputing at issue in dispute request requests req reqs rqst rqsts item items treatment treatments service services dispute disputes issue issues "
             "disputed requested procedure procedures anything",
}
CATEGORY_WORDS = {
    "medication": "medication medications meds med drug drugs prescription prescriptions pharmacy",
    "imaging": "imaging scans scan studies radiology",
    "therapy": "therapy therapies",
    "surgery": "surgery surgeries surgical operation operations",
    "injection": "injection injections shots",
    "DME": "dme equipment",
}
GENERIC_NOUNS = frozenset("study studies studys test tests testing exam exams examination examinations procedure "
                          "procedures session sessions visit visits script scripts prescription prescriptions".split())
"""Nouns that name a service's kind, not the service ('EMG study', 'MRI exam'): a service phrase
that matches no item with them is read without them (said in the reading line)."""
CATEGORY_PHRASES = {"durable medical equipment": "DME", "medical equipment": "DME", "diagnostic imaging": "imaging",
                    "surgical procedure": "surgery", "surgical procedures": "surgery"}
"""Categories named in several words (read whole)."""
GUIDELINE_PHRASES = {"MTUS": ("mtus", "ca mtus"), "ODG": ("odg", "official disability guidelines"), "ACOEM": ("acoem",)}
"""The phrases naming each guideline family (a bare 'ca' is California, not the MTUS)."""
NEGATION = "don't doesn't didn't not except excluding exclude excludes without besides minus non"
NEGATION_PHRASES = ("other than", "but not", "aside from", "apart from", "not counting", "leaving out", "leave out",
                    "setting aside", "set aside", "putting aside", "leaving aside", "ignoring", "disregarding",
                    "omitting", "barring", "exclusive of")
"""Negation: single words, and phrases read whole (a bare 'from', 'but' or 'than' negates nothing:
'transportation to/from appointments', 'after May but before June')."""
QUANTIFIERS = {
    "every": "every all everything each entirely fully wholly",
    "none": "none no nothing zero",
    "some": "any some",
    "mix": "mix mixed split both",
}
CUES = {
    "count": "how many number count total tally # how much quantity",
    "list": "which list show cases with case numbers case number whose casenumbers",
    "share": "rate rates % percent pct percentage share proportion fraction how often ratio likelihood chance odds portion",
    "avg": "average avg mean on average typical typically",
    "median": "median",
    "duration": "how long days time turnaround took take takes elapsed gap lag delay wait waited waiting quickly "
                "fast speed",
    "earliest": "earliest first oldest soonest",
    "latest": "latest most recent newest last recent",
    "min": "youngest minimum min lowest fastest quickest shortest least smallest",
    "max": "maximum max highest longest slowest largest greatest",
    "rank": "volume most top rank ranked ranking common frequent frequently often busiest breakdown popular leading "
            "biggest fewest distribution leads lead tops commonly dominated dominate dominates dominant predominant "
            "prevalent",
    "by": "by per each for each in each broken down by broken down broken out break down split by wise",
    "compare": "vs vs. versus compare compared comparison against more less difference differ differs differed",
    "why": "why reason reasons rationale reasoning basis explain explanation justification justify grounds",
    "passage": "say said says write wrote written quote quotes passage passages text paragraph discuss discussed "
               "words "
               "language wording",
    "date": "date dates when day dated",
    "outcome_q": "outcome outcomes result results happened happen decide decided ruled ruling disposition "
                 "come out came out turn out turned out ended up end up fare fared",
    "period": "between after during since before until through within -> > among issued",
    "context": "cite cites cited citing citation citations relied relying rely imr reviewed so far over independent medical review maximus iro reviewer reviewers library database dataset set corpus collection all-time "
               "overall altogether ever across use used uses using injured worker injured workers injured employee injured employees "
               "injured claimant injured patient injured person "
               "person people doc doctor doctors physician physicians",
    "month": "month months monthly",
    "quarter": "quarter quarters quarterly",
    "year": "year years yearly annually annual",
}
MEANING_WORDS = frozenset(
    ["weekday", "weekdays", "weekend", "weekends", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "spring", "summer", "autumn", "fall", "winter", "season", "seasonal", "fiscal", "holiday", "holidays", "decade", "century", "morning", "evening", "night", "hour", "hours", "cost", "costs", "price", "prices", "dollar", "dollars", "amount", "paid", "payment", "insurer", "insurers", "employer", "employers", "attorney", "attorneys", "lawyer", "lawyers", "name", "names", "address", "trend", "trends", "growth", "increase", "decrease", "change", "changed", "percentile", "standard", "deviation", "variance", "sum", "half", "higher", "lower", "greater", "fewer", "than", "only", "exactly", "correlation", "average", "other", "christmas", "thanksgiving", "easter", "halloween", "around",
     "approximately", "roughly", "nearly", "almost", "original", "originally"])
"""Words that would change what is asked; left unread they make the reader refuse, naming them."""


DESCRIPTIVE = "additional extra further remaining continued ongoing repeat another"
"""Adjectives that describe a request ('additional chiropractic', 'extra wheelchair rental') without
naming a service or changing what is counted: consumed, never part of a service phrase."""
AUTHORIZED_PORTION = ("already authorized", "already authorised", "already certified", "already approved",
                      "part of the request", "part of the original request", "part of it", "portion of the request",
                      "partial certification", "partial certifications", "partially certified", "partly certified",
                      "part already authorized", "part already authorised", "part already certified",
                      "part already approved",
                      *(f"{adv} {verb} by {who}" for adv in ("partly", "partially") for verb in ("approved", "authorized",
                                                                                              "certified")
                        for who in ("ur", "utilization review")),
                      *(f"{verb} {when} imr" for verb in ("authorized", "authorised", "approved", "certified")
                        for when in ("before", "prior to")),
                      *(f"{who} {already}{verb}" for who in ("ur", "utilization review", "claims administrator",
                                                              "the claims administrator")
                        for already in ("", "already ")
                        for verb in ("approve", "approved", "authorize", "authorized", "authorise", "authorised",
                                     "certify", "certified", "modify", "modified", "allow", "allowed")),
                      *(f"{verb} by {who}" for who in ("ur", "utilization review", "the claims administrator",
                                                       "claims administrator")
                        for verb in ("approved", "authorized", "authorised", "certified", "modified", "allowed")))
"""Words of an item a part of which the claims administrator had already authorised (the field
'authorized_portion' is known), and of what utilization review approved ('what did UR approve'):
UR's own approval, never read as the IMR's outcome."""
CONTEXT_PHRASES = ("claims administrator", "claims administrators", "claims adjuster", "the claims administrator",
                   "independent review organization", "independent review organisation", "review organization",
                   "independent review")
"""Who acted in a letter: context of the question, not a filter or a service."""

SERVICE_ALIASES = {
    "hha": "home health aide", "acu": "acupuncture", "ls": "lumbar", "l-s": "lumbar", "lumbosacral": "lumbar",
    "low back": "lumbar", "lower back": "lumbar", "c-spine": "cervical", "c spine": "cervical", "neck": "cervical",
    "l-spine": "lumbar", "l spine": "lumbar", "t-spine": "thoracic", "evals": "evaluation", "eval": "evaluation",
    "mbb": "medial branch block", "esi": "epidural steroid injection", "fce": "functional capacity evaluation",
    "uds": "urine drug screen", "ncs": "nerve conduction", "ncv": "nerve conduction",
}
"""Abbreviations and lay words for service words: linked to the expansion, and only when the
library's services hold every word of it (otherwise the word stays unknown)."""


FORMAT_PHRASES = {
    "texas iro": "tx_iro", "tx iro": "tx_iro", "iro letter": "tx_iro", "iro letters": "tx_iro",
    "texas letter": "tx_iro", "texas letters": "tx_iro", "texas case": "tx_iro", "texas cases": "tx_iro",
    "texas decisions": "tx_iro", "texas reviews": "tx_iro", "tx letters": "tx_iro", "tx cases": "tx_iro",
    "california imr": "ca_dwc_imr", "dwc": "ca_dwc_imr", "ca dwc": "ca_dwc_imr", "california dwc": "ca_dwc_imr",
    "texas ones": "tx_iro", "tx ones": "tx_iro",  # 'California letters' may be DWC or DMHC: asked back "dwc imr": "ca_dwc_imr", "workers comp": "ca_dwc_imr",
    "workers' comp": "ca_dwc_imr", "workers compensation": "ca_dwc_imr", "maximus": "ca_dwc_imr",
    "dmhc": "ca_dmhc_imr", "dmhc imr": "ca_dmhc_imr", "health plan": "ca_dmhc_imr", "health plans": "ca_dmhc_imr",
    "managed health care": "ca_dmhc_imr", "managed care": "ca_dmhc_imr",
}
"""Words naming a letter format (a source): a condition on the letter's format, even when the
library holds no letter of it (the answer is then 0, said as such, never an unread word)."""
CALIFORNIA_PHRASES = ("california letters", "california cases", "california ones", "california decisions",
                      "ca cases", "ca letters", "ca decisions", "ca ones")
"""The California letters: the DWC format when the library holds no DMHC rows (else asked back)."""
FORMAT_LABELS = {"tx_iro": "Texas IRO", "ca_dwc_imr": "California DWC IMR", "ca_dmhc_imr": "California DMHC IMR"}
"""How a reading names each letter format."""


def _add(table: dict, phrase: str, kind: str, value) -> None:
    key = tuple(phrase.split())
    table.setdefault(key, (kind, value))


def build_lexicon(vocab: Vocabulary) -> dict[tuple[str, ...], tuple[str, object]]:
    """Phrase (tokens) -> (kind, value). Earlier entries win on the same phrase."""
    t: dict[tuple[str, ...], tuple[str, object]] = {}
    for phrase, value in OUTCOME_PHRASES.items():
        _add(t, phrase, "outcome", value)
    # field nouns of the dates and letter facts; generic nouns that are units or services are not fields here
    skip = {"decision", "decided", "service", "treatment", "request", "item", "procedure", "medication", "drug",
            "determination", "outcome", "result", "upheld", "overturned", "approved", "denied", "kind", "old",
            "man", "woman", "men", "women", "male", "female", "standard", "expedited", "urgent", "rush",
            "condition", "states", "filed", "reviewer", "cited", "citing", "mtus", "odg", "acoem", "decision on", "ruled", "ruling", "assignment"}
    for key, f in FIELDS.items():
        if key in vocab.table_values and not vocab.table_values[key]:
            continue  # a published determination's field: named only when the library holds such rows
        for noun in f.nouns:
            if noun not in skip and key not in ("service", "determination", "case_number"):
                _add(t, noun, "field", key)
    for lead in ("", "imr ", "iro ", "final "):  # 'the IMR decision on X': X's outcome, not the decision date
        for noun in ("decision", "decisions", "determination", "ruling"):
            for prep in ("on", "about", "for", "regarding", "of"):
                _add(t, f"{lead}{noun} {prep}", "cue", "outcome_q")
    for phrase in AUTHORIZED_PORTION:
        _add(t, phrase, "field", "authorized_portion")
    for phrase in CONTEXT_PHRASES:
        _add(t, phrase, "cue", "context")
    for w in DESCRIPTIVE.split():
        _add(t, w, "function", None)
    for phrase, key in (("assignment date", "date_assigned"), ("date of assignment", "date_assigned"),
                        ("came in", "application_received"), ("application date", "application_received"),
                        ("received date", "application_received"), ("date received", "application_received"),
                        ("apply for imr", "application_received"), ("app for imr", "application_received"),
                        ("imr app", "application_received"), ("letter sent", "decision_date"),
                        ("notice sent", "decision_date"), ("date sent", "decision_date"), ("was sent", "decision_date"),
                        ("letter dated", "decision_date"), ("date of the letter", "decision_date"),
                        ("letter date", "decision_date"), ("mailed", "decision_date"), ("applied for imr", "application_received"),
                        ("file for imr", "application_received"), ("filed for imr", "application_received"),
                        ("apply for an imr", "application_received"), ("applied for an imr", "application_received"),
                        ("request imr", "application_received"), ("requested imr", "application_received"),
                        ("appealed to imr", "application_received"),
                        ("denied by utilization review", "ur_denial_date"), ("ur denied", "ur_denial_date"),
                        ("board cert", "reviewer_specialty"), ("what kind of doctor", "reviewer_specialty"),
                        ("kind of doctor", "reviewer_specialty"), ("type of doctor", "reviewer_specialty"),
                        ("how old", "patient_age"), ("years old", "patient_age"), ("decision date", "decision_date"),
                        ("date of decision", "decision_date"), ("imr decision date", "decision_date"),
                        ("licensed in", "reviewer_licensure"), ("states", "reviewer_licensure"),
                        ("assignment", "date_assigned"), ("state", "reviewer_licensure"), ("type", "category"),
                        ("kind of service", "category"), ("app received", "application_received"),
                        ("application receipt", "application_received"), ("categories", "category"),
                        ("license state", "reviewer_licensure"), ("licence state", "reviewer_licensure"),
                        ("guideline family", "guideline"), ("guideline families", "guideline"),
                        ("family", "guideline"), ("families", "guideline")):
        _add(t, phrase, "field", key)
    for outcome, words in OUTCOMES.items():
        for w in words.split():
            _add(t, w, "outcome", outcome)
    for phrase, fmt in FORMAT_PHRASES.items():  # every format the tool reads, present in the library or not
        _add(t, phrase, "format", fmt)
    if "ca_dmhc_imr" not in vocab.letter_formats:  # California letters are the DWC's unless DMHC rows are there too
        for phrase in CALIFORNIA_PHRASES:
            _add(t, phrase, "format", "ca_dwc_imr")
    for phrase, expansion in SERVICE_ALIASES.items():  # linked only when the library has the words
        if all(w in vocab.service_words for w in expansion.split()):
            _add(t, phrase, "service", expansion)
    for s in vocab.states:
        _add(t, s.lower(), "state", s)
        _add(t, s.lower() + "-licensed", "state", s)
    for word, value in (("female", "female"), ("females", "female"), ("woman", "female"), ("women", "female"),
                        ("male", "male"), ("males", "male"), ("man", "male"), ("men", "male")):
        _add(t, word, "sex", value)
    for p in vocab.priorities:
        _add(t, p.lower(), "priority", p)
    _add(t, "urgent", "priority", "Expedited")
    for spec in vocab.specialties:
        low = spec.lower()
        forms = {low, low.replace("&", "and"), low.replace("orthopaedic", "orthopedic"),
                 low.replace("orthopedic", "orthopaedic")}
        if low.endswith("ology"):  # the physician: 'anesthesiology' -> 'anesthesiologist(s)'
            forms |= {low[:-1] + "ist", low[:-1] + "ists"}
        if low.endswith(" surgery"):
            forms |= {low[:-len("surgery")] + "surgeon", low[:-len("surgery")] + "surgeons"}
        for form in forms:
            _add(t, form, "specialty", spec)
    for alias, spec in (("pm&r", "Physical Medicine & Rehabilitation"), ("pmr", "Physical Medicine & Rehabilitation"),
                        ("physiatry", "Physical Medicine & Rehabilitation"), ("ortho", "Orthopedic Surgery"),
                        ("orthopedics", "Orthopedic Surgery"), ("family medicine", "Family Practice"),
                        ("occ med", "Occupational Medicine"), ("orthopedic surgeon", "Orthopedic Surgery"),
                        ("ortho surgeon", "Orthopedic Surgery"), ("pain medicine", "Pain Medicine"),
                        ("pain specialist", "Pain Medicine"), ("pain doctor", "Pain Medicine"),
                        ("pain physician", "Pain Medicine")):
        if spec in vocab.specialties:
            _add(t, alias, "specialty", spec)
    for family, phrases in GUIDELINE_PHRASES.items():
        for phrase in phrases:
            _add(t, phrase, "guideline", family)
    _add(t, "california mtus", "guideline", "MTUS")
    for cat, words in CATEGORY_WORDS.items():  # known whether or not the library has the category (then 0)
        for w in words.split():
            _add(t, w, "category", cat)
    for phrase, cat in CATEGORY_PHRASES.items():
        _add(t, phrase, "category", cat)
    for unit, words in UNITS.items():
        for w in _phrases(words):  # 'at issue', 'in dispute' whole: a bare 'in' or 'at' is no unit
            _add(t, w, "unit", unit)
    for phrase in NEGATION_PHRASES:
        _add(t, phrase, "neg", True)
    _add(t, "other category", "category", "other")  # the catalog's category 'other' ('other' quoted, too)
    _add(t, "category other", "category", "other")
    for w in NEGATION.split():  # a bare 'other' ('other services': the category or the rest?) is a MEANING_WORD
        _add(t, w, "neg", True)
    for mode in ("some and some", "at least one", "one or more"):  # phrases: a bare 'and', 'or', 'one' is no quantifier
        _add(t, mode, "quant", "mix" if mode == "some and some" else "some")
    for mode, words in QUANTIFIERS.items():
        for w in words.split():
            _add(t, w, "quant", mode)
    for cue, words in CUES.items():
        for phrase in _phrases(words):
            _add(t, phrase, "cue", cue)
    for w in FUNCTION_WORDS:
        _add(t, w, "function", None)
    for fld, values in vocab.table_values.items():  # last: words with another meaning keep it
        for value in values:
            for phrase in _value_phrases(value):
                _add(t, phrase, "value", (fld, value))
    for phrase, value in REVIEW_TYPE_WORDS.items():
        if value in vocab.table_values.get("review_type", ()):
            _add(t, phrase, "value", ("review_type", value))
    return t


REVIEW_TYPE_WORDS = {"experimental": "experimental_investigational", "investigational": "experimental_investigational",
                     "experimental or investigational": "experimental_investigational",
                     "e i": "experimental_investigational", "medical necessity": "medical_necessity",
                     "urgent care": "urgent_care"}
"""Words naming a DMHC review type (the catalog's values of the published 'Medical Necessity',
'Experimental/Investigational', 'Urgent Care')."""


def _value_phrases(value: str) -> list[str]:
    """How a question may name a published value: all its words ('orth musculoskeletal'), and
    each part of a value joined by '/' when it is a word of 6+ letters or several words
    ('musculoskeletal', 'digestive system')."""
    words = " ".join(re.findall(r"[a-z0-9]+", value.lower()))
    out = [words] if words else []
    if "/" in value:
        for part in value.split("/"):
            part = " ".join(re.findall(r"[a-z0-9]+", part.lower()))
            if len(part) >= 6 or " " in part:
                out.append(part)
    return out


def _phrases(words: str) -> list[str]:
    """Cue lists hold multi-word phrases; known ones are kept whole."""
    multi = ("how many", "how much", "number", "on average", "how long", "how often", "most recent", "case numbers",
             "broken down by", "split by", "broken down", "broken out", "break down", "in each", "so far", "at issue", "in dispute", "come out", "came out", "turn out", "turned out", "ended up", "end up", "not counting", "for each", "injured worker", "injured workers",
             "injured employee", "injured employees", "injured claimant", "injured patient", "injured person", "case number", "independent medical review", "all-time")
    out, rest = [], f" {words} "
    for m in multi:
        if f" {m} " in rest:
            out.append(m)
            rest = rest.replace(f" {m} ", " ")
    return out + rest.split()
