"""Settings: environment over config.toml over defaults, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from nightshift.core.errors import SettingsError
from nightshift.core.settings import Settings, load_settings, section


@pytest.fixture
def nightshift_home(tmp_path: Path) -> Path:
    path = tmp_path / "ns-home"
    path.mkdir()
    return path


def _config(home: Path, text: str) -> Path:
    path = home / "config.toml"
    path.write_text(text)
    return path


def _env(home: Path, **values: str) -> dict[str, str]:
    return {"NIGHTSHIFT_HOME": str(home), **values}


def test_defaults(nightshift_home: Path) -> None:
    settings = load_settings(_env(nightshift_home))

    assert settings.home == nightshift_home.resolve()
    assert settings.db_path == nightshift_home.resolve() / "nightshift.db"
    assert settings.agent == "claude"
    assert settings.max_workers == 3
    assert settings.poll_interval == 1.0
    assert settings.auto_executor is True


def test_home_defaults_to_dot_nightshift_in_the_users_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))

    settings = load_settings({})

    assert settings.home == tmp_path.resolve() / ".nightshift"


def test_an_empty_home_variable_means_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))

    settings = load_settings({"NIGHTSHIFT_HOME": ""})

    assert settings.home == tmp_path.resolve() / ".nightshift"


def test_config_file_overrides_defaults(nightshift_home: Path) -> None:
    _config(
        nightshift_home,
        'agent = "codex"\nmax_workers = 5\npoll_interval = 0.25\n'
        "auto_executor = false\n",
    )

    settings = load_settings(_env(nightshift_home))

    assert (settings.agent, settings.max_workers) == ("codex", 5)
    assert (settings.poll_interval, settings.auto_executor) == (0.25, False)


def test_environment_overrides_config_file(nightshift_home: Path) -> None:
    _config(nightshift_home, 'agent = "codex"\nmax_workers = 5\n')

    settings = load_settings(
        _env(
            nightshift_home,
            NIGHTSHIFT_AGENT="gemini",
            NIGHTSHIFT_MAX_WORKERS="7",
            NIGHTSHIFT_POLL_INTERVAL="2.5",
            NIGHTSHIFT_AUTO_EXECUTOR="no",
        )
    )

    assert (settings.agent, settings.max_workers) == ("gemini", 7)
    assert (settings.poll_interval, settings.auto_executor) == (2.5, False)


def test_an_empty_variable_falls_back_to_the_config_file(
    nightshift_home: Path,
) -> None:
    _config(nightshift_home, "max_workers = 5\n")

    settings = load_settings(_env(nightshift_home, NIGHTSHIFT_MAX_WORKERS=""))

    assert settings.max_workers == 5


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(v, True) for v in ("1", "true", "YES", " on ")]
    + [(v, False) for v in ("0", "false", "No", "off")],
)
def test_boolean_spellings(nightshift_home: Path, raw: str, expected: bool) -> None:
    settings = load_settings(_env(nightshift_home, NIGHTSHIFT_AUTO_EXECUTOR=raw))

    assert settings.auto_executor is expected


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("NIGHTSHIFT_MAX_WORKERS", "many"),
        ("NIGHTSHIFT_MAX_WORKERS", "0"),
        ("NIGHTSHIFT_MAX_WORKERS", "-2"),
        ("NIGHTSHIFT_MAX_WORKERS", "2.5"),
        ("NIGHTSHIFT_POLL_INTERVAL", "soon"),
        ("NIGHTSHIFT_POLL_INTERVAL", "0"),
        ("NIGHTSHIFT_POLL_INTERVAL", "-1"),
        ("NIGHTSHIFT_POLL_INTERVAL", "nan"),
        ("NIGHTSHIFT_POLL_INTERVAL", "inf"),
        ("NIGHTSHIFT_AUTO_EXECUTOR", "maybe"),
        ("NIGHTSHIFT_AGENT", "gpt"),
        ("NIGHTSHIFT_PLANNER_TIMEOUT", "forever"),
    ],
)
def test_invalid_environment_value_names_the_variable(
    nightshift_home: Path, name: str, raw: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(_env(nightshift_home, **{name: raw}))

    assert name in caught.value.message
    assert repr(raw) in caught.value.message


def test_invalid_toml_names_the_file(nightshift_home: Path) -> None:
    path = _config(nightshift_home, "max_workers = \n")

    with pytest.raises(SettingsError) as caught:
        load_settings(_env(nightshift_home))

    assert str(path) in caught.value.message
    assert "invalid" in caught.value.message


def test_unknown_key_names_the_key_and_file(nightshift_home: Path) -> None:
    path = _config(nightshift_home, 'colour = "red"\n')

    with pytest.raises(SettingsError) as caught:
        load_settings(_env(nightshift_home))

    assert "'colour'" in caught.value.message
    assert str(path) in caught.value.message


@pytest.mark.parametrize(
    ("line", "setting"),
    [
        ('max_workers = "three"', "max_workers"),
        ("max_workers = true", "max_workers"),
        ("max_workers = 0", "max_workers"),
        ('auto_executor = "perhaps"', "auto_executor"),
        ("poll_interval = -0.5", "poll_interval"),
        ("agent = 3", "agent"),
    ],
)
def test_bad_value_in_config_names_the_setting_and_file(
    nightshift_home: Path, line: str, setting: str
) -> None:
    path = _config(nightshift_home, line + "\n")

    with pytest.raises(SettingsError) as caught:
        load_settings(_env(nightshift_home))

    assert f"{setting} in {path}" in caught.value.message


def test_an_environment_value_hides_a_bad_config_value(nightshift_home: Path) -> None:
    _config(nightshift_home, 'max_workers = "three"\n')

    settings = load_settings(_env(nightshift_home, NIGHTSHIFT_MAX_WORKERS="4"))

    assert settings.max_workers == 4


def test_sections_are_left_to_their_readers(nightshift_home: Path) -> None:
    _config(
        nightshift_home,
        'max_workers = 2\n[slack]\nbot_token = "xoxb-1"\n[notify]\ndesktop = true\n',
    )

    settings = load_settings(_env(nightshift_home))

    assert settings.max_workers == 2
    assert section(settings, "slack") == {"bot_token": "xoxb-1"}
    assert section(settings, "notify") == {"desktop": True}
    assert section(settings, "webhook") == {}


def test_settings_paths_live_under_home(nightshift_home: Path) -> None:
    settings = Settings(home=nightshift_home)

    assert settings.config_path == nightshift_home / "config.toml"
    assert settings.task_dir("task_0a1b2c3d") == (
        nightshift_home / "tasks" / "task_0a1b2c3d"
    )
