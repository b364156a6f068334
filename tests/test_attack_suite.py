"""The standing attack suite: every attack tried on this tool, by round, and the tests that hold it.

Each attack below was reproduced against the tool as a hostile user would try it, and its test
keeps it from coming back unseen. This file checks the register itself: every listed test
exists (renaming or deleting one fails here, not silently), and every `tests/test_attack_*.py`
file is listed. The tests themselves run where they live.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

ATTACKS: dict[str, list[str]] = {
    # -- round 3 ---------------------------------------------------------------------------
    "PDF memory bomb: nested form XObjects, 5-6 levels x 20, 1 and 2 workers": [
        "test_attack_pdf_bomb.py::test_nested_xobject_pdfs_are_refused_in_bounded_memory_and_the_batch_goes_on",
        "test_attack_pdf_bomb.py::test_a_pdf_over_the_time_limit_is_refused_and_the_next_one_is_read",
        "test_attack_pdf_bomb.py::test_the_extraction_process_is_a_fresh_interpreter_not_a_fork",
    ],
    "forged letter (case number in lower case, later date, outcomes flipped) replacing a decision": [
        "test_attack_case_conflicts.py::test_a_forged_later_letter_is_a_conflict_and_never_changes_the_numbers_by_itself",
    ],
    "look-alike case numbers (full-width, zero-width space, non-breaking hyphen, Cyrillic, Greek)": [
        "test_attack_case_conflicts.py::test_look_alike_case_numbers_are_the_same_case_and_the_same_decision",
        "test_attack_case_conflicts.py::test_look_alike_case_numbers_in_questions_and_filters_find_the_case",
    ],
    "password with @ in an LLM URL leaking through redaction": [
        "test_attack_redaction.py",
    ],
    "disk full / read-only data folder during ingest and check --repair": [
        "test_attack_disk_full.py",
    ],
    "impossible dates in the app's filters answered with the filter dropped": [
        "test_attack_app_filters.py",
    ],
    "letter text steering answers (another item's outcome line, an injected SYSTEM NOTE)": [
        "test_attack_letter_text.py",
    ],
    # -- earlier rounds ------------------------------------------------------------------
    "server-side path sent to the upload endpoint as raw HTTP": [
        "test_app_attack.py::test_upload_endpoint_refuses_a_server_side_path",
    ],
    "two uploads with the same file name": [
        "test_app_attack.py::test_two_uploads_with_the_same_name_keep_both_letters",
    ],
    "ingest killed at every stage, and while a changed file is re-ingested": [
        "test_reliability.py::test_a_kill_while_letters_are_added_is_finished_by_the_rerun",
        "test_reliability.py::test_a_kill_while_a_changed_file_is_reingested_leaves_no_old_version",
        "test_scale.py::test_a_kill_in_the_middle_of_a_merge_leaves_a_usable_index_that_the_rerun_merges",
    ],
    "unreadable files, folders and dangling links": [
        "test_reliability.py::test_an_unreadable_file_is_reported_and_the_batch_goes_on",
        "test_hardening.py::test_unreadable_subfolder_and_dangling_link_are_reported",
        "test_bad_input.py::test_each_input_fails_with_one_clear_reason_or_is_read",
    ],
    "a small PDF whose pages share one content stream (15 million characters)": [
        "test_bad_input.py::test_expanding_pdf_is_refused_page_by_page_in_flat_memory",
    ],
    "letter markup and beacons (images, links) in answers fetched by the browser": [
        "test_app_browser.py::test_letter_markup_in_an_answer_is_shown_as_text_and_never_fetched",
        "test_hardening.py::test_answer_markdown_shows_letter_markup_as_text",
    ],
    "hostile file names with terminal escapes": [
        "test_hardening.py::test_hostile_file_names_are_printed_escaped",
    ],
    "two writers on one data folder at once": [
        "test_reliability.py::test_two_ingests_of_one_folder_at_once_wait_for_each_other",
        "test_reliability.py::test_two_ingests_of_different_folders_embed_each_text_once",
    ],
    "the Chroma server down, or dying mid-embed": [
        "test_store_server.py::test_unreachable_server_is_a_clear_error",
        "test_store_server.py::test_a_server_that_dies_mid_embed_degrades_to_lexical_with_a_note",
        "test_doctor.py::test_unreachable_chroma_server_fails_with_what_to_do",
    ],
    "an LLM quote flipped by a negation stored as evidence": [
        "test_hardening.py::test_llm_backend_never_stores_an_item_from_a_negation_flipped_quote",
    ],
    "credentials in CLI output, the catalog or the web app": [
        "test_hardening.py::test_credentials_never_reach_cli_output_the_catalog_or_web_users",
    ],
    "a 60 MB upload left behind after being refused": [
        "test_hardening.py::test_a_refused_60_mb_upload_does_not_stay_in_uploads",
    ],
    "serving beyond loopback without a login": [
        "test_app_browser.py::test_serve_beyond_loopback_without_a_login_is_refused",
    ],
}


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name.startswith("test_")}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_every_attack_is_held_by_tests_that_exist(attack: str) -> None:
    for ref in ATTACKS[attack]:
        file, _, name = ref.partition("::")
        path = TESTS / file
        assert path.exists(), f"{attack}: {file} is gone"
        found = _tests_in(path)
        assert found, f"{attack}: {file} holds no tests"
        assert not name or name in found, f"{attack}: {ref} is gone"


def test_every_attack_file_is_in_the_register() -> None:
    listed = {ref.partition("::")[0] for refs in ATTACKS.values() for ref in refs}
    attack_files = {p.name for p in TESTS.glob("test_attack_*.py")} - {Path(__file__).name}
    assert attack_files <= listed, f"not in the register: {sorted(attack_files - listed)}"
