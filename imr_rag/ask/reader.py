"""The reader: question text -> a `Plan`, a question back, or a refusal. Fails closed.

Every word is accounted for: slots (case numbers, dates, numbers), lexicon words (outcomes,
fields, units, categories, guidelines, specialties, states, negation, quantifiers, intent cues),
function words, and service words linked to the library's vocabulary (typos corrected only when
one word is clearly meant). Whatever is left makes the reader refuse or ask back; it never goes
into a service phrase silently. The operation comes from the exemplar bank (intent.py) combined
with the slot evidence."""

from __future__ import annotations

import datetime as dt
import os
import re

from imr_rag.ask.build import build_plan
from imr_rag.ask.doubts import LICENCE, doubtful, period_owner
from imr_rag.ask.fields import FIELDS
from imr_rag.ask.function_words import FUNCTION_WORDS
from imr_rag.ask.intent import IntentModel
from imr_rag.ask.lexicon import GENERIC_NOUNS, MEANING_WORDS, build_lexicon
from imr_rag.ask.phrasing import (
    DESCRIBED,
    FOLLOW_UP,
    HAVING,
    LEFT_OUT_CASE,
    ONE_CASE_NEGATED,
    POINTING,
    PREAMBLE,
    REVIEWER_IS,
    SCENE,
    THE_CASE,
    rephrase,
)
from imr_rag.ask.reading import Parts, Reading, Word
from imr_rag.ask.selfcheck import unused_slots
from imr_rag.ask.slots import (
    Correction,
    Slot,
    correct_word,
    find_cases,
    find_numbers,
    find_periods,
    normalise_question,
)
from imr_rag.ask.vocab import Vocabulary
from imr_rag.textutil import plural_blind, service_tokens


_TOKEN = re.compile(r"[a-z0-9]+(?:['&][a-z0-9]+)*|%|#|->|>=|<=|[<>]")
_LEXICONS: dict[int, tuple[Vocabulary, dict]] = {}
_NGRAMS: dict[int, tuple[Vocabulary, frozenset]] = {}
JOINING = {"of", "the", "for", "with", "to", "in", "on", "at"}
"""Words that may stand inside one service name ('MRI of the lumbar spine'); 'and' / 'or' separate two."""


# Where each kind of word the lexicon knows is collected in Parts: with its negation, or plain.
NEGATABLE = {"outcome": "outcomes", "category": "categories", "guideline": "guidelines", "specialty": "specialties",
             "state": "states", "format": "formats", "priority": "priorities", "value": "values"}
PLAIN = {"field": "fields", "unit": "units", "sex": "sexes", "quant": "quants"}


def _lexicon(vocab: Vocabulary) -> dict:
    cached = _LEXICONS.get(id(vocab))
    if cached is None or cached[0] is not vocab:
        cached = (vocab, build_lexicon(vocab))
        _LEXICONS[id(vocab)] = cached
    return cached[1]


def tokenize(text: str, taken: list[Slot], vocab: Vocabulary, glued: tuple = ()) -> list[Word]:
    """Words outside the slots, each linked to the lexicon (longest phrase first) or to services.
    `glued`: spans of numbers that are part of a service's wording ('lyrica 75mg #60')."""
    lex = _lexicon(vocab)
    words = [Word(m.group(0).strip("'."), m.start(), m.end()) for m in _TOKEN.finditer(text)
             if all(m.end() <= s.start or m.start() >= s.end for s in taken)]
    i = 0
    while i < len(words):
        w = words[i]
        if (w.start, w.end) in glued or w.text == "#" and i + 1 < len(words) and \
                (words[i + 1].start, words[i + 1].end) in glued:
            w.kind, w.value, w.tail = "service", w.text, w.text == "#"
            i += 1
            continue
        for size in range(min(5, len(words) - i), 0, -1):
            key = tuple(w.text for w in words[i:i + size])
            hit = lex.get(key) or next((lex[key[:-1] + (s,)] for s in stems(key[-1]) if key[:-1] + (s,) in lex), None)
            if hit and (size == 1 or all(words[j + 1].start - words[j].end <= 1 for j in range(i, i + size - 1))):
                if hit[0] == "neg" and size == 1 and i > 0 and words[i - 1].kind == "service" and i + 1 < len(words) \
                        and (w.text, plural_blind(words[i + 1].text)) in _service_ngrams(vocab):
                    w.kind, w.value = "service", w.text  # 'mri ... without contrast': the service's own words
                    i += 1
                    break
                if hit[0] in ("category", "unit", "outcome", "quant") and _inside_service(words, i, size, vocab):
                    continue  # 'therapy' of 'physical therapy', 'drug' of 'urine drug screen': one service
                for w in words[i:i + size]:
                    w.kind, w.value, w.tail = hit[0], hit[1], w is not words[i]
                i += size
                break
        else:
            w = words[i]
            if w.text.startswith("non-") and lex.get((w.text[4:],)):
                words.insert(i, Word("non", w.start, w.start + 3, "neg", True))
                w.text, w.start = w.text[4:], w.start + 4
                i += 1
                continue  # read again without the prefix, after the negation
            stem = None if w.text in MEANING_WORDS else next((s for s in stems(w.text) if s in vocab.service_words), None)
            w.kind, w.value = ("service", stem) if stem else ("unknown", None)
            i += 1
    return words


