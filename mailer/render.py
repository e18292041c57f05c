"""Statements into e-mails: the exact bytes each recipient gets.

Compiled once per language, filled in per recipient. The layout is rendered once
per language with the recipient's parts (statement body, frame strings, ``org.*``)
held back as opaque placeholders; Markdown and CSS inlining run once on that
frame; the placeholders then become Jinja tags again and the result is compiled.
Per recipient only the compiled templates run, and :mod:`mailer.mime` turns the
result into bytes. The public statement (no recipient at all) is made here too.
The template engine is :mod:`mailer.templates`; the text part, :mod:`mailer.textpart`.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from mailer.addresses import ascii_address
from mailer.clock import now
from mailer.config import Settings
from mailer.errors import ConfigError, MailerError, TemplateError
from mailer.lang import (
    country_name,
    format_date,
    is_rtl,
    name_in,
    negotiate,
    own_name,
)
from mailer.mime import (
    MESSAGE_ID,
    address_header,
    attachment_part,
    body_part,
    date_line,
    header_line,
    multipart_message,
)
from mailer.models import Contact, Org, PublishedList, Recipient
from mailer.statements import LanguageText, Statement, load_statement, read_text
from mailer.templates import (
    HTML_ENV,
    TEXT_ENV,
    Layout,
    compile_template,
    render_template,
    template_error,
)
from mailer.textpart import markdown_parser, markdown_to_text
from mailer.tokens import SIGN, TOKEN, plus_address, reply_address, unsubscribe_address

JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
# Recipient-level names: held back while the layout is rendered once per language.
DEFERRED = (
    "org",
    "recipient",
    "unsubscribe",
    "reply_to",
    "sign",
    "contact",
    "salutation",
    "signed",
)
# {{ signatories }} alone in a paragraph is a block (a heading and a list), not text.
_BLOCK_VALUE = re.compile(r"\{\{-?\s*signatories\s*-?\}\}")
_BLANK_LINES = re.compile(r"\n{3,}")
NEEDS_LIST = 'needs list_from = "CAMPAIGN" in statement.toml: the campaign whose list it is'

# The strings that greet: the contact's when the address has one, else the organization's.
SALUTATIONS = ("salutation_contact", "salutation")
# Stands in for an unset [sender] address where nothing is sent (check, preview).
PLACEHOLDER_SENDER = "sender@example.invalid"
TEST_PREFIX = "[TEST] "  # before the subject of a test copy (send --test)


class _Placeholders:
    """Opaque ASCII tokens standing in for Jinja tags while Markdown and CSS run."""

    def __init__(self) -> None:
        self.tags: list[str] = []
        self.prefix = f"jx{secrets.token_hex(4)}n"
        self.pattern = re.compile(rf"{self.prefix}(\d+)x")

    def token(self, tag: str) -> str:
        self.tags.append(tag)
        return f"{self.prefix}{len(self.tags) - 1}x"

    def protect(self, text: str) -> str:
        return JINJA_TAG.sub(lambda m: self.token(m.group()), text)

    def restore(self, text: str) -> str:
        return self.pattern.sub(lambda m: self.tags[int(m.group(1))], text)

    def unwrap_block_tags(self, html: str) -> str:
        """``<p>{% if … %}</p>`` → ``{% if … %}``: a tag alone in a paragraph is not text."""

        def unwrap(m: re.Match[str]) -> str:
            tag = self.tags[int(m.group(2))]
            return m.group(1) if tag.startswith("{%") or _BLOCK_VALUE.fullmatch(tag) else m.group()

        return re.sub(rf"<p>({self.prefix}(\d+)x)</p>", unwrap, html)


class _Deferred:
    """A recipient-level name while the layout renders once: prints as its own tag."""

    def __init__(self, path: str, marks: _Placeholders) -> None:
        self._path, self._marks = path, marks

    def __getattr__(self, name: str) -> _Deferred:
        if name.startswith("_"):
            raise AttributeError(name)
        return _Deferred(f"{self._path}.{name}", self._marks)

    def __str__(self) -> str:
        return self._marks.token("{{ " + self._path + " }}")

    def __html__(self) -> str:
        return str(self)

    # The public statement runs with no recipient: a test of one is never true,
    # and a loop over one never runs, so what depends on a recipient is left out.
    def __eq__(self, other: object) -> bool:
        return False

    __hash__ = object.__hash__
    __lt__ = __le__ = __gt__ = __ge__ = __eq__

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __bool__(self) -> bool:
        return False


class _Printed(str):
    """Text that an HTML template prints as its own HTML: the list of signatories,
    which `mailer signatories` prints one way as text and another as HTML."""

    html: str

    def __new__(cls, text: str, html: str) -> _Printed:
        made = super().__new__(cls, text)
        made.html = html
        return made

    def __html__(self) -> str:
        return self.html


class _Frame:
    """One language's frame (the layout around the statement), rendered per recipient.

    When the recipient's values are only printed as they are (``{{ org.name }}``:
    not tested, filtered or assigned), the frame is rendered once with a slot in
    each of their places, and a message is that text with the values put in: a
    join instead of a template run, the cost that counts when sending thousands.
    Anything else, and any value that is not plain text or a number, runs the
    template, so the result is always what the template alone would give.
    """

    def __init__(
        self, env: SandboxedEnvironment, source: str, where: str, base: dict[str, Any]
    ) -> None:
        self.template = compile_template(env, source, where)
        self.where = where
        self.escape = env.autoescape is True
        self.parts: list[str] | None = None  # text between the slots
        self.paths: list[tuple[str, ...]] = []  # ("org", "name") for each slot
        if _prints_values_only(env.parse(source)):
            self._cut(base)

    def _cut(self, base: dict[str, Any]) -> None:
        marks = _Placeholders()
        try:
            text = self.template.render({**base, **{n: _Deferred(n, marks) for n in DEFERRED}})
        except Exception:  # noqa: BLE001 - the template's own run will report it, with its line
            return
        pieces = marks.pattern.split(text)  # text, slot number, text, slot number, …, text
        self.parts = pieces[0::2]
        tags = [marks.tags[int(i)] for i in pieces[1::2]]  # as _Deferred made them
        self.paths = [tuple(tag.removeprefix("{{ ").removesuffix(" }}").split(".")) for tag in tags]

    def render(self, context: Mapping[str, Any]) -> str:
        if self.parts is None:
            return self.template.render(context)
        values = [_printable(context, path) for path in self.paths]
        if None in values:
            return self.template.render(context)
        out = [self.parts[0]]
        for value, part in zip(values, self.parts[1:], strict=True):
            out += (escape(value) if self.escape else value, part)  # type: ignore[arg-type]
        return "".join(out)


def _prints_values_only(tree: nodes.Template) -> bool:
    """Whether every use of a recipient name is a plain ``{{ name.attr… }}`` output."""
    printed = set()
    for output in tree.find_all(nodes.Output):
        for child in output.nodes:
            while isinstance(child, nodes.Getattr):
                child = child.node
            if isinstance(child, nodes.Name):
                printed.add(id(child))
    return all(id(n) in printed for n in tree.find_all(nodes.Name) if n.name in DEFERRED)


def _printable(context: Mapping[str, Any], path: tuple[str, ...]) -> str | None:
    """The value at ``path`` as the template prints it; None when only Jinja can say."""
    value: Any = context
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return str(value) if type(value) is int else None


# --- The factory ----------------------------------------------------------------------------


@dataclass
class _Plan:
    """Everything recipient-independent for one language of one wave."""

    text: LanguageText
    subject_source: str
    subject_line: str | None  # pre-encoded when the subject has no template tags
    subject: jinja2.Template
    html: _Frame
    plain: _Frame
    strings: dict[str, str]
    strings_file: str
    base: dict[str, Any]
    content_language: str
    sign_query: str  # "?subject=…&body=…" of the sign-by-e-mail link, in this language
    salutations: dict[str, _Frame]  # SALUTATIONS' strings, filled in as frames are
    attachments: tuple[bytes, ...]  # MIME parts, encoded once


class MessageFactory:
    """Builds each recipient's message from templates compiled once per language."""

    def __init__(
        self,
        settings: Settings,
        campaign: Mapping[str, Any],
        statement: Statement,
        layout: Layout,
        *,
        wave: int = 0,
        published: PublishedList | None = None,
    ) -> None:
        self.campaign, self.statement, self.layout, self.wave = campaign, statement, layout, wave
        self.published = published
        self._address = settings["sender.address"]
        self._name = settings["sender.name"] or ""
        self._reply_token = bool(settings["sender.reply_token"])
        self._unsubscribe_url = settings["sender.unsubscribe_url"]
        self._from_line: str | None = None
        if self._address:
            try:
                self._from_line = address_header("From", self._name, self._address)
            except ValueError as e:
                raise ConfigError(f"[sender] address: {e}") from None
        self._deadline = campaign_deadline(campaign, statement)
        self._layouts = {
            env: compile_template(env, read_text(path), str(path))
            for env, path in ((HTML_ENV, layout.html), (TEXT_ENV, layout.text))
        }
        self._plans: dict[str, _Plan] = {}  # compiled on first use
        self._files: dict[tuple[str, Path], bytes] = {}  # attachment parts, shared by languages
        self._choices: dict[tuple[str, ...], str] = {}

    @property
    def sender(self) -> str:
        """The envelope sender (MAIL FROM): ``[sender] address``."""
        if not self._address:
            raise ConfigError(
                "no sender address: [sender] address is not set",
                hint='Add `[sender]` `address = "intl@your-party.example.org"` to mailer.toml'
                " or set MAILER_SENDER_ADDRESS.",
            )
        return self._address

    @property
    def languages(self) -> list[str]:
        return list(self.statement.available)

    def language_for(self, who: Org | Recipient) -> str:
        """The first of the languages of the person at the address (for a recipient
        with a contact), then of the organization, that the statement has; else its
        default."""
        org, contact = (who.org, who.contact) if isinstance(who, Recipient) else (who, None)
        wanted = (*contact.languages, *org.languages) if contact else org.languages
        choice = self._choices.get(wanted)
        if choice is None:
            choice = negotiate(wanted, self.statement.available, self.statement.default_language)
            self._choices[wanted] = choice
        return choice

    def plan_source(self, lang: str) -> LanguageText:
        """The statement text used for ``lang`` (reminder variant or statement)."""
        return self._plan(lang).text

    def _plan(self, lang: str) -> _Plan:
        plan = self._plans.get(lang)
        if plan is None:
            if lang not in self.statement.available:
                raise TemplateError(
                    f"{self.statement.folder}: the statement has no text in {lang!r}"
                    f" (it has {', '.join(self.statement.available)})"
                )
            plan = self._plans[lang] = self._compile(lang)
        return plan

    # Compile once per language.

    def _compile(self, lang: str) -> _Plan:
        first = self.statement.text(lang)
        reminder = self.wave >= 1 and self.statement.text(lang, reminder=True)
        text = reminder or first
        assert first is not None and text is not None  # lang comes from statement.available
        frame = self.layout.strings(lang)
        strings, strings_lang = frame.values, frame.lang
        # A reminder answers the first message: its subject, after the reminder prefix,
        # keeps it in the same thread (a reminder file's own subject is not used).
        subject_source = first.subject
        if self.wave >= 1:
            subject_source = strings.get("reminder_prefix", "Reminder: ") + subject_source
        compile_template(TEXT_ENV, text.padded_body, str(text.path))
        subject = compile_template(TEXT_ENV, subject_source, f"{first.path} (subject)")
        base = self._base_context(lang)
        html = self._frame(HTML_ENV, self.layout.html, text, strings, base, subject_source)
        plain = self._frame(TEXT_ENV, self.layout.text, text, strings, base, subject_source)
        return _Plan(
            text=text,
            subject_source=subject_source,
            subject_line=_fixed_subject(subject, base),
            subject=subject,
            html=html,
            plain=plain,
            strings=strings,
            strings_file=strings_lang,
            base=base,
            content_language=header_line("Content-Language", lang),
            sign_query=self._sign_query(strings, strings_lang, base),
            salutations={
                key: _Frame(TEXT_ENV, strings[key], f"strings/{strings_lang}.toml [{key}]", base)
                for key in SALUTATIONS
            },
            attachments=self._attachments(lang),
        )

    def _sign_query(self, strings: dict[str, str], strings_lang: str, base: dict[str, Any]) -> str:
        """The prefilled subject and body of the sign-by-e-mail link (RFC 6068), the same
        for every recipient of a language: one click in any mail client writes a reply
        that says what it means in the recipient's language."""
        fields = []
        for key, name in (("sign_subject", "subject"), ("sign_body", "body")):
            where = f"strings/{strings_lang}.toml [{key}]"
            value = render_template(compile_template(TEXT_ENV, strings[key], where), base, where)
            fields.append(f"{name}={quote(value.strip(), safe='')}")
        return "?" + "&".join(fields)

    def _attachments(self, lang: str) -> tuple[bytes, ...]:
        """The MIME parts of the files every message in ``lang`` carries (statement.toml
        ``attachments``), each read and encoded once. A language's own file goes under
        the listed name: poster.sr-Latn.pdf reaches its readers as poster.pdf."""
        parts = []
        for attachment in self.statement.attachments:
            path = attachment.path_for(lang)
            part = self._files.get((attachment.name, path))
            if part is None:
                part = attachment_part(attachment.name, self._read_attachment(path))
                self._files[(attachment.name, path)] = part
            parts.append(part)
        return tuple(parts)

    def _read_attachment(self, path: Path) -> bytes:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            listed = self.statement.folder / "statement.toml"
            raise TemplateError(
                f"{path}: attachment file not found (listed under attachments in {listed})"
            ) from None
        except OSError as e:
            raise TemplateError(f"{path}: cannot read the attachment file: {e.strerror}") from None

    def _base_context(self, lang: str) -> dict[str, Any]:
        sender = sender_variables(self._name, self._address)
        base = base_context(self.campaign, self._deadline, lang, wave=self.wave, sender=sender)
        listed = self.published
        base["signatories"] = (
            _Printed(listed.text[lang], listed.html[lang])
            if listed
            else TEXT_ENV.undefined(hint=f"signatories {NEEDS_LIST}")
        )
        base["ask"] = self.statement.ask
        return base

    def _frame(
        self,
        env: SandboxedEnvironment,
        layout: Path,
        text: LanguageText,
        strings: dict[str, str],
        base: dict[str, Any],
        subject: str,
    ) -> _Frame:
        """Render the layout once with the recipient's parts held back, then compile."""
        marks = _Placeholders()
        html = env.autoescape is True
        body_md = marks.protect(text.body)
        if html:
            body: Any = Markup(marks.unwrap_block_tags(markdown_parser().render(body_md)))
        else:
            body = markdown_to_text(body_md)
        context = {
            **base,
            **{name: _Deferred(name, marks) for name in DEFERRED},
            "body": body,
            "subject": marks.protect(subject),
            "preheader": marks.protect(text.preheader),
            # The greeting is chosen per recipient (see context): a slot in the frame.
            "strings": {k: marks.protect(v) for k, v in strings.items()}
            | {"salutation": marks.token("{{ salutation }}")},
        }
        frame = render_template(self._layouts[env], context, str(layout))
        if html:
            import css_inline

            frame = css_inline.inline(frame)
        else:
            frame = re.sub(r"\n{3,}", "\n\n", frame).strip() + "\n"
        return _Frame(env, marks.restore(frame), f"{text.path} (in {layout.name})", base)

    # Fill in per recipient.

    def context(self, recipient: Recipient, lang: str, token: str) -> dict[str, Any]:
        plan, org, contact = self._plan(lang), recipient.org, recipient.contact
        address = self.sender
        sign = plus_address(address, token, SIGN) if self._reply_token else address
        context = {
            **plan.base,
            "org": {
                "id": org.id,
                "name": own_name(org.name, org.languages, org.names, lang),
                "short_name": org.short_name,
                "country": org.country,
                "country_name": _country(org.country, lang),
                "local_name": name_in(org.name, org.languages, org.names, lang),
                "fields": org.fields,
            },
            "contact": None if contact is None else _contact_variables(contact, lang),
            "recipient": {"email": recipient.email},
            "unsubscribe": unsubscribe_address(address, token),
            "reply_to": reply_address(address, token) if self._reply_token else address,
            "sign": {"address": sign, "link": f"mailto:{ascii_address(sign)}{plan.sign_query}"},
        }
        context["signed"] = (
            org.id in self.published.signed
            if self.published
            else TEXT_ENV.undefined(hint=f"signed {NEEDS_LIST}")
        )
        context["salutation"] = self._salutation(plan, context)
        return context

    @staticmethod
    def _salutation(plan: _Plan, context: dict[str, Any]) -> str:
        """The contact's greeting ("Dear comrade Ana Petrović,") when the address has a
        contact and the language's string gives one (it may come out empty, e.g. for
        a form it has no word for); else the organization's ("Dear comrades of …")."""
        for key in SALUTATIONS if context["contact"] else SALUTATIONS[1:]:
            frame = plan.salutations[key]
            try:
                text = frame.render(context).strip()
            except Exception as e:  # noqa: BLE001 - any failure of the string's own code
                raise template_error(e, frame.where) from None
            if text:
                return text
        return ""

    def build(
        self,
        recipient: Recipient,
        *,
        lang: str,
        token: str,
        message_id: str,
        date: datetime | None = None,
        in_reply_to: str | None = None,
        test: bool = False,
    ) -> bytes:
        """The complete message (RFC 5322, CRLF) for one recipient.

        ``in_reply_to``: the Message-ID of the first message a reminder follows up, so
        mail programs show it in that thread. ``test``: a test copy, its subject
        starting with :data:`TEST_PREFIX`.
        """
        if not TOKEN.fullmatch(token):
            raise MailerError(f"reply token {token!r} is not a plain lower-case token")
        for value in (message_id, in_reply_to or message_id):
            if not MESSAGE_ID.fullmatch(value):
                raise MailerError(f"Message-ID {value!r} is not of the form <left@right>")
        plan = self._plan(lang)
        context = self.context(recipient, lang, token)  # ConfigError if no sender address
        try:
            # A block tag on a line of its own ({% if signed %}) leaves a blank line.
            text = _BLANK_LINES.sub("\n\n", plan.plain.render(context))
            html = plan.html.render(context)
            subject = plan.subject_line
            if subject is None or test:
                title = plan.subject.render(context)
                subject = header_line("Subject", TEST_PREFIX + title if test else title)
        except MailerError:
            raise
        except Exception as e:  # noqa: BLE001 - any failure of the template's own code
            raise self._locate(e, plan, context) from None
        try:
            # the name as the message writes it: a Serbian own name in the message's script
            to = address_header("To", context["org"]["name"], recipient.email)
        except ValueError as e:
            raise MailerError(f"{recipient.org.name}: address {e}") from None
        message = (to, subject, message_id, in_reply_to)
        return self._assemble(plan, message, context, date, text, html)

    def _assemble(
        self,
        plan: _Plan,
        message: tuple[str, str, str, str | None],
        context: dict[str, Any],
        when: datetime | None,
        text: str,
        html: str,
    ) -> bytes:
        """``message``: its To and Subject lines, Message-ID and the one it follows up."""
        assert self._from_line is not None
        to, subject, message_id, in_reply_to = message
        head = [self._from_line, to, subject]
        head.append(date_line((when or now()).replace(microsecond=0)))
        head.append(f"Message-ID: {message_id}\r\n")
        if in_reply_to:  # the thread of the first message (RFC 5322 3.6.4)
            head += [f"In-Reply-To: {in_reply_to}\r\n", f"References: {in_reply_to}\r\n"]
        if self._reply_token:
            head.append(address_header("Reply-To", self._name, context["reply_to"]))
        unsubscribe = f"<mailto:{ascii_address(context['unsubscribe'])}>"
        if self._unsubscribe_url:
            token = context["unsubscribe"].split("+unsub-", 1)[1].split("@", 1)[0]
            unsubscribe = f"<{_one_click_url(self._unsubscribe_url, token)}>,\r\n {unsubscribe}"
        head.append(f"List-Unsubscribe: {unsubscribe}\r\n")
        if self._unsubscribe_url:
            head.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
        head.append(plan.content_language)
        parts = [body_part("text/plain", text), body_part("text/html", html)]
        return multipart_message(head, parts, plan.attachments)

    def _locate(self, error: Exception, plan: _Plan, context: dict) -> TemplateError:
        """Find which file and line a render error comes from (only on the error path)."""
        text = plan.text
        first = self.statement.text(text.lang)
        pieces: list[tuple[str, str]] = [
            (f"{first.path if first else text.path} (subject)", plan.subject_source),
            (str(text.path), text.padded_body),
            (f"{text.path} (preheader)", text.preheader),
        ]
        pieces += [
            (f"strings/{plan.strings_file}.toml [{k}]", v)
            for k, v in plan.strings.items()
            if k not in SALUTATIONS  # rendered, and located, on their own (context)
        ]
        for where, source in pieces:
            try:
                render_template(compile_template(TEXT_ENV, source, where), context, where)
            except TemplateError as located:
                return located
        # Not in the statement's own text: then in a layout file, run as itself.
        frame = {**context, "body": "", "subject": "", "preheader": "", "strings": plan.strings}
        for env, path in ((HTML_ENV, self.layout.html), (TEXT_ENV, self.layout.text)):
            try:
                render_template(self._layouts[env], frame, str(path))
            except TemplateError as located:
                return located
        return template_error(error, f"{text.path} (in the layout)")


