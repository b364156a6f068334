"""Phrase patterns the plan builder reads in a question's text beside its words: which case is asked
for, what is counted, a ranking asked in full, an extreme per letter ... (build.py holds the logic)."""

from __future__ import annotations

import re

from imr_rag.ask.lexicon import OUTCOMES

OUTCOME_MOST = re.compile(r"\b(overturn|overturns|uphold|upholds|approve|approves|deny|denies|reverse|reverses|"
                          r"overturned|upheld|approved|denied|reversed)\s+(the\s+)?(most|least)(\s+often)?\s*[?.!]*$")
"""An outcome verb followed by 'most' and nothing counted, the groups being who decides ('which
specialties overturn most'): how often each decides so, a share; 'which service gets overturned
the most' (the service is decided on) and 'overturned the most requests' count."""

COUNTS_LETTERS = re.compile(r"\b(most|fewest|number of|# of|count of|how many|by)\s+"
                            r"((?!in\b|of\b|from\b|for\b|among\b|across\b|within\b)\w+\s+){0,2}?"
                            r"(cases|letters|claims|files|decisions)\b")
"""Letters are what is counted ('by number of cases', 'in the most letters')."""

WHICH_CASE = re.compile(r"\b(which|what|whose|name the|list the|show the|fastest|quickest|slowest|longest|shortest)\s+"
                        r"(\w+\s+)?(case|cases|letter|letters|claim|claims|file|files|worker|patient|claimant|one)\b"
                        r"|\bcase\s*(numbers?|nos?\.?|#\s*'?s?)(?!\w)|\bcasenumbers\b|\bwho\b|[-,:]\s*(which\s+)?cases?\s*$")
"""The question asks for the cases holding a value ('which case waited longest'), not the value."""

LETTER_NOUN_PLURAL = re.compile(r"\b(letters|cases|claims|files|decisions|determinations)\b")

LETTER_NOUN = re.compile(r"\b(letters?|cases?|claims?|files?|decisions?|determinations?)\b")

LIST_ITEMS = re.compile(r"\s*(list|show|give|enumerate|name)\b(?!.*\b(cases?|letters?|claims?|files?|case numbers?)\b)")
"""'List the disputed items': the items are the answer; 'which X requests ...', 'case numbers where
...' ask for the cases, even when items are named."""

WHEN_DECIDED = re.compile(r"\bwhen\b.*\b(decided|ruled|determined|resolved|issued|decide|rule)\b")
"""'When was it decided': the decision date (no other date is a deciding)."""

PERSON = re.compile(r"\b(patient|worker|claimant|employee|applicant|person|people)s?\b")

FULL = re.compile(r"\b(rank|ranked|ranking|breakdown|distribution|by|per|each|break|broken|wise)\b")
"""A ranking asked for in full; otherwise a superlative ('the most') keeps the top one (and ties)."""

FEWEST = re.compile(r"\b(fewest|least|lowest|smallest)\b")

PLURAL_GROUP = re.compile(r"\b(which|what)\s+(\w+\s+)?(services|treatments|drugs|medications|procedures|categories|"
                          r"specialties|months|quarters|years|guidelines|types|kinds|diagnoses)\s+(are|were|get|got|have|had)\b")
"""'what services are disputed most often': several asked for, the ranking in full."""

LETTER_NOUNS = ("letter", "letters", "case", "cases", "decision", "decisions", "determination", "determinations",
                "file", "files", "claim", "claims")

COUNTED_UNIT = re.compile(r"\b(?:how many|number of|count of|# of|(?<!not )counting|tally of)\s+(?:[a-z\-]+\s+){0,3}?("
                          r"(items?|requests?|treatments?|services?|" + "|".join(LETTER_NOUNS) + r"))\b")
"""The unit right after 'how many' / 'counting' is the one counted; a unit named elsewhere is the scope."""

