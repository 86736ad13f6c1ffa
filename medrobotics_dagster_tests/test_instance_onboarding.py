"""The first-visit dialog of the Dagster UI stays closed on an instance directory we prepared."""

from dagster._core.nux import get_has_seen_nux

from medrobotics_dagster.instance_onboarding import mark_onboarding_seen


def test_a_marked_instance_directory_is_one_whose_dialog_dagster_considers_seen(tmp_path, monkeypatch):
    home = tmp_path / "dagster"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert not get_has_seen_nux()  # what the UI's shouldShowNux reads: a fresh directory shows the dialog
    mark_onboarding_seen(home)
    assert get_has_seen_nux()


def test_marking_again_keeps_the_marker_the_ui_wrote(tmp_path):
    marker = mark_onboarding_seen(tmp_path)
    marker.write_text("seen: 1\nby: ui\n", encoding="utf8")
    assert mark_onboarding_seen(tmp_path) == marker
    assert marker.read_text(encoding="utf8") == "seen: 1\nby: ui\n"