def _contact_variables(contact: Contact, lang: str) -> dict[str, Any]:
    """``contact.*``. A person whose first language is Serbian has their name written
    in the script of a Serbian message ("Друже Марко"), by the rule organizations'
    names follow (:func:`~mailer.lang.own_name`); any other name stays as written."""
    name = own_name(contact.name, contact.languages, {}, lang)
    return {
        "name": name,
        "first_name": replace(contact, name=name).first_name,
        "role": contact.role,
        "gender": contact.gender,
    }


def _fixed_subject(subject: jinja2.Template, base: dict[str, Any]) -> str | None:
    """The encoded Subject line when it needs nothing of the recipient, else None."""
    try:
        return header_line("Subject", subject.render(base))
    except Exception:  # noqa: BLE001 - rendered (and reported) per recipient instead
        return None


def _one_click_url(url: str, token: str) -> str:
    if "{token}" in url:
        return url.replace("{token}", token)
    return f"{url}{'&' if '?' in url else '?'}token={token}"


@cache
def _country(code: str | None, lang: str) -> str:
    return country_name(code, lang) if code else ""


def statement_for(campaign: Mapping[str, Any]) -> Statement:
    return load_statement(Path(campaign["statement_dir"]))


def campaign_deadline(campaign: Mapping[str, Any], statement: Statement) -> date | None:
    """The campaign's deadline, else the one in statement.toml."""
    deadline = campaign.get("deadline") or statement.deadline
    return date.fromisoformat(str(deadline)) if deadline else None