OF_THE_LETTERS = re.compile(r"\bof the\s+(?:\w+\s+)?(decisions|letters|cases|determinations)\s*,?\s+how many\s+"
                            r"(?:had|have|were|was|got|did|included|involved)\b")
"""'of the decisions, how many had a medication overturned': letters are counted."""

MORE = ("highest", "largest", "greatest", "most", "max", "maximum", "biggest")

ITEMS_PER_LETTER = re.compile(rf"\b({'|'.join(MORE)}|lowest|smallest|fewest|least|min|minimum)\s+(number|count|#)\s+of\s+"
                              r"(disputed\s+)?(items|requests|treatments|services)\s+(in|per|on|of)\s+(a\s+|one\s+|any\s+|"
                              r"each\s+|the\s+)?(letter|case|decision)\b")
"""'the highest number of items in a letter': the extreme of a letter's item count, not a count."""

NOT_CHOICE = re.compile(r"\b(on or (after|before)|or (later|earlier|after|before|more|fewer|less|older|younger|so)|"
                        r"more or less|(upheld|overturned|approved|denied) or (upheld|overturned|approved|denied))\b")

PRONOUN = re.compile(r"\b(it|them|they|that one|the other one|same question|this case|that case|the case|"
                     r"this letter|that letter|the letter|the patient|the worker|the reviewer|the claimant|"
                     r"the employee|the applicant|what about|how about|and the)\b")

SPEED = re.compile(r"\b(fastest|quickest|slowest|soonest|longest|shortest)\b")
"""With a date field: the time between it and the decision ('fastest case UR denial -> decision')."""

WHAT_HAPPENED = re.compile(r"\b(happen\w*|come out|came out|turn\w* out|end\w* up|fared?|outcomes?|results?)\b")
"""Asking how things were decided ('what happened to the MRI requests'), not which were ('decided in 2023')."""

ONE_REQUEST = re.compile(r"\bthe\s+(\w+\s+){0,3}?(request|item|treatment|service|procedure|prescription)\b(?!s)")

HAVING = frozenset({"with", "having", "involving", "containing", "including"})
"""Words between a negation and what it negates ('other than those with MRIs')."""

LEAVING_OUT = (r"excluding|except|other than|not counting|besides|without|minus|leaving out|leave out|apart from|"
               r"aside from|setting aside|set aside|ignoring|barring")
"""The words that leave a case or a set of letters out ('excluding', 'apart from', 'setting aside')."""

LEFT_OUT_CASE = re.compile(rf"\b(?:{LEAVING_OUT})"
                           r"\s+the\s+((?:[a-z0-9][a-z0-9\-]*\s+){1,4}?)(?:case|letter|decision)\s+(?:number\s+)?"
                           r"(?=(?:cm)?\d{2,4}-\d{4,7}\b)")
"""'excluding the shoulder surgery case CM16-…': the words between 'the' and 'case' describe the
case left out; they are named as not used, never read as a service excluded."""

FOLLOW_UP = re.compile(r"^\s*(and\s+(the\s+)?(other|rest|same)|(the\s+)?same\s+(question|thing|for)|what\s+about\s+(it|them|that|those)|"
                       r"how\s+about\s+(it|them|that|those)|compare\s+them|and\s+(it|them|those|that)\b|the\s+other\s+one)\b")
"""A question that only makes sense after another one ('compare them', 'same question for 2016')."""

POINTING = re.compile(r"\b(the\s+other\s+one|the\s+(second|first|third|last|previous|earlier)\s+(one|case|letter|request)|"
                      r"that\s+one|this\s+one|(that|this|same)\s+(case|letter|patient|worker|claimant)|"
                      r"his|him|hers|he|she|her)\b")
"""Words pointing at someone or something named before ('his date of injury', 'the second case'):
without a case number in the question, the question is a follow-up."""

