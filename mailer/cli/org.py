"""``mailer org …``: the contact database of organizations."""

from __future__ import annotations

from pathlib import Path

import click

from mailer.cli import AppContext, DefaultCommandGroup, cli, confirm, pass_app
from mailer.files import write_text_file
from mailer.lang import split_list
from mailer.output import moment, print_json, table, warn


def _split(values: tuple[str, ...]) -> list[str]:
    """Repeatable options that also take lists: --lang el,en --lang fr."""
    return [part for value in values for part in split_list(value, ";,")]


def _names(values: tuple[str, ...]) -> dict[str, str]:
    return _pairs(values, "--name-in", "LANG=NAME")


def _pairs(values: tuple[str, ...], option: str, form: str = "NAME=VALUE") -> dict[str, str]:
    """Repeated KEY=VALUE options as a dict."""
    pairs = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected {form}, got {value!r}", param_hint=option)
        pairs[key.strip()] = text.strip()
    return pairs


@cli.group(cls=DefaultCommandGroup, default="list", default_if_no_args=True)
def org() -> None:
    """Organizations and their addresses (`mailer org` alone lists them)."""


@org.command("add")
@click.argument("name")
@click.option("--short", "short_name", help="Short name or acronym, e.g. KKE.")
@click.option("--country", help="ISO 3166 code (GR) or English name (Greece).")
@click.option("--email", "emails", multiple=True, help="An address; repeat for several.")
@click.option("--lang", "langs", multiple=True, help="Preferred languages in order: el,en.")
@click.option("--tag", "tags", multiple=True, help="A tag for choosing audiences; repeatable.")
@click.option("--notes", help="Free text kept with the organization.")
@click.option(
    "--name-in", "names", multiple=True, help="Published name in a language: sr-Cyrl=Назив."
)
@pass_app
def org_add(
    app: AppContext,
    name: str,
    short_name: str | None,
    country: str | None,
    emails: tuple[str, ...],
    langs: tuple[str, ...],
    tags: tuple[str, ...],
    notes: str | None,
    names: tuple[str, ...],
) -> None:
    """Add an organization.

    \b
    Example:
      mailer org add "Workers' Party of Atlantis" --short WPA --country GR \\
          --email intl@wpa.example.org --lang el,en --tag europe
    """
    from mailer.contacts import OrgInput, add_org

    data = OrgInput.parse(
        name=name,
        short_name=short_name,
        country=country,
        emails=list(emails),
        languages=_split(langs),
        tags=list(tags),
        notes=notes,
        names=_names(names),
    )
    org_id = add_org(app.db, data)
    click.echo(f"Added {data.name} (id {org_id}).")


@org.command("list")
@click.option("--tag", help="Only organizations with this tag.")
@click.option("--country", help="Only this country (code or name).")
@click.option("--lang", help="Only organizations that read this language.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list.")
@pass_app
def org_list(
    app: AppContext, tag: str | None, country: str | None, lang: str | None, as_json: bool
) -> None:
    """List organizations."""
    from mailer.contacts import list_orgs

    orgs = list_orgs(app.db, tag=tag, country=country, lang=lang)
    if as_json:
        print_json(orgs)
        return
    table(
        ["id", "name", "short", "country", "languages", "emails", "tags", "opted out"],
        [
            [
                o["id"],
                o["name"],
                o["short_name"],
                o["country"],
                o["languages"],
                o["emails"],
                o["tags"],
                o["do_not_contact"],
            ]
            for o in orgs
        ],
    )
    click.echo(f"{len(orgs)} organization{'s' if len(orgs) != 1 else ''}")


@org.command("show")
@click.argument("ref", metavar="ORG")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_app
def org_show(app: AppContext, ref: str, as_json: bool) -> None:
    """Show one organization: its addresses, people, custom fields, answers and merged names.

    ORG is an id, the exact name, the short name or one of its emails.
    """
    from mailer.contacts import show_org

    record = show_org(app.db, ref)
    if as_json:
        print_json(record)
        return
    click.echo(f"{record['name']} (id {record['id']})")
    for label, key in [
        ("Short name", "short_name"),
        ("Country", "country"),
        ("Languages", "languages"),
        ("Tags", "tags"),
        ("Notes", "notes"),
    ]:
        value = record[key]
        if value:
            click.echo(f"  {label}: {', '.join(value) if isinstance(value, list) else value}")
    for lang, name in record["names"].items():
        click.echo(f"  Name in {lang}: {name}")
    for key, value in record["fields"].items():
        click.echo(f"  {key}: {value}")
    if record["do_not_contact"]:
        click.echo("  DO NOT CONTACT (opted out)")
    if record["merged"]:
        click.echo(f"  Merged from: {', '.join(record['merged'])}")
    table(
        ["email", "status", "soft bounces"],
        [[a["email"], a["status"], a["soft_bounces"]] for a in record["addresses"]],
    )
    if record["contacts"]:
        table(
            ["contact", "role", "email", "languages", "form"],
            [
                [c["name"], c["role"], c["email"], c["languages"], c["gender"]]
                for c in record["contacts"]
            ],
        )
    if record["responses"]:
        table(
            ["campaign", "answer", "source", "at", "withdrawn"],
            [
                [r["campaign"], r["kind"], r["source"], moment(r["at"]), moment(r["withdrawn_at"])]
                for r in record["responses"]
            ],
        )