def campaign_variables(
    campaign: Mapping[str, Any], deadline: date | None, lang: str
) -> dict[str, Any]:
    """``campaign.*`` in templates: the same in every e-mail and on the public page."""
    return {
        "slug": campaign["slug"],
        "title": campaign["title"],
        "kind": campaign["kind"],
        "deadline": format_date(deadline, lang) if deadline else None,
        "deadline_iso": deadline.isoformat() if deadline else None,
    }


def sender_variables(name: str | None, address: str | None) -> dict[str, Any]:
    """``sender.*`` in templates: the name falls back to the address."""
    return {"name": name or address, "address": address}


def base_context(
    campaign: Mapping[str, Any],
    deadline: date | None,
    lang: str,
    *,
    wave: int,
    sender: dict[str, Any] | jinja2.Undefined,
) -> dict[str, Any]:
    """What every text of one language sees, e-mail or public page alike."""
    rtl = is_rtl(lang)
    return {
        "lang": lang,
        "dir": "rtl" if rtl else "ltr",
        "rtl": rtl,
        "align": "right" if rtl else "left",
        "wave": wave,
        "is_reminder": wave >= 1,
        "campaign": campaign_variables(campaign, deadline, lang),
        "sender": sender,
    }


def public_statement(
    settings: Settings, campaign: Mapping[str, Any], lang: str, *, fmt: str
) -> str:
    """The statement for the public (``signatories --with-statement``), in the language
    :func:`~mailer.lang.negotiate` picks for ``lang``, as ``txt``, ``md`` or ``html``.

    The statement runs with each recipient-level name (``org``, ``unsubscribe``…)
    standing for no one in particular: a paragraph that prints one is left out, and
    so is a block that depends on one (``{% if org.country == "GB" %}``), however
    many paragraphs it spans. The rest is filled in as in the e-mails (a misspelt
    name is an error there too); the subject (often "please sign by…") is not used.
    """
    statement = statement_for(campaign)
    chosen = negotiate([lang], statement.available, statement.default_language)
    text = statement.text(chosen)
    assert text is not None  # chosen comes from statement.available
    address = settings["sender.address"]
    sender = (
        sender_variables(settings["sender.name"], address)
        if address
        else TEXT_ENV.undefined(hint="sender has no value: [sender] address is not set")
    )
    deadline = campaign_deadline(campaign, statement)
    marks = _Placeholders()
    context = base_context(campaign, deadline, chosen, wave=0, sender=sender)
    # The list is printed under the statement on the public page: not inside it too.
    context |= {name: _Deferred(name, marks) for name in (*DEFERRED, "signatories")}
    where = str(text.path)
    body = render_template(compile_template(TEXT_ENV, text.padded_body, where), context, where)
    personal = re.compile(marks.pattern.pattern, re.IGNORECASE)  # |upper changes case
    paragraphs = re.split(r"\n\s*\n", body.strip())
    body = "\n\n".join(p.strip() for p in paragraphs if not personal.search(p))
    if fmt == "html":
        return str(markdown_parser().render(body))
    return body if fmt == "md" else markdown_to_text(body)


def build_factory(
    settings: Settings,
    campaign: Mapping[str, Any],
    *,
    wave: int = 0,
    trial: bool = False,
    lists: Callable[[Statement], PublishedList | None] | None = None,
) -> MessageFactory:
    """Load the campaign's statement and the layout, and compile every language once.

    ``trial`` (check, preview, campaign new: nothing is sent) lets
    :data:`PLACEHOLDER_SENDER` stand in for an unset ``[sender] address``.
    ``lists`` gives the list a statement's ``list_from`` names (the caller reads the
    database: see ``campaigns.factory_for``).
    """
    if trial and not settings["sender.address"]:
        settings = replace(
            settings, values={**settings.values, "sender.address": PLACEHOLDER_SENDER}
        )
    layout = Layout.find(settings.path("templates.path"))
    statement = statement_for(campaign)
    published = lists(statement) if lists else None
    return MessageFactory(settings, campaign, statement, layout, wave=wave, published=published)