DESCRIBED = re.compile(r"\b(?:(?:for|of|in)\s+(?:the|a|this|that|her|his|our)\s+(?:patient|worker|claimant|employee|"
                       r"applicant|man|woman)\s+with|(?:after|following)\s+(?:the|a|an|his|her|their))"
                       r"\s+([a-z][a-z '\-]*?)\s*(?=[?.,;!]|$)")
"""'... for the patient with failed back surgery syndrome': after a named service, a description of
the patient (a diagnosis), not a filter; its words are named as not used."""


def rephrase(text: str) -> str:
    """A normalised question with the wordings that would mislead the word reader said plainly."""
    text = re.sub(r"\s+/\s+", " or ", text)  # 'the wheelchair / hospital bed case': either
    text = re.sub(r"\b([a-z][a-z\-]+)/([a-z][a-z\-]+)\b", r"\1 or \2", text)  # 'NCV/EMG': either ('w/' stays)
    text = re.sub(r"\b(every|each)\s+(single|last)\b", r"\1", text)  # emphasis, not the number one
    text = re.sub(r"\b(in|of|per)\s+(a\s+single|one\s+single|a)\s+(letter|case|decision)\b", r"\1 \3", text)
    text = re.sub(r"\bcase\s*(?:#\s*'?s|nos\.?|numbers|number(?!\s*(?:[a-z]{2}-?\d|\d)))(?!\w)", "casenumbers",
                  text)  # 'texas case #s', 'expedited case number' (not 'case number CM16-…')
    text = re.sub(r"\b(are|is|were|was)\s+left\b", "", text)  # 'how many letters are left': remain, not the left side
    text = re.sub(r"\bone of the\b", "among the", text)  # 'was PT one of the disputed items'
    text = re.sub(r"\bpart of\s+((?:any|a|an|the|these|those)\s+)?(decisions?|letters?|cases?|disputes?|reviews?)\b",
                  r"in \1\2", text)  # 'was a TENS unit part of any decision'
    text = re.sub(r"(?<=\w)s?\s+(?:like|such as)\s+(?=[a-z])", " or ", text)  # 'anticonvulsants like gabapentin'
    text = re.sub(r"\(((?![^()]*\b(?:not|date|only)\b)[^()]*(?:,|\betc\b|\be\.?g\.?)[^()]*)\)", lambda m: " or " + " or ".join(
        w.strip() for w in re.split(r",|\bor\b|\band\b", re.sub(r"\b(etc\.?|e\.?g\.?|i\.?e\.?)", "", m.group(1)))
        if w.strip()) + " ", text)  # 'PPI requests (prilosec, protonix etc)': the examples are alternatives
    text = re.sub(r"\b((?:19|20)\d\d)\s*\+", r"since \1", text)  # '2021+'
    text = re.sub(r"\b(stayed|remained|stays|remains|still)\s+(?=(denied|upheld|non-?certified|not\s+certified|"
                  r"overturned|approved|certified)\b)", "", text)  # 'stayed non-certified': the outcome, said twice
    text = re.sub(r"\b(?:the\s+)?(?:start|beginning)\s+of\s+((?:19|20)\d\d)\b", r"january \1", text)  # 'since the start of 2017'
    text = re.sub(r"\b(?:the\s+)?end\s+of\s+((?:19|20)\d\d)\b", r"december \1", text)
    text = re.sub(r"\bh([12])\s*((?:19|20)\d\d)\b", lambda m: f"{'first' if m.group(1) == '1' else 'second'} half of "
                  f"{m.group(2)}", text)  # 'h1 2017'
    text = re.sub(r"\bpts\b", "patients", text)  # 'pts over 50': patients (physical therapy is 'PT requests')
    if re.search(r"\b(age|aged|old|oldest|youngest|older|younger|sex|gender|male|female|born|diagnos\w*|dx)\b", text):
        text = re.sub(r"\bpt\b", "patient", text)  # 'age of pt': the patient, not physical therapy
    text = re.sub(r"'other'(\s+categor(y|ies))?", "other category", text)  # the category named in quotes
    if re.search(r"\b(board|certified|certification|speciali[sz]\w*)\b", text):
        text = re.sub(r"\b(field|area|discipline)s?\b", "specialty", text)  # 'in which field is he board certified'
    return text