@org.command("edit")
@click.argument("ref", metavar="ORG")
@click.option("--name", help="New name.")
@click.option("--short", "short_name", help="New short name.")
@click.option("--country", help="New country.")
@click.option("--lang", "langs", multiple=True, help="Replace the languages: el,en.")
@click.option("--notes", help="Replace the notes.")
@click.option("--add-email", multiple=True, help="Add an address.")
@click.option("--remove-email", multiple=True, help="Remove an address never mailed.")
@click.option("--add-tag", multiple=True, help="Add a tag.")
@click.option("--remove-tag", multiple=True, help="Remove a tag.")
@click.option(
    "--name-in", "names", multiple=True, help="Published name in a language: sr-Cyrl=Назив."
)
@click.option(
    "--field",
    "fields",
    multiple=True,
    help="Set a custom field: website=https://…; an empty value (website=) removes it.",
)
@pass_app
def org_edit(
    app: AppContext,
    ref: str,
    name: str | None,
    short_name: str | None,
    country: str | None,
    langs: tuple[str, ...],
    notes: str | None,
    add_email: tuple[str, ...],
    remove_email: tuple[str, ...],
    add_tag: tuple[str, ...],
    remove_tag: tuple[str, ...],
    names: tuple[str, ...],
    fields: tuple[str, ...],
) -> None:
    """Change an organization's fields, addresses or tags."""
    from mailer.contacts import edit_org

    changes = {
        "name": name,
        "short_name": short_name,
        "country": country,
        "languages": _split(langs) or None,
        "notes": notes,
    }
    diff = edit_org(
        app.db,
        ref,
        changes=changes,
        add_tags=add_tag,
        remove_tags=remove_tag,
        add_emails=add_email,
        remove_emails=remove_email,
        names=_names(names),
        fields=_pairs(fields, "--field"),
    )
    if not diff:
        click.echo("Nothing changed.")
    for key, (old, new) in diff.items():
        click.echo(f"{key}: {old!r} → {new!r}" if old != [] else f"{key}: {', '.join(new)}")


@org.command("merge")
@click.argument("keep", metavar="KEEP")
@click.argument("other", metavar="OTHER")
@pass_app
def org_merge(app: AppContext, keep: str, other: str) -> None:
    """Merge OTHER into KEEP (a duplicate entry of the same organization).

    Addresses, messages, replies and answers move to KEEP; OTHER's name keeps
    resolving to KEEP, and the published list counts them once.
    """
    from mailer.contacts import merge_orgs

    result = merge_orgs(app.db, keep, other)
    plural = {"address": "addresses", "reply": "replies"}
    moved = ", ".join(
        f"{n} {t if n == 1 else plural.get(t, t + 's')}" for t, n in result["moved"].items() if n
    )
    click.echo(
        f"Merged {result['merged']} into {result['kept']}"
        + (f" (moved {moved})." if moved else ".")
    )


@org.command("optout")
@click.argument("ref", metavar="ORG|EMAIL")
@click.option("--undo", is_flag=True, help="Allow mail again (asks for confirmation).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation with --undo.")
@pass_app
def org_optout(app: AppContext, ref: str, undo: bool, yes: bool) -> None:
    """Never mail this organization (or this one address) again."""
    from mailer.contacts import optout, undo_optout

    if undo:
        if not yes:
            click.confirm(f"Allow mail to {ref} again, although it opted out?", abort=True)
        click.echo(undo_optout(app.db, ref))
    else:
        click.echo(optout(app.db, ref))


