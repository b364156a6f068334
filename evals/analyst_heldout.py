"""HELD-OUT question templates for `evals.analyst_questions` (one list per question kind).

These wordings are kept apart from the dev templates on purpose: the answer engine must not be
tuned on them. The questions suite reports accuracy on the dev templates and on these separately;
a large gap means the question parser learned the dev wordings rather than the questions. Do not
read these while working on the parser; add new wordings here rather than copying them to dev.

Placeholders are those of the dev templates of the same kind (see analyst_questions.py).
"""

HELDOUT_TEMPLATES: dict[str, list[str]] = {
    "outcome": [
        "Did the IMR reviewer uphold or overturn the {service} in case {case}?",
        "Tell me the determination for {service} under case {case}.",
    ],
    "count_date": [
        "{When}, how many disputed services did reviewers find {outcome}?",
        "What was the total of {outcome} requests among letters dated {when}?",
    ],
    "count_letters": [
        "How many IMR letters do we have that were decided {when}?",
        "Total number of decision letters issued {when}?",
    ],
    "share": [
        "Out of all {service} requests, what proportion did the reviewers overturn?",
        "What is the overturn rate for {service}?",
    ],
    "group_share": [
        "For each {by}, how many of the items were overturned?",
        "Show the overturned proportion per {by}.",
    ],
    "group_count": [
        "Give me the number of disputed items in each {by}.",
        "Tally the disputed items per {by}.",
    ],
    "compare": [
        "How do {a} and {b} requests differ in how often they were overturned?",
        "Overturn rate for {a} compared with {b}?",
    ],
    "case_date": [
        "What {field} is recorded for case {case}?",
        "{Field} for {case}?",
    ],
    "case_specialty": [
        "The reviewer on {case}: what is their specialty?",
        "In what field is the expert reviewer for case {case} certified?",
    ],
    "case_guidelines": [
        "What treatment guidelines was case {case} decided on?",
        "Name the guideline sources the reviewer relied on in {case}.",
    ],
    "case_items": [
        "What number of treatment requests did case {case} decide?",
        "Count the disputed services in {case}.",
    ],
    "case_patient": [
        "{Attribute} of the claimant in {case}?",
        "Tell me the injured worker's {attribute} in case {case}.",
    ],
    "why": [
        "Explain the reasoning behind the decision on {service} in {case}.",
        "On what grounds was the {service} {verb} in case {case}?",
    ],
    "paraphrase": [
        "Did reviewers overturn or uphold {synonym} in {case}?",
        "Of the {synonym} requests, what portion got overturned?",
    ],
    "no_answer": [
        "Did anyone request {service}, and was it upheld?",
        "What proportion of {service} requests got overturned?",
        "Who reviewed case {case}?",
        "Number of letters decided {when}?",
    ],
}
