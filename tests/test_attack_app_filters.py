"""The app validates its filters as the CLI does (issue 18, item 5).

The attack typed 2017-13-45 and 2017-02-30 into the app's date filters: they matched the pattern,
so the app answered, with the filter silently changed. An impossible date, a reversed range or an
unknown outcome or format must be a visible error with no answer or table computed without it, and
every filter applied is said with the answer. Checked on the service, the CLI and the app's raw
HTTP API (`imr-rag serve` on loopback, as a remote client would call it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_app_attack import call_api, served  # noqa: F401  (the served app fixture)
from test_app_service import service  # noqa: F401  (the seeded app service fixture)
from test_hardening import no_imr_env, run  # noqa: F401

from imr_rag.faces.app_service import AppService, escape_markdown, make_filters
from imr_rag.errors import InvalidFilter

IMPOSSIBLE = [
    ({"date_from": "2017-13-45"}, "date from must be an ISO date"),
    ({"date_to": "2017-02-30"}, "date to must be an ISO date"),
    ({"date_from": "2017-W01-1"}, "date from must be an ISO date"),  # fromisoformat would take it
    ({"date_from": "２０１７-01-01"}, "date from must be an ISO date"),  # full-width digits
    ({"date_from": "2017-03-31", "date_to": "2017-01-01"}, r"date from \(2017-03-31\) is after date to"),
    ({"determination": "denied"}, "outcome must be one of"),
    ({"letter_format": "fax"}, "letter format must be one of"),
]


@pytest.mark.parametrize(("kwargs", "message"), IMPOSSIBLE)
def test_filters_that_cannot_apply_are_refused_with_the_reason(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidFilter, match=message):
        make_filters(**kwargs)


def test_an_answer_says_every_filter_it_was_computed_with(service: AppService) -> None:  # noqa: F811
    filters = make_filters("ca_dwc_imr", "overturned", "2022-01-01", "2022-12-31", "")
    result = service.ask_full("How many requests were overturned?", filters=filters)
    shown = "Filters: decision date 2022-01-01 to 2022-12-31, outcome overturned, letter format ca_dwc_imr"
    assert escape_markdown(shown) in result.markdown
    assert result.answer.counted and all("2022-01-01" <= c.decision_date <= "2022-12-31" for c in result.answer.counted)
    unfiltered = service.ask_full("How many requests were overturned?")
    assert "Filters" not in unfiltered.markdown


@pytest.mark.parametrize(("args", "message"), [
    (["--date-from", "2017-03-31", "--date-to", "2017-01-01"], "date from (2017-03-31) is after date to (2017-01-01)"),
    (["--format", "fax"], "letter format must be one of"),
])
def test_the_cli_refuses_the_same_filters(args: list[str], message: str, tmp_path: Path, capsys,
                                          no_imr_env) -> None:  # noqa: F811
    code, out, err = run(capsys, "--data-dir", str(tmp_path / "data"), "ask", "How many were overturned?", *args)
    assert code == 2 and out == "" and message in err


# -- through the app's HTTP API ----------------------------------------------------------------
def event_data(stream: str) -> list:
    """The output values of a finished call (the data of its 'complete' event)."""
    lines = stream.splitlines()
    (n,) = [i for i, line in enumerate(lines) if line == "event: complete"]
    return json.loads(lines[n + 1].removeprefix("data: "))


@pytest.mark.slow
@pytest.mark.parametrize("dates", [("2017-13-45", ""), ("2017-02-30", ""), ("2022-12-31", "2022-01-01")])
def test_the_app_api_answers_an_impossible_date_with_an_error_not_an_answer(served, dates) -> None:  # noqa: F811
    url, _ = served
    answer, sources, *_, note = event_data(call_api(url, "on_ask", [
        "How many requests were overturned?", [], "any", "any", *dates, ""]))
    assert answer == note and note.startswith("**Filter not applied, nothing shown:**")
    assert "disputed items" not in answer and sources["choices"] == []  # nothing was counted or cited

    note, summary, table, overview, chart, _letter, *downloads, dmhc_charts, by_diagnosis, by_year = event_data(
        call_api(url, "on_decisions", ["any", "any", *dates, "", False]))
    assert note.startswith("**Filter not applied, nothing shown:**")
    assert summary == overview == chart == "" and table["data"] == [] and downloads == [None, None, None]
    assert dmhc_charts["visible"] is False and by_diagnosis["value"]["data"] == by_year["value"]["data"] == []


@pytest.mark.slow
def test_the_app_api_echoes_the_filters_with_the_answer(served) -> None:  # noqa: F811
    url, _ = served
    answer, *_, note = event_data(call_api(url, "on_ask", [
        "How many requests were overturned?", [], "any", "overturned", "2022-01-01", "2022-12-31", ""]))
    assert escape_markdown("Filters: decision date 2022-01-01 to 2022-12-31, outcome overturned") in answer
    assert note == ""
