"""Organizations: validation, resolution, edit, merge and opt-out rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlite_utils import Database

from mailer.contacts import (
    OrgInput,
    add_org,
    edit_org,
    list_orgs,
    merge_orgs,
    optout,
    remove_contact,
    resolve_org,
    set_contact,
    show_org,
    undo_optout,
)
from mailer.db import open_db
from mailer.errors import Ambiguous, MailerError, NotFound
from mailer.responses import record


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return open_db(tmp_path / "c.db")


def campaign(db: Database) -> int:
    """A bare campaign row (id 1) for answers to point at."""
    db.table("campaign").insert(
        {
            "id": 1,
            "slug": "c",
            "title": "t",
            "kind": "signon",
            "statement_dir": "x",
            "default_language": "en",
            "created_at": "t",
        }
    )
    return 1


def org(db: Database, name: str, **kw: object) -> int:
    return add_org(db, OrgInput.clean(name=name, **kw))


def test_clean_normalises_every_field() -> None:
    data = OrgInput.clean(
        name="  Партија рада ",
        country="Serbia",
        languages=["sr-cyrl", "SR-latn", "en"],
        emails=["Intl@Party.Example.ORG", "intl@party.example.org"],
        tags=["europe", "europe", " "],
    )
    assert data.name == "Партија рада"
    assert data.country == "RS"
    assert data.languages == ["sr-Cyrl", "sr-Latn", "en"]
    assert data.emails == ["intl@party.example.org"]
    assert data.tags == ["europe"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "name is missing"),
        ("name", "A\r\nBcc: x@y.org", "control character"),
        ("country", "Atlantis", "not an ISO 3166"),
        ("languages", ["english"], "not a valid BCP 47"),
        ("emails", ["not-an-address"], "is not valid"),
    ],
)
def test_clean_rejects_bad_fields(field: str, value: object, message: str) -> None:
    raw = {"name": "Party", field: value}
    with pytest.raises(ValueError, match=message):
        OrgInput.clean(**raw)


def test_resolve_by_id_name_short_name_and_email(db: Database) -> None:
    oid = org(db, "Workers' League", short_name="WL", emails=["wl@wl.example.org"])
    for ref in (str(oid), "workers' league", "WL", "WL@wl.example.org"):
        assert resolve_org(db, ref)["id"] == oid
    with pytest.raises(NotFound, match="no organization matches 'nobody'"):
        resolve_org(db, "nobody")
    # Only ASCII digits in SQLite's range are an id; the rest are names that match nothing.
    for ref in ("99999999999999999999999", "\u00b2", "\u0661", f"{oid}\u0663"):
        with pytest.raises(NotFound, match="no organization matches"):
            resolve_org(db, ref)


def test_ambiguous_reference_lists_candidates(db: Database) -> None:
    a = org(db, "Front", country="FR")
    b = org(db, "Front", country="BE")
    with pytest.raises(Ambiguous) as info:
        resolve_org(db, "Front")
    assert f"{a}: Front (FR)" in str(info.value) and f"{b}: Front (BE)" in str(info.value)


def test_an_email_belongs_to_one_organization(db: Database) -> None:
    org(db, "A", emails=["x@a.example.org"])
    with pytest.raises(MailerError, match="already belongs to 'A'"):
        org(db, "B", emails=["X@a.example.org"])


def test_edit_changes_fields_and_logs(db: Database) -> None:
    oid = org(db, "A", languages=["en"], tags=["t1"])
    diff = edit_org(
        db,
        "A",
        changes={"country": "Greece", "languages": ["el", "en"]},
        add_tags=["t2"],
        remove_tags=["t1"],
        add_emails=["a@a.example.org"],
    )
    assert diff["country"] == (None, "GR")
    record_ = show_org(db, str(oid))
    assert record_["tags"] == ["t2"] and record_["languages"] == ["el", "en"]
    assert record_["emails"] == ["a@a.example.org"]
    events = db.execute(
        "SELECT action FROM event WHERE entity_id = ? AND entity = 'organization'", [oid]
    )
    assert [e[0] for e in events] == ["create", "edit"]


def test_edit_with_bad_value_changes_nothing(db: Database) -> None:
    org(db, "A", country="GR")
    with pytest.raises(MailerError, match="not an ISO 3166"):
        edit_org(db, "A", changes={"country": "Nowhere"})
    assert resolve_org(db, "A")["country"] == "GR"


def test_merge_moves_everything_and_keeps_the_other_name_resolvable(db: Database) -> None:
    keep = org(db, "Party of Labour", tags=["a"], emails=["k@p.example.org"])
    other = org(db, "Party of Labor", tags=["b"], emails=["o@p.example.org"])
    campaign(db)
    record(db, 1, other, "signed", source="manual")
    optout(db, "Party of Labor")
    merge_orgs(db, "Party of Labour", "Party of Labor")
    kept = show_org(db, "Party of Labor")
    assert kept["id"] == keep
    assert set(kept["emails"]) == {"k@p.example.org", "o@p.example.org"}
    assert kept["tags"] == ["a", "b"]
    assert kept["do_not_contact"] is True  # an opt-out survives a merge
    assert [r["kind"] for r in kept["responses"]] == ["signed"]
    assert [o["id"] for o in list_orgs(db)] == [keep]


def test_merge_keeps_the_kept_organizations_own_answer(db: Database) -> None:
    keep = org(db, "K")
    other = org(db, "O")
    campaign(db)
    record(db, 1, keep, "declined", source="manual")
    record(db, 1, other, "signed", source="manual")
    merge_orgs(db, "K", "O")
    assert [r["kind"] for r in show_org(db, "K")["responses"]] == ["declined"]
    with pytest.raises(MailerError, match="same organization"):
        merge_orgs(db, "K", str(other))


def test_optout_of_an_address_or_an_organization(db: Database) -> None:
    org(db, "A", emails=["a@a.example.org", "b@a.example.org"])
    optout(db, "a@a.example.org")
    statuses = {a["email"]: a["status"] for a in show_org(db, "A")["addresses"]}
    assert statuses == {"a@a.example.org": "unsubscribed", "b@a.example.org": "active"}
    assert show_org(db, "A")["do_not_contact"] is False
    optout(db, "A")
    assert show_org(db, "A")["do_not_contact"] is True
    undo_optout(db, "A")
    assert show_org(db, "A")["do_not_contact"] is False


def test_unsubscribed_address_cannot_be_removed(db: Database) -> None:
    org(db, "A", emails=["a@a.example.org"])
    optout(db, "a@a.example.org")
    with pytest.raises(MailerError, match="never contacted again"):
        edit_org(db, "A", changes={}, remove_emails=["a@a.example.org"])


def test_list_filters(db: Database) -> None:
    org(db, "A", country="GR", languages=["el"], tags=["europe"])
    org(db, "B", country="AR", languages=["es"], tags=["americas"])
    assert [o["name"] for o in list_orgs(db, tag="europe")] == ["A"]
    assert [o["name"] for o in list_orgs(db, country="Argentina")] == ["B"]
    assert [o["name"] for o in list_orgs(db, lang="EL")] == ["A"]


def test_the_person_at_an_address_is_set_changed_and_removed(db: Database) -> None:
    org(db, "Radnička partija", emails=["ana@rp.example.org", "info@rp.example.org"])
    assert set_contact(db, "Radnička partija", "ANA@rp.example.org", name=" Ana Petrović ") == {
        "email": "ana@rp.example.org",
        "name": "Ana Petrović",
        "role": None,
        "languages": [],
        "gender": None,
    }
    set_contact(db, "ana@rp.example.org", "ana@rp.example.org", role="secretary", gender="f")
    set_contact(db, "Radnička partija", "ana@rp.example.org", languages=["sr-latn", "en"])
    [ana] = show_org(db, "Radnička partija")["contacts"]
    assert (ana["name"], ana["role"], ana["languages"], ana["gender"]) == (
        "Ana Petrović",
        "secretary",
        ["sr-Latn", "en"],
        "f",
    )
    with pytest.raises(NotFound, match="nobody@rp.example.org is not an address of"):
        set_contact(db, "Radnička partija", "nobody@rp.example.org", name="X")
    with pytest.raises(MailerError, match="a contact needs a name"):
        set_contact(db, "Radnička partija", "info@rp.example.org", role="press")
    assert remove_contact(db, "Radnička partija", "ana@rp.example.org") == "Ana Petrović"
    assert show_org(db, "Radnička partija")["contacts"] == []
    actions = db.execute("SELECT action FROM event WHERE entity = 'contact'").fetchall()
    assert actions == [("create",), ("edit",), ("edit",), ("delete",)]


def test_custom_fields_are_edited_and_merged(db: Database) -> None:
    org(db, "A", emails=["a@a.example.org"], fields={"Web site": "https://a.example.org"})
    org(db, "B", emails=["b@b.example.org"], fields={"phone": "+30 1", "web_site": "x"})
    set_contact(db, "B", "b@b.example.org", name="Bo")
    diff = edit_org(db, "A", changes={}, fields={"Twitter": "@a", "web site": ""})
    assert diff == {"fields": ({"web_site": "https://a.example.org"}, {"twitter": "@a"})}
    with pytest.raises(MailerError, match="'country' is a column of its own, not a custom field"):
        edit_org(db, "A", changes={}, fields={"country": "GR"})
    merge_orgs(db, "A", "B")
    merged = show_org(db, "A")
    assert merged["fields"] == {"phone": "+30 1", "web_site": "x", "twitter": "@a"}
    assert [c["name"] for c in merged["contacts"]] == ["Bo"]


def test_removing_an_address_removes_the_person_there(db: Database) -> None:
    org(db, "A", emails=["a@a.example.org", "b@a.example.org"])
    set_contact(db, "A", "b@a.example.org", name="Bo")
    edit_org(db, "A", changes={}, remove_emails=["b@a.example.org"])
    assert show_org(db, "A")["contacts"] == []