PERSON_BOUND = re.compile(r"\b(patients?|workers?|claimants?|employees?|applicants?|people|persons?|pts)\s+(aged\s+)?"
                          r"(over|under|above|below|older than|younger than|more than|less than|at least|at most)\s+(\d+)")
"""'patients over 50': a bound on the patient's age, whatever the question computes."""


BODY_WORDS = frozenset("lumbar cervical thoracic lumbosacral knee shoulder hip ankle wrist elbow hand foot neck back spine "
                       "left right bilateral upper lower".split())
"""Words that say where, not what: 'lumbar vs cervical MRI' compares two MRIs."""


def compares(cues: set[str], text: str) -> bool:
    """The question compares: 'vs', 'compare', or 'X or Y' with a comparative ('which had more');
    'on or after', 'or later', 'X or Y upheld' (either) are no comparison."""
    text = NOT_CHOICE.sub(" ", text)
    return "compare" in cues or bool(re.search(r"\bor\b", text) and re.search(
        r"\b(more|most|fewer|fewest|less|least|higher|highest|lower|lowest|better|worse)\b", text)) \
        or bool(re.search(r"\b(more|fewer|less)\b.*\bthan\b", text))


def outcome_asked(text: str) -> bool:
    """'CM...: ketoprofen - upheld?': a question ending in an outcome word and a question mark."""
    m = re.search(r"(\w+)\s*\?\s*$", text)
    return bool(m) and any(m.group(1) in words.split() for words in OUTCOMES.values())


REVIEWER_IS = re.compile(r"\b(reviewers?|reviewing (?:physician|doctor)|physician reviewer|expert reviewer)\s+"
                         r"(?:who\s+|that\s+)?(?:was|is|were|are|being)\s+(?:an?\s+)?([a-z][a-z\-]*(?:\s+(?!in\b|for\b|on\b|and\b|with\b|"
                         r"who\b|that\b)[a-z][a-z\-]*){0,2})")
"""'the reviewer was a chiropractor': what follows names the reviewer's specialty."""


OF_OUTCOME_ITEMS = re.compile(r"\b(share|percent|percentage|pct|proportion|fraction|%)\s+of\s+(the\s+|all\s+)?"
                              r"(overturned|upheld|approved|denied|reversed|affirmed|granted|certified|non-?certified|"
                              r"successful|won|lost)\s+(items|requests|treatments|services|disputes|appeals|ones)\s+"
                              r"(that|which|with|were|was|citing|cited|for|involving)\b")
"""'share of overturned items that cited ODG': the outcome names the whole, what follows the part."""


PREAMBLE = re.compile(r"^([^:?]{3,80}?)\s*(?::|\s[-\u2014]\s)\s*(?=\S)")
SCENE = re.compile(r"\b(i|i'm|im|my|me|we|our|us|memo|report|table|client|clients|boss|supervisor|partners?|team|"
                   r"presentation|slides?|brief|deck|manager|colleague)\b")
"""Words that set the scene of a question ('for a memo', 'my supervisor wants'): a preamble holds one."""
"""'my supervisor wants the MRI number: what share ...': words before a colon or a dash that may
only set the scene (the reader drops them when none of them is a word it knows)."""

THE_CASE = re.compile(r"\bthe\s+((?:(?!which\b|what\b)[a-z0-9][a-z0-9\-]*\s+){1,3}?)(case|letter|claim|file)\b(?!\s*(?:s\b|numbers?\b|with\b|"
                      r"that\b|where\b|which\b|in which\b))")
"""'who reviewed the shoulder case': one case, described, not named."""

ONE_CASE_NEGATED = re.compile(rf"\b({LEAVING_OUT})\s+the\s*$")