_KNOWN_KINDS = ("unit", "outcome")
"""Kinds of word a typo or a shortening may be read as: a wrong cue or field word ('topical' ->
'typical', an average) would change the question, so those are never guessed."""
TRANSPOSED_MIN = 5
"""Shorter words than LEXICON_TYPO_MIN are read as a known unit or outcome word only when two
adjacent letters are swapped ('reveiw', 'upehld'): the commonest typo, and one that no other
short word of the lexicon is one swap from (checked: one meaning or none)."""
_WORDS: dict[int, tuple[Vocabulary, frozenset]] = {}
LEXICON_TYPO_MIN = 7
"""A typo of a word the reader knows (not a service) is corrected from 7 letters: among shorter
words one edit reaches other real words ('dental' / 'denial', 'denied' / 'denies')."""
ABBREVIATION_MIN = 5
"""Letters a shortened word must keep to be read as the one word it begins ('chiro', 'ortho'); a
four-letter word ('part') is too often a word of its own."""


def _known_word(word: str, vocab: Vocabulary) -> tuple[str, tuple[str, object]] | None:
    """The one word of the reader's vocabulary `word` is a typo of (the service words' rule, see
    slots.correct_word) or the shortening of ('chiro' -> chiropractic): (that word, its (kind,
    value)). None when no word or several meaning different things are close."""
    lex = _lexicon(vocab)
    cached = _WORDS.get(id(vocab))
    if cached is None or cached[0] is not vocab:
        single = frozenset(k[0] for k, v in lex.items() if len(k) == 1 and v[0] in _KNOWN_KINDS and len(k[0]) >= 4)
        cached = (vocab, single)
        _WORDS[id(vocab)] = cached
    words = cached[1]
    fix = correct_word(word, words) if len(word) >= LEXICON_TYPO_MIN else None
    if fix is not None and fix.corrected:
        return fix.corrected, lex[(fix.corrected,)]
    swapped = {word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(len(word) - 1)} & words \
        if len(word) >= TRANSPOSED_MIN else set()
    if len({lex[(t,)] for t in swapped}) == 1:  # 'reveiw' -> review: two letters swapped, one meaning
        return min(swapped), lex[(min(swapped),)]
    stem = word[:-1] if word.endswith("s") else word
    if len(stem) < ABBREVIATION_MIN or not stem.isalpha():
        return None
    longer = sorted(t for t in (*words, *vocab.service_words) if t.startswith(stem) and len(t) > len(stem) + 1)
    meanings = {lex.get((t,), ("service", t)) for t in longer}
    if len(meanings) == 1:  # every word it may shorten means the same thing
        return longer[0], next(iter(meanings))
    if longer and all(m[0] == "service" for m in meanings) and \
            len(os.path.commonprefix(longer)) >= len(stem) + ABBREVIATION_MIN:  # chiropractic / chiropractor
        return longer[0], ("service", longer[0])
    return None


