"""Configuration: discovery upwards, precedence, validation messages, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailer.config import load_settings, parse_rate, redact, secret
from mailer.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file(tmp_path: Path) -> None:
    s = load_settings(cwd=tmp_path, env={})
    assert s.file is None
    assert s["smtp.url"] == ""
    assert s["smtp.concurrency"] == 4
    assert s.path("db.path") == tmp_path / "contacts.db"


def test_file_found_in_a_parent_and_paths_relative_to_it(tmp_path: Path) -> None:
    write(tmp_path / "mailer.toml", '[db]\npath = "data/x.db"\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    s = load_settings(cwd=deep, env={})
    assert s.file == tmp_path / "mailer.toml"
    assert s.path("db.path") == tmp_path / "data" / "x.db"
    assert s.path("outbox.path") == tmp_path / "outbox"  # defaults too: the project's folder
    # Typed in the environment or an option: from where the command runs, like --db.
    typed = load_settings(cwd=deep, env={"MAILER_DB": "here.db"}, overrides={"outbox.path": "o"})
    assert typed.path("db.path") == deep / "here.db"
    assert typed.path("outbox.path") == deep / "o"


def test_precedence_option_over_env_over_file(tmp_path: Path) -> None:
    write(tmp_path / "mailer.toml", '[smtp]\nrate = "10/min"\nconcurrency = 2\n')
    s = load_settings(cwd=tmp_path, env={"MAILER_SMTP_RATE": "20/min"})
    assert s["smtp.rate"] == "20/min" and s.sources["smtp.rate"] == "MAILER_SMTP_RATE"
    assert s["smtp.concurrency"] == 2
    s = load_settings(
        cwd=tmp_path, env={"MAILER_SMTP_RATE": "20/min"}, overrides={"smtp.rate": "5/s"}
    )
    assert s["smtp.rate"] == "5/s" and s.sources["smtp.rate"] == "option"


def test_mailer_db_alias(tmp_path: Path) -> None:
    s = load_settings(cwd=tmp_path, env={"MAILER_DB": "/tmp/other.db"})
    assert s.path("db.path") == Path("/tmp/other.db")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[smtp]\nrate = "30"\n', "[smtp] rate"),
        ("[smtp]\nconcurrency = 0\n", "[smtp] concurrency"),
        ('[smtp]\nurl = "http://x"\n', "[smtp] url"),
        ("[smtp]\nfoo = 1\n", "unknown key [smtp] foo"),
        ("[db]\n[smtp\n", "mailer.toml:2: not valid TOML: Expected ']'"),
        ('smtp = "x"\n', "must be a [section]"),
        ("[sender]\nreply_token = 3\n", "[sender] reply_token"),
        ('[inbox]\nauthserv_id = "mx.party.example.org; dkim=pass"\n', "[inbox] authserv_id"),
        ('[inbox]\nauthserv_id = "mx one"\n', "[inbox] authserv_id"),
    ],
)
def test_bad_values_name_the_key_and_the_file(tmp_path: Path, text: str, expected: str) -> None:
    write(tmp_path / "mailer.toml", text)
    with pytest.raises(ConfigError) as info:
        load_settings(cwd=tmp_path, env={})
    assert expected in str(info.value)
    assert str(tmp_path / "mailer.toml") in str(info.value)


def test_bad_env_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="MAILER_SMTP_CONCURRENCY"):
        load_settings(cwd=tmp_path, env={"MAILER_SMTP_CONCURRENCY": "many"})


def test_a_misspelt_variable_is_an_error_and_another_programs_is_left_alone(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError, match="MAILER_SMTP_UR .*did you mean MAILER_SMTP_URL"):
        load_settings(cwd=tmp_path, env={"MAILER_SMTP_UR": "smtp://127.0.0.1"})
    assert load_settings(cwd=tmp_path, env={"MAILER_DSN": "smtp://x"}).values["smtp.url"] == ""


def test_parse_rate() -> None:
    assert parse_rate("30/min") == (30, 60.0)
    assert parse_rate("2/s") == (2, 1.0)
    assert parse_rate("1000 / hour") == (1000, 3600.0)
    assert parse_rate("unlimited") is None
    for bad in ("30", "x/min", "0/min", "5/fortnight"):
        with pytest.raises(ValueError):
            parse_rate(bad)


def test_secret_from_env_never_prompts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILER_SMTP_PASSWORD", "s3cret")
    assert secret("smtp", service="h", user="u", prompt=None) == "s3cret"


def test_missing_secret_without_terminal_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MAILER_SMTP_PASSWORD", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    with pytest.raises(ConfigError, match="MAILER_SMTP_PASSWORD"):
        secret("smtp", service="mail.example.org", user="u", prompt=None)


def test_redact_hides_passwords() -> None:
    assert redact("smtps://user:pw@mail.example.org:465") == "smtps://user:***@mail.example.org:465"
    assert redact("smtps://user@mail.example.org") == "smtps://user@mail.example.org"


def test_init_writes_a_config_that_loads_with_every_key(initialized: Path) -> None:
    from mailer.config import KEYS, read_config_file

    written = read_config_file(initialized / "mailer.toml")
    for key in KEYS.values():  # set to its default, or shown commented out when empty
        if key.name in written:
            assert written[key.name] == key.default, key.name
        else:
            assert (
                key.default in ("", 0)
                and f"# {key.name.split('.')[1]} = " in (initialized / "mailer.toml").read_text()
            )
    settings = load_settings(cwd=initialized, env={})
    assert settings.file == initialized / "mailer.toml"
    assert dict(settings.values) == {k: key.default for k, key in KEYS.items()}


@pytest.mark.parametrize("value", ["yesterday", "0001-01-01", "9999-12-31T23:59:59"])
def test_a_bad_mailer_now_is_refused_when_settings_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("MAILER_NOW", value)
    with pytest.raises(ConfigError, match=f"MAILER_NOW: .* got '{value}'"):
        load_settings(cwd=tmp_path, env={})


@pytest.mark.parametrize("value", ['"many"', "-1", "2.5", "true"])
def test_daily_cap_must_be_a_whole_number_of_zero_or_more(tmp_path: Path, value: str) -> None:
    write(tmp_path / "mailer.toml", f"[smtp]\ndaily_cap = {value}\n")
    with pytest.raises(ConfigError, match=r"\[smtp\] daily_cap: expected a whole number"):
        load_settings(cwd=tmp_path, env={})


def test_a_duration_that_is_not_a_number_says_so(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"MAILER_SMTP_TIMEOUT: \[smtp\] timeout: expected a number"
    ):
        load_settings(cwd=tmp_path, env={"MAILER_SMTP_TIMEOUT": "soon"})


@pytest.mark.parametrize(
    ("key", "value", "unit"),
    [
        ("defer_days", "inf", "days from 0 to 36500"),
        ("defer_days", "1e300", "days from 0 to 36500"),
        ("defer_days", "nan", "days from 0 to 36500"),
        ("data_timeout", "1e9", "seconds from 0 to 86400"),
        ("retry_for", "-1", "seconds from 0 to 86400"),
    ],
)
def test_durations_are_bounded(tmp_path: Path, key: str, value: str, unit: str) -> None:
    write(tmp_path / "mailer.toml", f"[smtp]\n{key} = {value}\n")
    with pytest.raises(ConfigError, match=rf"\[smtp\] {key}: expected a number of {unit}"):
        load_settings(cwd=tmp_path, env={})


@pytest.mark.parametrize("port", ["abc", "99999", "0", "-1"])
@pytest.mark.parametrize(
    ("variable", "url"),
    [
        ("MAILER_SMTP_URL", "smtps://h.example.org:{}"),
        ("MAILER_IMAP_URL", "imaps://u@h.example.org:{}/INBOX"),
        ("MAILER_SENDER_UNSUBSCRIBE_URL", "https://h.example.org:{}/u/{{token}}"),
    ],
)
def test_a_bad_port_in_any_url_is_refused_on_loading(
    tmp_path: Path, variable: str, url: str, port: str
) -> None:
    with pytest.raises(ConfigError, match=f"{variable}: .*port must be a number from 1 to 65535"):
        load_settings(cwd=tmp_path, env={variable: url.format(port)})


@pytest.mark.parametrize("url", ["smtp://[::1", "smtp://[zz]:25", "smtp://"])
def test_a_broken_smtp_url_is_refused_on_loading_without_its_password(
    tmp_path: Path, url: str
) -> None:
    secret_url = url.replace("//", "//me:hunter2@") if url != "smtp://" else url
    with pytest.raises(ConfigError, match=r"MAILER_SMTP_URL: \[smtp\] url: ") as error:
        load_settings(cwd=tmp_path, env={"MAILER_SMTP_URL": secret_url})
    assert "hunter2" not in str(error.value)


# ---------------------------------------------------------------- [names] countries


def test_country_names_from_the_file_and_the_environment(tmp_path: Path) -> None:
    write(
        tmp_path / "mailer.toml",
        '[names]\ncountries = {ps = "Palestine", XK = {en = "Kosovo", sr-latn = "Kosovo i Metohija",'
        ' "*" = "Kosova"}}\n',
    )
    s = load_settings(cwd=tmp_path, env={})
    assert s["names.countries"] == {
        "PS": {"*": "Palestine"},
        "XK": {"en": "Kosovo", "sr-Latn": "Kosovo i Metohija", "*": "Kosova"},
    }
    env = {"MAILER_NAMES_COUNTRIES": "PS=Palestine; XK:sr-Latn=Kosovo i Metohija;"}
    assert load_settings(cwd=tmp_path, env=env)["names.countries"] == {
        "PS": {"*": "Palestine"},
        "XK": {"sr-Latn": "Kosovo i Metohija"},
    }


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ('{PX = "Palestine"}', "'PX' is not an ISO 3166 country code such as PS or XK"),
        ('{PS = ""}', "the name for PS must be text that is not empty"),
        ("{PS = 3}", "the name for PS must be text that is not empty"),
        ('{PS = {xx-bad = "Palestina"}}', "PS: language 'xx-bad' is not a valid BCP 47 tag"),
        ('{PS = {es = "  "}}', "the name for PS in es must be text that is not empty"),
        ('{PS = "Pales\\u0000tine"}', "the name for PS contains a control character"),
        ('"Palestine"', "'Palestine' is not CODE=Name or CODE:language=Name"),
        ("[1, 2]", 'expected a table such as {PS = "Palestine"}, got [1, 2]'),
    ],
)
def test_a_bad_country_name_is_one_error_naming_the_key_and_the_entry(
    tmp_path: Path, value: str, error: str
) -> None:
    config = write(tmp_path / "mailer.toml", f"[names]\ncountries = {value}\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cwd=tmp_path, env={})
    assert str(e.value).startswith(f"{config}: [names] countries: {error}")
    assert "\n" not in str(e.value)


def test_a_bad_country_name_in_the_environment_names_the_variable_and_the_entry(
    tmp_path: Path,
) -> None:
    env = {"MAILER_NAMES_COUNTRIES": "PS=Palestine;Kosovo"}
    with pytest.raises(ConfigError) as e:
        load_settings(cwd=tmp_path, env=env)
    assert str(e.value) == (
        "environment variable MAILER_NAMES_COUNTRIES: [names] countries: 'Kosovo' is not "
        "CODE=Name or CODE:language=Name, got 'PS=Palestine;Kosovo'"
    )


def test_init_force_keeps_a_table_of_country_names(tmp_path: Path) -> None:
    from mailer.config import read_config_file
    from mailer.setup import config_text

    values = {"names.countries": {"PS": "Palestine", "XK": {"sr-Latn": "Kosovo", "*": "Kosova"}}}
    text = config_text(values)
    assert '\ncountries = {PS = "Palestine", XK = {sr-Latn = "Kosovo", "*" = "Kosova"}}\n' in text
    assert (
        read_config_file(write(tmp_path / "mailer.toml", text))["names.countries"]
        == values["names.countries"]
    )


def test_a_mailer_toml_not_in_utf8_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "mailer.toml").write_bytes(b'[sender]\nname = "Comit\xe9"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(cwd=tmp_path, env={})
    assert (
        str(info.value) == f"{tmp_path / 'mailer.toml'}:2: not UTF-8 text; save the file as UTF-8"
    )
