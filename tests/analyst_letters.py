"""A synthetic library for analyst questions: California IMR letters written from a plan (case,
dates, reviewer, items with outcome and guideline), so every expected answer is computed from
the plan itself. All patients, cases and rationales are invented.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path

GUIDELINE_LINES = {
    "MTUS": "Decision based on MTUS Chronic Pain Medical Treatment 2016, Section(s): {section}.",
    "ODG": "Decision based on Non-MTUS Citation Official Disability Guidelines (ODG), {section}.",
}


@dataclass
class PlannedItem:
    service: str
    outcome: str  # "Upheld" or "Overturned"
    guideline: str = "MTUS"
    authorized: str | None = None  # the portion the claims administrator already authorised


@dataclass
class PlannedLetter:
    case: str
    decided: dt.date
    specialty: str
    items: list[PlannedItem]
    injured: dt.date = dt.date(2015, 3, 9)
    age: int = 47
    sex: str = "male"
    licensure: tuple[str, ...] = ("California",)
    file: str = ""
    extra: dict = field(default_factory=dict)


def _us(d: dt.date) -> str:
    return d.strftime("%m/%d/%Y")


def letter_text(p: PlannedLetter) -> str:
    assigned = p.decided - dt.timedelta(days=30)
    ur = p.decided - dt.timedelta(days=60)
    received = p.decided - dt.timedelta(days=40)
    blocks = []
    for item in p.items:
        necessary = "is medically necessary" if item.outcome == "Overturned" else "is not medically necessary"
        guideline = GUIDELINE_LINES[item.guideline].format(section=item.service.split()[0])
        if item.authorized:
            heading = (f"{item.service} plus extra sessions was the original request. {item.authorized} was authorized by "
                       f"the Claims Administrator. The remaining IMR eligible portion of the original request, "
                       f"{item.service} is: {item.outcome}")
        else:
            heading = f"{item.service}: {item.outcome}"
        blocks.append(
            f"{heading}\n"
            "Claims Administrator guideline: The Claims Administrator did not cite any medical evidence for its decision.\n"
            f"MAXIMUS guideline: {guideline}\n"
            f"Decision rationale: The guidelines address {item.service.lower()} for chronic pain with documented "
            f"functional goals. The records of this case were reviewed against those criteria. Therefore, the request "
            f"for {item.service} {necessary}.\n"
        )
    return (
        f"Case Number: {p.case}\n"
        f"Date Assigned: {_us(assigned)} Date of Injury: {_us(p.injured)}\n"
        f"Decision Date: {_us(p.decided)} UR Denial Date: {_us(ur)}\n"
        f"Priority: Standard Application \nReceived: \n{_us(received)}\n"
        "HOW THE IMR FINAL DETERMINATION WAS MADE\n"
        "MAXIMUS Federal Services sent the complete case file to an expert reviewer. He/she has no \n"
        "affiliation with the employer, employee, providers or the claims administrator.\n"
        "The Expert Reviewer has the following credentials:\n"
        f"State(s) of Licensure: {', '.join(p.licensure)}\n"
        f"Certification(s)/Specialty: {p.specialty}\n"
        "CLINICAL CASE SUMMARY\n"
        "The expert reviewer developed the following clinical case summary based on a review of the case \n"
        "file, including all medical records:\n"
        f"This case involves a now {p.age}-year-old {p.sex} with a history of an occupational claim from \n"
        f"{_us(p.injured)}. The current diagnoses are documented as chronic low back pain. Treatment to date has \n"
        "included medications and a home exercise program.\n"
        "IMR ISSUES, DECISIONS AND RATIONALES\n"
        "The Final Determination was based on decisions for the disputed items/services set forth below:\n"
        + "".join(blocks)
    )


SPECIALTIES = ["Orthopedic Surgery", "Family Practice", "Internal Medicine", "Psychiatry"]


def plan_library(seed: int = 7) -> list[PlannedLetter]:
    """About 40 letters from 2016-10 to 2017-03; 12 acupuncture requests (3 overturned), 10
    chiropractic requests (5 overturned), physical therapy, MRI, Norco; an older version of one
    case that must never be counted."""
    rng = random.Random(seed)
    letters: list[PlannedLetter] = []
    start = dt.date(2016, 10, 3)
    acupuncture = ["Overturned"] * 3 + ["Upheld"] * 9
    chiropractic = ["Overturned"] * 5 + ["Upheld"] * 5
    rng.shuffle(acupuncture)
    rng.shuffle(chiropractic)
    for n in range(40):
        decided = start + dt.timedelta(days=4 * n + rng.randint(0, 2))
        items = []
        if n < 12:
            items.append(PlannedItem("Acupuncture 6 sessions", acupuncture[n], "MTUS"))
        if 12 <= n < 22:
            items.append(PlannedItem("Chiropractic manipulation 8 visits", chiropractic[n - 12], "MTUS"))
        if n % 3 == 0:
            items.append(PlannedItem("Physical therapy 2 times a week for 4 weeks", rng.choice(["Upheld", "Overturned"]), "ODG"))
        if n % 4 == 1:
            items.append(PlannedItem("MRI of the lumbar spine without contrast", rng.choice(["Upheld", "Overturned"]), "ODG"))
        if n % 5 == 2:
            items.append(PlannedItem("Norco 10/325mg #60", rng.choice(["Upheld", "Overturned"]), "MTUS"))
        if n % 7 == 3:
            items.append(PlannedItem("Cognitive behavioral therapy 6 sessions", rng.choice(["Upheld", "Overturned"]),
                                     "MTUS", authorized="Cognitive behavioral therapy 4 sessions"))
        if not items:
            items.append(PlannedItem("Urine drug screen", rng.choice(["Upheld", "Overturned"]), "MTUS"))
        letters.append(PlannedLetter(
            case=f"CM17-{9000100 + n:07d}", decided=decided, specialty=SPECIALTIES[n % len(SPECIALTIES)],
            items=items, age=30 + n, sex="female" if n % 2 else "male",
            licensure=("California", "Oregon") if n % 2 else ("California",),
            injured=dt.date(2014, 1 + n % 12, 1 + n % 27), file=f"analyst_{n:02d}.txt",
        ))
    # An older letter of case 0 (decided earlier, all overturned): superseded, never counted.
    first = letters[0]
    letters.append(PlannedLetter(
        case=first.case, decided=first.decided - dt.timedelta(days=20), specialty="Psychiatry",
        items=[PlannedItem("Acupuncture 6 sessions", "Overturned"), PlannedItem("Physical therapy 8 sessions", "Overturned")],
        file="analyst_00_old_version.txt",
    ))
    return letters


def write_library(folder: Path, letters: list[PlannedLetter]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for letter in letters:
        (folder / letter.file).write_text(letter_text(letter))
    return folder


def current(letters: list[PlannedLetter]) -> list[PlannedLetter]:
    """The letters that count: the newest of each case."""
    newest: dict[str, PlannedLetter] = {}
    for letter in letters:
        if letter.case not in newest or letter.decided > newest[letter.case].decided:
            newest[letter.case] = letter
    return list(newest.values())


SCALE_SERVICES = [
    ("Acupuncture 6 sessions", "MTUS"), ("Chiropractic manipulation 8 visits", "MTUS"),
    ("Physical therapy 2 times a week for 4 weeks", "ODG"), ("MRI of the lumbar spine without contrast", "ODG"),
    ("Norco 10/325mg #60", "MTUS"), ("Lyrica 75mg #60", "MTUS"), ("EMG of the bilateral lower extremities", "ODG"),
    ("Lumbar epidural steroid injection L4-L5", "MTUS"), ("TENS unit 30 day trial", "MTUS"),
    ("Right knee arthroscopy", "ODG"), ("Omeprazole 20mg #60", "MTUS"), ("Functional capacity evaluation", "ODG"),
]
SCALE_SPECIALTIES = SPECIALTIES + ["Physical Medicine & Rehabilitation", "Anesthesiology, Pain Management",
                                   "Preventive Medicine, Occupational Medicine", "Chiropractic"]


def scaled_library(count: int, seed: int = 11) -> list[PlannedLetter]:
    """`count` letters over two years (2016-2017), 1-4 items each, for benchmarks at scale."""
    rng = random.Random(seed)
    start = dt.date(2016, 1, 1)
    letters = []
    for n in range(count):
        chosen = rng.sample(SCALE_SERVICES, rng.randint(1, 4))
        letters.append(PlannedLetter(
            case=f"CM18-{n:07d}", decided=start + dt.timedelta(days=rng.randrange(730)),
            specialty=rng.choice(SCALE_SPECIALTIES),
            items=[PlannedItem(s, rng.choice(["Upheld", "Upheld", "Overturned"]), g) for s, g in chosen],
            age=rng.randint(22, 70), sex=rng.choice(["male", "female"]), file=f"scale_{n:07d}.txt",
        ))
    return letters