def _service_ngrams(vocab: Vocabulary) -> frozenset[tuple[str, str]]:
    """Adjacent word pairs of the library's service names (plural-blind), cached per vocabulary."""
    cached = _NGRAMS.get(id(vocab))
    if cached is None or cached[0] is not vocab:
        pairs = set()
        for service in vocab.services:
            toks = service_tokens(service)
            pairs.update(zip(toks, toks[1:], strict=False))
        for variant in vocab.synonym_groups:
            pairs.update(zip(variant, variant[1:], strict=False))
        cached = (vocab, frozenset(pairs))
        _NGRAMS[id(vocab)] = cached
    return cached[1]


def _inside_service(words: list[Word], i: int, size: int, vocab: Vocabulary) -> bool:
    """Whether the one-word lexicon hit at `i` continues or starts a service name with its
    neighbour ('physical' + 'therapy', 'urine' + 'drug' + 'screen'): then it is part of the service."""
    if size != 1:
        return False
    pairs = _service_ngrams(vocab)
    me = plural_blind(words[i].text)
    before = words[i - 1] if i > 0 else None
    after = words[i + 1] if i + 1 < len(words) else None
    if before is not None and before.kind == "service" and (plural_blind(before.text), me) in pairs:
        return True
    if after is not None and (me, plural_blind(after.text)) in pairs and \
            any(s in vocab.service_words for s in stems(after.text)):
        return True
    return False


