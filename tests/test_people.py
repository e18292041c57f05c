"""People and custom fields: names of columns, cleaning, and the models rendering gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailer.contacts import OrgInput, add_org, set_contact
from mailer.db import open_db
from mailer.models import Contact
from mailer.people import clean_contact, clean_fields, field_name, org_models


@pytest.mark.parametrize(
    "heading, name",
    [
        ("Website", "website"),
        ("Phone (office)", "phone_office"),
        ("  E-mail of the press  ", "e_mail_of_the_press"),
        ("Телефон", "телефон"),
        ("ﬁeld", "field"),  # NFKC: the ligature is two letters
        ("(!)", ""),
    ],
)
def test_a_heading_becomes_a_field_name(heading: str, name: str) -> None:
    assert field_name(heading) == name


def test_clean_fields_and_contacts() -> None:
    assert clean_fields({"Web site": " x ", "empty": " "}) == {"web_site": "x"}
    with pytest.raises(ValueError, match="no name made of letters or digits"):
        clean_fields({"??": "x"})
    with pytest.raises(ValueError, match="control character"):
        clean_fields({"a": "line\nbreak"})
    assert clean_contact(
        {
            "email": "Ana@X.example.org",
            "name": " Ana ",
            "languages": ["SR-latn"],
            "gender": "Female",
        }
    ) == {
        "email": "ana@x.example.org",
        "name": "Ana",
        "role": None,
        "languages": ["sr-Latn"],
        "gender": "f",
    }


def test_models_know_every_column_and_the_person_at_each_address(tmp_path: Path) -> None:
    db = open_db(tmp_path / "c.db")
    a = add_org(db, OrgInput.clean(name="A", emails=["a@a.example.org", "b@a.example.org"]))
    b = add_org(db, OrgInput.clean(name="B", fields={"website": "https://b.example.org"}))
    set_contact(db, "A", "b@a.example.org", name="Bo Li", languages=["el"], gender="m")
    rows = list(db.query("SELECT * FROM organization ORDER BY id"))
    models = org_models(db, rows)
    address = db.execute("SELECT id FROM address WHERE email = 'b@a.example.org'").fetchone()[0]
    assert models[a].fields == {"website": ""} and models[b].fields == {
        "website": "https://b.example.org"
    }
    assert models[a].contacts == {address: Contact("Bo Li", None, ("el",), "m")}
    assert models[a].contacts[address].first_name == "Bo"
