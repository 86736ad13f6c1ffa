"""Patient ids become keyed hashes: stable for one key, different for another, the key kept out of sight."""

import stat

import pytest

from medrobotics_dagster.resources.pseudonymizer import KEY_SETTING, LOCAL_KEY_FILE, Pseudonymizer
from medrobotics_dagster.settings import ConfigError

KEY = "a-test-key-that-is-long-enough-0123456789"


def test_pseudonyms_are_stable_keyed_and_not_the_id():
    first, again, other = Pseudonymizer(key=KEY), Pseudonymizer(key=KEY), Pseudonymizer(key=KEY[::-1])
    value = first.pseudonym("PAT-000123")
    assert value == again.pseudonym("PAT-000123") and value.startswith("pt_") and len(value) == 67
    assert "PAT-000123" not in value and "000123" not in value
    assert value != other.pseudonym("PAT-000123")
    assert first.pseudonym("PAT-000124") != value
    assert first.pseudonyms(["PAT-000123", None]) == [value, None]


def test_a_short_key_is_refused_with_the_setting_named():
    with pytest.raises(ConfigError, match=KEY_SETTING):
        Pseudonymizer(key="short").pseudonym("PAT-1")


def test_prod_without_a_key_is_refused(monkeypatch):
    monkeypatch.setenv("MEDROBOTICS_ENV", "prod")
    monkeypatch.delenv(KEY_SETTING, raising=False)
    with pytest.raises(ConfigError, match=KEY_SETTING):
        Pseudonymizer().pseudonym("PAT-1")


def test_local_mode_generates_one_private_key_under_the_state_directory(medrobotics_home, monkeypatch):
    monkeypatch.delenv(KEY_SETTING, raising=False)
    value = Pseudonymizer().pseudonym("PAT-1")
    key_file = medrobotics_home / LOCAL_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert Pseudonymizer().pseudonym("PAT-1") == value  # the same key next time
    assert key_file.read_text().strip() not in value


def test_the_environment_key_wins_over_the_local_file(medrobotics_home, monkeypatch):
    monkeypatch.setenv(KEY_SETTING, KEY)
    assert Pseudonymizer().pseudonym("PAT-1") == Pseudonymizer(key=KEY).pseudonym("PAT-1")
    assert not (medrobotics_home / LOCAL_KEY_FILE).exists()