def stems(word: str) -> list[str]:
    """The word and its plural-, possessive- and -ing-blind forms ('mri's', 'mris', 'screening')."""
    out = [word, plural_blind(word)]
    if word.endswith("ies") and len(word) > 4:
        out.append(word[:-3] + "y")  # 'specialties', 'therapies', 'injuries'
    for suffix in ("'s", "s", "es", "ing"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            out.append(word[: -len(suffix)])
    return out


AGENT_WORDS = frozenset({"imr", "iro", "reviewer", "reviewers", "maximus", "doctor", "doctors", "physician",
                         "physicians", "someone", "specialist", "specialists", "doc", "docs", "review"})
"""After 'by', these name who decided ('overturned by IMR'), not a key to group by."""
SERVICE_LEADS = frozenset({"with", "had", "has", "a", "an", "any", "for", "about", "of", "mention", "mentions",
                           "involving", "involved", "re", "regarding", "on"})
"""Words after which a question may end with a service name ('cases with a diskectomy')."""
SERVICE_NEIGHBOURS = frozenset({"unit", "outcome", "category"})
SEASONS = frozenset({"spring", "summer", "autumn", "fall", "winter"})


def _next_index(words: list[Word], idx: int) -> int | None:
    """The index of the first word after `idx` that is not a function word."""
    return next((j for j in range(idx + 1, len(words)) if words[j].kind != "function"), None)


def _next_content(words: list[Word], idx: int) -> Word | None:
    j = _next_index(words, idx)
    return None if j is None else words[j]


def _service_position(words: list[Word], start: int, end: int) -> bool:
    """Whether words[start:end] stand where a service name stands: next to a unit, outcome or
    category word, or at the end of the question after 'with', 'had', 'any' ... An unknown
    phrase anywhere else ('before christmas', 'in their 40s') is a word not understood."""
    after = words[end] if end < len(words) else None
    before = words[start - 1] if start > 0 else None
    if any(w.kind == "service" for w in words[start:end]):
        return True
    if after is not None and after.kind in SERVICE_NEIGHBOURS:
        return True
    if before is not None and before.kind in SERVICE_NEIGHBOURS - {"category"}:
        return after is None or after.kind in SERVICE_NEIGHBOURS or after.text in ("-",)
    return after is None and before is not None and before.text in SERVICE_LEADS


def _collect(words: list[Word], vocab: Vocabulary, dates: tuple[tuple[int, int], ...], text: str) -> Parts:
    """The question's words (and the spans of its `dates`, which take a negation before them)
    sorted into what they name; `text` is the question they were read from."""
    p = Parts()
    negated = False
    negated_at = 0  # where the negation in force was said
    run: list[int] = []

    def listed_on(j: int) -> bool:
        """Whether words[j:] goes on with 'and'/'or' and another service ('not counting x-rays and MRIs')."""
        joined = False
        while j < len(words) and words[j].text in ("and", "or", "nor", "a", "an", "the"):
            joined, j = joined or words[j].text in ("and", "or", "nor"), j + 1
        return joined and j < len(words) and words[j].kind == "service"

    def flush() -> None:
        nonlocal run, negated
        while run and words[run[-1]].kind == "function":
            run.pop()
        if run:
            phrase = [words[j] for j in run]
            if len(phrase) == 1 and phrase[0].kind == "unknown" and len(phrase[0].text) > 4 \
                    and phrase[0].text.endswith(("ly", "ed")):
                p.unread.append(phrase[0].text)  # 'commonly', 'stayed': an adverb or a verb, no service
            elif any(w.kind == "unknown" for w in phrase) and not (
                    all(w.kind != "unknown" or w.text in GENERIC_NOUNS for w in phrase)
                    and any(w.kind == "service" for w in phrase)):
                if _service_position(words, run[0], run[-1] + 1):
                    p.unknown.append(phrase)
                else:
                    p.unread.extend(w.text for w in phrase if w.kind != "function")
            else:  # 'MRI exams': the MRI, a noun of its kind no item uses is named as not used
                p.unread.extend(w.text for w in phrase if w.kind == "unknown")
                linked = [str(w.value or w.text) for w in phrase if w.kind == "service" and not w.tail]
                p.services.append((linked, negated))
                said = [w for w in phrase if w.kind == "service"]
                p.service_said.append(text[said[0].start:said[-1].end])
                p.service_text.append(" ".join(linked))
                # 'items other than MRIs were overturned': the negation was the service's (and a list's)
                negated = negated and listed_on(run[-1] + 1)
        run = []

    for idx, w in enumerate(words):
        if negated and any(negated_at <= a and b <= w.start for a, b in dates):
            negated = False  # 'other than the 2017 ones with an overturn': the period took the negation
        if idx == 0 and w.text in ("name", "list") and w.kind in ("unknown", "cue"):
            w.kind, w.value = "cue", "list"  # 'Name the guidelines ...': the imperative, not a person's name
        if w.kind == "unknown":
            fix = correct_word(w.text, vocab.service_words)
            if fix.corrected and _lexicon(vocab).get((fix.corrected,), ("",))[0] in _KNOWN_KINDS:
                fix = Correction(w.text, None)  # 'reqeust' -> request: the unit word, though a service names it
            known = None if fix.corrected else _known_word(w.text, vocab)
            if known is not None:  # 'reqeust' -> request, 'chiro' -> chiropractic: a word the reader knows
                p.corrections.append((w.text, known[0]))
                w.kind, w.value = known[1]
            lexical = _lexicon(vocab).get((fix.corrected,)) if fix.corrected else None
            if lexical is not None and lexical[0] == "category":  # 'medicaitons' -> medications: the category
                p.corrections.append((w.text, fix.corrected))
                w.kind, w.value = lexical
            elif fix.corrected:
                p.corrections.append((w.text, fix.corrected))
                w.kind, w.value = "service", fix.corrected
            elif w.text in SEASONS and idx > 0 and words[idx - 1].text in ("the", "a", "his", "her", "their"):
                p.unread.append(w.text)  # 'after the fall': an event, not the season
                continue
            elif w.text in MEANING_WORDS:
                p.leftover_meaning.append(w.text)
                continue
            elif fix.candidates:
                p.ambiguous.append((w.text, fix.candidates))
        if w.kind in ("service", "unknown"):
            run.append(idx)
            continue
        if run and w.kind == "function" and w.text in JOINING:
            j = _next_index(words, idx)
            if j is not None and words[j].kind in ("service", "unknown") and \
                    all(x.text in JOINING or x.text in ("a", "an", "the") for x in words[idx:j]):
                run.append(idx)
                continue
        flush()
        if w.tail:
            continue  # the tail of a multi-word phrase
        kind, value = w.kind, w.value
        nxt = _next_content(words, idx)
        if kind == "neg" or (kind == "quant" and value == "none" and w.text == "no" and nxt is not None
                             and nxt.kind in ("service", "unknown", "category") and idx > 0
                             and any(x.kind in ("service", "category") for x in words[:idx])):
            negated, negated_at = True, w.end  # 'letters with an MRI but no x-ray': the x-ray is excluded, the MRI stays
            continue
        after = _next_content(words, words.index(nxt)) if nxt is not None else None
        if kind == "cue" and value == "by" and nxt is not None and (
                nxt.text in AGENT_WORDS and not (after is not None and after.kind == "field")
                or nxt.kind in ("specialty", "unit") or nxt.kind == "cue" and nxt.value == "context"):
            continue  # 'overturned by IMR', 'reviewed by a surgeon', '(by item)': not a grouping
        if kind == "cue" and value == "by":
            tgt = next((x for x in words[idx + 1:] if x.kind != "function" and not x.tail), None)
            p.by_targets.append((tgt.kind, tgt.value) if tgt is not None else (None, None))
        if kind == "quant" and value in ("every", "some") and nxt is not None and (
                nxt.kind == "unit" and nxt.value in ("letters", "decisions")
                or nxt.kind == "outcome" and getattr(_next_content(words, words.index(nxt)), "kind", "") == "unit"):
            continue  # 'across all letters', 'every case with ...': the scope, not a quantifier
        if kind in NEGATABLE:
            getattr(p, NEGATABLE[kind]).append((value, negated))
        elif kind in PLAIN:
            getattr(p, PLAIN[kind]).append(value)
        elif kind == "cue":
            p.cues.add(value)
        if kind in ("unit", "cue", "outcome") and value not in ("or",):
            # 'other than those with MRIs': the negation goes on to what the letters have
            negated = negated and (kind == "unit" or kind == "cue" and w.text in HAVING)
        elif kind in ("category", "guideline", "specialty", "state", "format", "priority", "sex", "value"):
            # 'non-expedited overturns': the negation was this word's, unless a list of its kind goes on
            # ('minus medications and imaging')
            j = idx + 1
            while j < len(words) and (words[j].tail or words[j].text in ("and", "or", "nor")):
                j += 1
            negated = negated and j > idx + 1 and j < len(words) and words[j].kind == kind
    flush()
    return p


def _mask(text: str, slots: list[Slot], words: list[Word]) -> str:
    marks = [(s.start, s.end, {"case": "CASE", "date": "DATE", "number": "NUMBER"}[s.kind]) for s in slots]
    for w in words:
        tag = {"service": "SERVICE", "unknown": "SERVICE", "specialty": "SPECIALTY"}.get(w.kind)
        if w.kind == "field" and FIELDS[w.value if isinstance(w.value, str) else "decision_date"].kind == "date":
            tag = "FIELD"
        if tag:
            marks.append((w.start, w.end, tag))
    out, pos = [], 0
    for a, b, tag in sorted(marks):
        if a < pos:
            continue
        out.append(text[pos:a])
        if not (out and out[-1].rstrip().endswith(tag)):
            out.append(tag)
        pos = b
    out.append(text[pos:])
    return " ".join("".join(out).split())


def read_question(question: str, vocab: Vocabulary, *, today: dt.date, intents: IntentModel) -> Reading:
    """Read `question` into a plan, a question back or a refusal (see module docstring)."""
    text = normalise_question(question)
    text = rephrase(text)
    text, preamble = _without_preamble(text, vocab)
    slots = find_cases(text)
    described = THE_CASE.search(text)
    if described and not slots and not ONE_CASE_NEGATED.search(text[:described.start() + 4]) and not any(
            w.kind in ("priority", "format", "state", "specialty", "sex", "field", "value")
            for w in tokenize(described.group(1), [], vocab)):  # 'in the expedited case': the letters so described
        return Reading("clarify", None, f"one case ('the {described.group(1)}{described.group(2)}'), case not named",
                       "Which case do you mean? Name its case number (e.g. CM16-0247274).")
    if FOLLOW_UP.search(text) or POINTING.search(text) and not slots:
        return Reading("clarify", None, "a follow-up of an earlier question",
                       "This reads as a follow-up ('them', 'the same', 'the other one'); each question is answered on "
                       "its own, so please ask it whole, naming what it is about.")
    slots += find_periods(text, today, [(s.start, s.end) for s in slots])
    slots += find_numbers(text, [(s.start, s.end) for s in slots])
    words = tokenize(text, slots, vocab)
    described = DESCRIBED.search(text)
    if described and text[described.start():].startswith(("after", "following")) and not all(
            w.kind in ("service", "function") for w in words if described.start(1) <= w.start < described.end(1)):
        described = None  # 'after the UR denial': a date field, not the request it followed
    if described and any(w.kind == "service" and w.end <= described.start() for w in words):
        text, slots, words = _blanked(text, slots, described.start(), described.end(1), vocab)
    left_out = LEFT_OUT_CASE.search(text)
    if left_out and left_out.group(1).strip():  # 'excluding the shoulder surgery case CM16-…': the case, described
        text, slots, words = _blanked(text, slots, left_out.start(1), left_out.end(1), vocab)
    glued = _service_numbers(text, slots, words, vocab)
    if glued:
        slots = [s for s in slots if (s.start, s.end) not in glued]
        words = tokenize(text, slots, vocab, tuple(glued))
    p = _collect(words, vocab, tuple((s.start, s.end) for s in slots if s.kind == "date"), text)
    if left_out and left_out.group(1).strip():
        p.unread += [w for w in re.findall(r"[a-z0-9]+", left_out.group(1)) if w not in FUNCTION_WORDS]
    if described and text[described.start(1):described.end(1)].strip() == "":
        p.unread += [w for w in re.findall(r"[a-z]+", described.group(1)) if w not in FUNCTION_WORDS]
    p.cases = [s.value for s in slots if s.kind == "case"]
    p.periods = [s.value for s in slots if s.kind == "date"]
    p.numbers = [s.value for s in slots if s.kind == "number"]
    fixes = p.corrections
    if not text.strip():
        return Reading("refuse", None, "nothing to read", "The question is empty.")
    for case in p.cases:
        if case not in vocab.case_numbers:
            return Reading("refuse", None, f"case {case}", f"No letter in the library has case number {case}.",
                           corrections=fixes)
    if len(set(p.cases)) > 1:
        return Reading("refuse", None, "several cases", "Ask about one case at a time: " + ", ".join(p.cases) + ".")
    if p.leftover_meaning:
        return Reading("refuse", None, "not read: " + ", ".join(p.leftover_meaning),
                       f"I cannot use the words {', '.join(repr(w) for w in p.leftover_meaning)}: they would change "
                       "the question and the plan cannot express them.", unused=p.leftover_meaning, corrections=fixes)
    timed = [w for w in p.unread if _next_to_date(text, w, slots)] or ([] if p.services or p.cases else p.unread)
    if timed:
        return Reading("refuse", None, "not read: " + ", ".join(timed),
                       f"I could not read {', '.join(repr(w) for w in p.unread)}: no service, field, date or other "
                       "word of the question I know, so I give no answer rather than one to a different question.",
                       unused=timed, corrections=fixes)
    if p.ambiguous:
        word, cands = p.ambiguous[0]
        return Reading("clarify", None, f"'{word}' is not a service of the library",
                       f"Did you mean {' or '.join(cands)}?", choices=list(cands), suggestions=list(cands),
                       corrections=fixes)
    if p.unknown and (p.services or len(p.unknown) > 1) and not _one_phrase(p.unknown[0], words):
        # a service was read and another phrase was not: it may be a word of the question, not a service
        phrases = [" ".join(w.text for w in u) for u in p.unknown]
        return Reading("clarify", None, "not read: " + "; ".join(phrases),
                       f"I could not read {', '.join(repr(x) for x in phrases)}: it is no service of the library nor a "
                       "word I know. Could you say it differently (e.g. overturned / upheld, a date, a service)?",
                       unused=phrases, corrections=fixes)
    if p.unknown:
        phrase = " ".join(w.text for w in _one_phrase(p.unknown[0], words) or p.unknown[0])
        sugg = sorted({t for w in p.unknown[0] for t in correct_word(w.text, vocab.service_words).candidates})
        return Reading("unknown_service", None, f"service ≈ {phrase} (not a service of the library)",
                       f"'{phrase}' names no disputed service in the library.", unknown_phrase=phrase,
                       suggestions=sugg, corrections=fixes)
    named = REVIEWER_IS.search(text)
    if named and p.services and not p.specialties and any(
            w in named.group(2).split() for said in p.service_said for w in said.split()):
        # 'cases where the reviewer was a chiropractor': a specialty, never the service of that name
        return Reading("refuse", None, f"reviewer's specialty ≈ {named.group(2)} (not a specialty of the library)",
                       f"'{named.group(2)}' is no reviewer specialty in the library; its specialties are: "
                       + ", ".join(sorted(vocab.specialties)[:12]) + ".", corrections=fixes)
    if p.states and not LICENCE.search(text):  # 'overturn rate in texas': the letters' jurisdiction (said)
        as_format = {"Texas": "tx_iro", **({} if "ca_dmhc_imr" in vocab.letter_formats else {"California": "ca_dwc_imr"})}
        if all(v in as_format for v, _ in p.states):
            p.formats += [(as_format[v], n) for v, n in p.states]
            p.states = []
    doubt = doubtful(text, p) or period_owner(p, slots, words)
    if doubt is not None:
        return doubt
    scores = intents.classify(_mask(text, slots, words))
    try:
        reading = build_plan(p, scores, text, vocab)
    except ValueError as exc:  # a plan the algebra rejects: say so, never approximate
        return Reading("refuse", None, "could not build a plan", f"The question cannot be expressed: {exc}",
                       corrections=fixes)
    if reading.status == "plan" and reading.plan is not None:
        dropped = unused_slots(p, reading.plan)
        if dropped:  # a named value the plan does not use: the answer would be to another question
            return Reading("refuse", None, reading.read_as + "; not used: " + ", ".join(dropped),
                           f"I read the question as: {reading.read_as}, but that reading does not use "
                           f"{', '.join(dropped)}, so its answer would be to a different question.",
                           unused=dropped, corrections=fixes)
        if _noun_phrase(text, p) and reading.plan.operation == "aggregate" and not reading.plan.yes_no \
                and reading.plan.measure.aggregate in ("count", "list"):
            return Reading("clarify", None, reading.read_as + " (no question word: count or list?)",
                           "Do you want how many, or which cases?", choices=["how many", "which cases"],
                           corrections=fixes)
        verdict = [w for w in dict.fromkeys(p.unread) if not p.outcomes and re.search(
            rf"\b(were|was|got|get|gets|getting|been|is|are|be|being)\s+(\w+\s+)?{re.escape(w)}\b", text)]
        if verdict:  # 'requests were blorped': a word where an outcome stands may be one; never count past it
            return Reading("clarify", None, reading.read_as + "; not read: " + ", ".join(verdict),
                           f"I could not read {', '.join(repr(w) for w in verdict)}: if it is an outcome, do you mean "
                           "overturned (approved) or upheld (denied)?", choices=["overturned", "upheld", "any outcome"],
                           unused=verdict, corrections=fixes)
        if p.unread or preamble:  # descriptive words that change nothing counted: answered, and said
            unread = list(dict.fromkeys(p.unread + preamble))
            reading.read_as += "; not used: " + ", ".join(unread)
            reading.unused = unread
    return reading


_SERVICE_NUMBER_NEXT = re.compile(r"\s*(mg|mcg|ml|%|sessions?|visits?|times|tabs?|tablets?|patch(es)?|units?|hours?)\b")


def _service_numbers(text: str, slots: list[Slot], words: list[Word], vocab: Vocabulary) -> set[tuple[int, int]]:
    """Numbers that are part of a service's wording: '#60' after a service word, '75mg', '12 sessions'
    next to a service word. They belong to the service phrase, not to the question's numbers."""
    out = set()
    for s in slots:
        if s.kind != "number" or s.value.op:
            continue
        before = next((w for w in reversed(words) if w.end <= s.start), None)
        hashed = text[:s.start].rstrip().endswith("#")
        if hashed and before is not None and before.text == "#":
            before = next((w for w in reversed(words) if w.end <= before.start), None)
        near = before is not None and before.kind == "service" and text[before.end:s.start].strip(" #") == ""
        if near and (hashed or _SERVICE_NUMBER_NEXT.match(text, s.end) or s.end == len(text.rstrip("?. "))
                     or not text[s.end:s.end + 1].isalnum()):
            out.add((s.start, s.end))
    return out


def _one_phrase(unknown: list[Word], words: list[Word]) -> list[Word] | None:
    """The words of one noun phrase around an unknown phrase when it runs into service words
    through joining and category words only ('shockwave therapy for the shoulder'): the whole is
    what the letters are searched for. None when no service word is joined to it."""
    i, j = words.index(unknown[0]), words.index(unknown[-1])
    glue = ("function", "category", "service", "unknown")
    lo, hi = i, j
    while lo > 0 and words[lo - 1].kind in glue and (words[lo - 1].kind != "function" or words[lo - 1].text in JOINING):
        lo -= 1
    while hi + 1 < len(words) and words[hi + 1].kind in glue and (
            words[hi + 1].kind != "function" or words[hi + 1].text in JOINING):
        hi += 1
    run = words[lo:hi + 1]
    while run and run[-1].kind == "function":
        run.pop()
    while run and run[0].kind == "function":
        run.pop(0)
    return run if any(w.kind == "service" for w in run) else None


def _next_to_date(text: str, word: str, slots: list[Slot]) -> bool:
    """Whether an unread word stands right before or after a date ('around thanksgiving 2016')."""
    for m in re.finditer(rf"\b{re.escape(word)}\b", text):
        for s in slots:
            if s.kind == "date" and (text[m.end():s.start].strip() == "" and m.end() <= s.start
                                     or text[s.end:m.start()].strip() == "" and s.end <= m.start()):
                return True
    return False


_QUESTION_WORD = re.compile(r"^(how|what|which|who|whose|when|where|why|was|were|did|does|do|is|are|has|have|had|"
                            r"any|list|show|give|count|tell|find|name|number|total|rank|compare|top|#|%|percent)\b")


def _noun_phrase(text: str, p: Parts) -> bool:
    """A bare noun phrase ('letters decided in the last 5 years'): no question word, no count, list,
    rank or yes/no cue, so it may ask for the number or for the cases; the reader asks back."""
    if _QUESTION_WORD.search(text) or "items" in p.units or re.search(r"\b(cases?|patients?|claimants?|workers?)\b", text):
        return False  # 'norco cases' lists cases, 'overturned requests in 2017' counts items
    return not ({"count", "list", "share", "rank", "by", "avg", "median", "min", "max", "earliest", "latest",
                 "compare", "duration"} & p.cues or p.quants)


def _blanked(text: str, slots: list[Slot], start: int, end: int,
             vocab: Vocabulary) -> tuple[str, list[Slot], list[Word]]:
    """The question with text[start:end] blanked (offsets kept), its slots outside the span, its words again."""
    text = text[:start] + " " * (end - start) + text[end:]
    slots = [s for s in slots if s.end <= start or s.start >= end]
    return text, slots, tokenize(text, slots, vocab)


def _without_preamble(text: str, vocab: Vocabulary) -> tuple[str, list[str]]:
    """The question without words before a colon or a dash that only set the scene, and those words ('for a memo:',
    'my supervisor wants the MRI number:'): dropped when the question goes on after them and
    none of them but function words is a word the reader knows other than a service word also
    named after them (a count or unit word there, 'the MRI number', is said again after it)."""
    m = PREAMBLE.match(text)
    if m is None or not SCENE.search(m.group(1)) or find_cases(m.group(1)) or re.search(r"\d", m.group(1)):
        return text, []
    rest = text[m.end():]
    words = tokenize(m.group(1), [], vocab)
    known = [w for w in words if w.kind not in ("unknown", "function", "cue", "unit") and not (
        w.kind == "service" and re.search(rf"\b{re.escape(w.text)}", rest))]
    if known or not rest.strip():
        return text, []
    return " " * m.end() + rest, [w.text for w in words if w.kind != "function"]
