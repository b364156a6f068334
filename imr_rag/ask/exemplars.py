"""The exemplar bank: worded questions per intent, with slot values masked as the reader masks
them (SERVICE, DATE, CASE, NUMBER, OUTCOME, SPECIALTY, CATEGORY, FIELD). Written for this
package, varied on purpose; the bank decides only which operations a question asks for.

Intents: count, list, share, average, extreme, rank, compare, fact, outcome, why, passage, yesno.
"""

from __future__ import annotations

EXEMPLARS: dict[str, tuple[str, ...]] = {
    "count": (
        "how many SERVICE requests were OUTCOME", "number of OUTCOME items", "total OUTCOME requests DATE",
        "count of letters DATE", "how many decisions were issued DATE", "how many cases had SERVICE",
        "tally the OUTCOME CATEGORY requests", "how many times was SERVICE OUTCOME", "SERVICE OUTCOME count",
        "what is the number of letters that cite FIELD", "how many patients were FIELD",
        "how many determinations DATE", "# of OUTCOME SERVICE", "how many reviews were FIELD",
        "how many treatments were disputed in CASE", "number of requests in case CASE",
        "how many letters mention SERVICE", "count the cases reviewed by SPECIALTY",
    ),
    "list": (
        "which cases had SERVICE", "list the letters with SERVICE requests", "show me the cases decided DATE",
        "cases where every request was OUTCOME", "which letters had none OUTCOME", "cases with SERVICE",
        "give me the case numbers where SERVICE was disputed", "letters reviewed by a SPECIALTY",
        "which cases had patients over NUMBER", "SERVICE cases", "cases disputing at least NUMBER treatments",
        "which decisions were FIELD", "find letters where the reviewer cited FIELD",
        "which cases had a FIELD DATE", "letters with a mix of OUTCOME and OUTCOME items",
    ),
    "share": (
        "OUTCOME rate for SERVICE", "what percent of SERVICE requests were OUTCOME", "share of CATEGORY OUTCOME",
        "how often is SERVICE OUTCOME", "what proportion of requests were OUTCOME DATE",
        "percentage of letters with SERVICE", "SERVICE OUTCOME %", "what fraction of CATEGORY items get OUTCOME",
        "likelihood that SERVICE is OUTCOME", "OUTCOME rate when FIELD was cited", "ratio of OUTCOME requests",
    ),
    "average": (
        "average patient age", "mean age of injured workers", "average days from FIELD to FIELD",
        "how long on average between FIELD and FIELD", "median time from FIELD to the decision",
        "typical number of days between FIELD and FIELD", "avg age of claimants DATE",
        "on average how many days does it take from FIELD to decision", "average turnaround time",
        "mean number of requests per letter",
    ),
    "extreme": (
        "earliest decision date", "most recent decision", "latest FIELD in the library",
        "when was the first decision DATE", "oldest letter", "newest IMR letter",
        "which case took the longest from FIELD to FIELD", "fastest case from FIELD to decision",
        "shortest time between FIELD and FIELD", "youngest patient", "oldest claimant",
        "what is the last decision date DATE",
    ),
    "rank": (
        "top NUMBER most disputed services", "most common treatments in dispute", "which service is requested most",
        "rank categories by number of requests", "which month had the most OUTCOME requests",
        "busiest month for decisions", "which specialty reviewed the most cases", "most frequent reviewer specialty",
        "breakdown of requests by category", "OUTCOME items by category", "which category has the most OUTCOME",
        "NUMBER most disputed services", "what kind of doctors review the most letters",
        "highest OUTCOME rate by month", "which quarter had the most letters", "letters per month",
        "which drugs are disputed most often", "most common diagnoses",
    ),
    "compare": (
        "SERVICE vs SERVICE OUTCOME rate", "which is OUTCOME more often, SERVICE or SERVICE",
        "compare OUTCOME rates of SERVICE and SERVICE", "more disputes: SERVICE or SERVICE",
        "SERVICE versus SERVICE - which is disputed more", "CATEGORY vs CATEGORY OUTCOME counts",
        "how does SERVICE compare with SERVICE", "DATE versus DATE number of letters",
        "OUTCOME rate SPECIALTY compared to SPECIALTY",
    ),
    "fact": (
        "FIELD CASE", "CASE when was it FIELD", "what is the FIELD in case CASE", "CASE FIELD date",
        "when did FIELD happen in CASE", "who reviewed CASE", "what kind of doctor reviewed CASE",
        "how old was the injured worker in CASE", "patient age CASE", "what is the sex of the patient in CASE",
        "CASE reviewer specialty", "what date was the FIELD for CASE", "what were the diagnoses in CASE",
        "where is the reviewer of CASE licensed", "was CASE expedited or standard", "CASE priority",
    ),
    "outcome": (
        "what happened to the SERVICE in CASE", "CASE SERVICE outcome", "was the SERVICE in CASE OUTCOME or OUTCOME",
        "result of the SERVICE request, case CASE", "how did IMR rule on SERVICE in CASE",
        "what was decided about SERVICE for CASE", "did IMR OUTCOME SERVICE for CASE", "SERVICE CASE determination",
        "outcomes in CASE", "what was the decision on each request in CASE",
    ),
    "why": (
        "why was the SERVICE OUTCOME in CASE", "reason SERVICE OUTCOME CASE", "rationale for CASE SERVICE",
        "why did IMR OUTCOME the SERVICE in CASE", "CASE SERVICE - reviewer's reasoning",
        "on what basis was SERVICE OUTCOME in CASE", "explain the decision on SERVICE in CASE",
        "why not medically necessary SERVICE CASE",
    ),
    "passage": (
        "what did the reviewer say about SERVICE", "what do the letters say about SERVICE",
        "quote the guideline on SERVICE", "find passages about SERVICE", "what does MTUS say about SERVICE",
        "text about SERVICE in CASE", "show the paragraph on SERVICE", "what did the reviewer write about SERVICE in CASE",
        "which passage discusses SERVICE",
    ),
    "yesno": (
        "was any SERVICE request OUTCOME", "did IMR ever OUTCOME a SERVICE", "were all SERVICE OUTCOME",
        "any SERVICE OUTCOME", "is there a case with SERVICE OUTCOME", "did any letter cite FIELD",
        "were there FIELD reviews at all", "has any SERVICE been OUTCOME DATE", "is there any letter DATE",
        "did any SPECIALTY review a case", "was the SERVICE in CASE OUTCOME",
    ),
}