@org.command("contact")
@click.argument("ref", metavar="ORG")
@click.argument("email")
@click.option("--name", help='The person\'s name, e.g. "Ana Petrović".')
@click.option("--role", help='Their role, e.g. "international secretary".')
@click.option("--lang", "langs", multiple=True, help="Their languages in order: sr-Latn,en.")
@click.option(
    "--gender",
    type=click.Choice(["f", "m"]),
    help="The form their salutation takes in languages that have two (Drugarice / Druže).",
)
@click.option("--remove", is_flag=True, help="The person is no longer at this address.")
@pass_app
def org_contact(
    app: AppContext,
    ref: str,
    email: str,
    name: str | None,
    role: str | None,
    langs: tuple[str, ...],
    gender: str | None,
    remove: bool,
) -> None:
    """Say who reads one of an organization's addresses.

    Messages to that address greet the person by name ("Dear comrade Ana
    Petrović,") and come in their language when the statement has it; what is
    not given stays as it was.

    \b
    Example:
      mailer org contact RPSB ana@rpsb.example.org --name "Ana Petrović" \\
          --role "international secretary" --lang sr-Latn --gender f
    """
    from mailer.contacts import remove_contact, set_contact

    if remove:
        click.echo(f"{remove_contact(app.db, ref, email)} is no longer the contact at {email}.")
        return
    contact = set_contact(
        app.db, ref, email, name=name, role=role, languages=_split(langs) or None, gender=gender
    )
    role_text = f", {contact['role']}" if contact["role"] else ""
    click.echo(f"{contact['email']}: {contact['name']}{role_text}.")


@org.command("delete")
@click.argument("ref", metavar="ORG")
@click.option(
    "--erase",
    is_flag=True,
    help="Erase it with everything about it: addresses, messages, answers, replies' "
    "personal data and attachments, its names in the event log.",
)
@click.option("--force", is_flag=True, help="With --erase: also when it signed a campaign.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (for scripts).")
@pass_app
def org_delete(app: AppContext, ref: str, erase: bool, force: bool, yes: bool) -> None:
    """Delete an organization entered by mistake, or erase one that asked to be.

    Without --erase only an organization with no messages, replies, answers
    or opt-outs is deleted. With --erase (the right to erasure) nothing that
    names it is left: its addresses, messages and answers are deleted, its replies keep
    only their class and campaign, their attachments are deleted, and earlier
    entries of the event log show "[erased]" in place of its names and
    addresses. One anonymous entry records the erasure. An organization that
    signed a campaign is in a published list: erasing it needs --force.

    \b
    Examples:
      mailer org delete "Test Org"
      mailer org delete intl@wpa.example.org --erase --yes
    """
    from mailer.erasure import deletable, delete_org, erase_org

    record = deletable(app.db, ref, erase=erase, force=force)
    name = f"{record.org['name']} (id {record.org['id']})"
    if not erase:
        confirm(f"Delete {name}?", yes=yes)
        delete_org(app.db, ref)
        click.echo(f"Deleted {name}.")
        return
    kept = ", ".join([f"{len(record.emails)} addresses", *record.history])
    confirm(f"Erase {name} and everything about it ({kept})? This cannot be undone.", yes=yes)
    counts = erase_org(app.db, ref, force=force)
    failed = counts.pop("attachments not removed")
    done = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
    click.echo(f"Erased {name}: {done}.")
    if failed:
        warn(f"{failed} attachment file(s) could not be removed; delete them by hand.")


@org.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change and write nothing.")
@click.option("--skip-invalid", is_flag=True, help="Import the valid rows and list the others.")
@pass_app
def org_import(app: AppContext, file: Path, dry_run: bool, skip_invalid: bool) -> None:
    """Import organizations from a CSV, TSV or vCard file.

    \b
    Columns (header row, any order, any case): name (required), short_name,
    country, languages, email or emails (several separated by ;), tags (;),
    notes; contact_name, contact_role, contact_languages, contact_gender (f or
    m) for the person at the row's first email. Any other column is kept as a
    custom field ({{ org.fields.website }} in statements). Every row is checked
    before anything is written; one bad row rejects the file unless
    --skip-invalid.
    """
    from mailer.importing import import_orgs

    result = import_orgs(app.db, file, dry_run=dry_run, skip_invalid=skip_invalid)
    if dry_run:
        for change in result.changes:
            fields = ", ".join(sorted(change.fields))
            click.echo(f"line {change.line}: would {change.action} {change.name} ({fields})")
    for problem in result.skipped:
        click.echo(f"skipped {problem}", err=True)
    if result.custom_columns:
        click.echo(
            f"Columns kept as custom fields: {', '.join(result.custom_columns)}"
            f" (`mailer org show` shows them; {{{{ org.fields.{result.custom_columns[0]} }}}}"
            " in a statement)."
        )
    skipped = f", {len(result.skipped)} invalid rows skipped" if result.skipped else ""
    done = "dry run: nothing written" if dry_run else "saved"
    click.echo(
        f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged"
        f"{skipped} ({done})."
    )


@org.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
@pass_app
def org_export(app: AppContext, fmt: str, output: Path | None) -> None:
    """Export every organization (CSV re-imports to the same database)."""
    from mailer.importing import export_orgs

    text = export_orgs(app.db, fmt)
    if output:
        write_text_file(output, text, "the export")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)
